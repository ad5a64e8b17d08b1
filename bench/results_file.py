"""Where every benchmark leaves its figures: bench/results/<name>.md (the table a person reads, also printed) and
bench/results/<name>.json (the same run's numbers, for comparing runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(name: str, text: str, data: Any) -> None:
    """Print ``text`` and write it to ``name``.md, and ``data`` to ``name``.json."""
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.md").write_text(text)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
