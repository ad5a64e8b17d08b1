"""What a heavy-work process (app.http.heavy_lane) can compute: each job turns a request body, exactly as the
client sent it, into the reply bytes the route would have made itself, through the same functions; or draws a
slide's SVG (already checked against its pixel limit) as a PNG.

The body is validated again here with the route's own pydantic model, so the child reads the request exactly
as the route did; the route has already checked every limit before handing it over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.settings import Settings
from app.storage import open_database
from app.storage.models import ModelStore

_context: dict[str, Any] = {}


def configure(settings: Settings) -> None:
    """Once per child: the store and the limits its jobs use."""
    _context["store"] = ModelStore(open_database(settings, migrate=False))  # the server migrated it
    _context["limits"] = settings.limits


def _jobs() -> dict[str, Callable[..., bytes]]:
    from app.api.gradients import gradients_body
    from app.api.trace import StepRequest, export_body, step_body, trace_body
    from app.schemas.requests import GradientRequest, TraceBatchRequest, TraceRequest
    from app.web.slides import png

    store, limits = _context["store"], _context["limits"]
    return {
        "trace": lambda body: trace_body(TraceBatchRequest.model_validate_json(body), store, limits),
        "step": lambda body, t: step_body(StepRequest.model_validate_json(body), t, store, limits),
        "export": lambda body, fmt, t=0: export_body(TraceRequest.model_validate_json(body), fmt, store, limits, t),
        "gradients": lambda body: gradients_body(GradientRequest.model_validate_json(body), store, limits),
        "png": png,  # a slide's SVG (and zoom), already bounded by slides.MAX_PIXELS or the animation budget
    }


def run(job: str, *args: Any) -> bytes:
    return _jobs()[job](*args)
