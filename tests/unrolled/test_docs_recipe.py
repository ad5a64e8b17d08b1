"""docs/python.md runs as written: its Python blocks, in order, in one namespace (as notebook cells run)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.torch

RECIPE = Path(__file__).resolve().parents[2] / "docs" / "python.md"


def test_the_notebook_recipe_runs(monkeypatch, capsys) -> None:
    pytest.importorskip("torch")
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    cells = re.findall(r"```python\n(.*?)```", RECIPE.read_text(encoding="utf-8"), re.DOTALL)
    assert len(cells) >= 6
    namespace: dict[str, object] = {}
    for k, cell in enumerate(cells):
        exec(compile(cell, f"{RECIPE.name}, cell {k + 1}", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "refused: these tensors are a vanilla RNN" in printed
    assert "rnn relu 5" in printed
    assert len(opened) == 1 and opened[0].startswith("file://")
    Path(str(namespace["page"])).unlink()
