"""The one Jinja2 environment every page and fragment is rendered with (templates/ at the repository root)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from app.web.math_text import FILTERS

ROOT = Path(__file__).resolve().parents[2]
templates = Jinja2Templates(directory=ROOT / "templates")
templates.env.filters.update(FILTERS)
