"""docs/recipes.md runs as written: every Python block, in order, in one namespace (as a notebook's cells),
against the real app. Its ``httpx.Client(base_url=...)`` is answered by a TestClient of the app, which is an
httpx.Client itself, so the blocks' requests and replies are exactly those of a live server."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.torch

RECIPES = Path(__file__).resolve().parents[2] / "docs" / "recipes.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", RECIPES.read_text(encoding="utf-8"), re.DOTALL | re.MULTILINE)


def test_every_block_is_python_and_there_are_enough() -> None:
    fences = re.findall(r"^```(\w*)", RECIPES.read_text(encoding="utf-8"), re.MULTILINE)
    languages = fences[0::2]  # opening fences; the closing ones are bare
    assert languages and set(languages) == {"python"}, languages
    assert len(BLOCKS) == len(languages) >= 8


def test_the_recipes_run(make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    pytest.importorskip("torch")
    live = make_client()
    opened: list[str] = []

    def client(base_url: str = "", **options: Any) -> TestClient:
        opened.append(base_url)
        return TestClient(live.app, base_url=base_url, raise_server_exceptions=False)

    monkeypatch.setattr(httpx, "Client", client)
    namespace: dict[str, object] = {}
    for k, block in enumerate(BLOCKS):
        exec(compile(block, f"{RECIPES.name}, block {k + 1}", "exec"), namespace)
    assert opened == ["http://localhost:8000/api/v1"]
    printed = capsys.readouterr().out.splitlines()
    # What the blocks print is what their comments say they print.
    expected = [
        m.group(1).strip()
        for block in BLOCKS
        for line in block.splitlines()
        if line.lstrip().startswith("print(") and (m := re.search(r"#\s*(.+)$", line))
    ]
    commented = [line for block in BLOCKS for line in block.splitlines() if line.lstrip().startswith("print(")]
    assert len(printed) == len(commented)
    shown = [p for p, line in zip(printed, commented, strict=True) if "#" in line]
    assert shown == expected
