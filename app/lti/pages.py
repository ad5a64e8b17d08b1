"""The HTML the LTI routes answer with: Jinja templates in app/lti/templates, autoescaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(("html",)))


def page(name: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    return HTMLResponse(env.get_template(name).render(**context), status_code=status, headers=headers)


def refused(status: int, reason: str) -> HTMLResponse:
    """The page a refused LTI request shows inside the LMS frame: what went wrong and what to do."""
    return page("refused.html", status=status, title="Unrolled could not open this activity", reason=reason)
