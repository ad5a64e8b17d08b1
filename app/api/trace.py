"""POST /trace (the whole trace, of one sequence or a batch), /trace/step (one timestep) and /trace/export
(JSON, CSV or NPZ file).

Traces are computed in the thread pool, so a large one never holds up the event loop, and the heaviest in a
heavy-work process (app.http.heavy_lane); a cache hit on /trace is answered on the loop. With
UNROLLED_INLINE_COMPUTE > 0, a seeded /trace whose forward pass is at most that many multiply-adds is
computed on the loop instead (the thread hop costs more than such a trace).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api.deps import CacheDep, SettingsDep, StoreDep
from app.api.docs import BODY_ERRORS, errors
from app.api.replies import computed_file, computed_json
from app.errors import UnprocessableError
from app.http.cache import request_key
from app.http.responses import JSONBytes
from app.schemas.common import NonNegative
from app.schemas.requests import TraceBatchRequest, TraceRequest
from app.schemas.responses import BatchTraceResponse, StepResponse, TraceResponse
from app.services.batches import run_batch
from app.services.limits import Limits
from app.services.trace import run_trace, seeded_forward_cost
from app.storage.models import ModelStore
from app.wire.export import MEDIA_TYPES, export
from app.wire.serialize import API_VERSION, dumps, step_payload
from app.wire.what_if_payload import trace_reply

router = APIRouter(prefix="/trace", tags=["trace"], responses={**BODY_ERRORS, **errors(404)})


TimestepQuery = Annotated[int | None, Query(ge=0, le=2**31, description="timestep, from 0")]


class StepRequest(TraceRequest):
    """A trace request plus the timestep to return (or give ``t`` as a query parameter)."""

    t: NonNegative | None = None


@router.post(
    "",
    summary="Trace a sequence (or a batch): every gate, state and output at every timestep",
    description="One sequence in `input` gets one trace; several in `inputs` get `{api_version, sequences, "
    "traces}`, one trace per sequence in order, each exactly what that sequence alone gets. A batch shares "
    "the network, weights, h0/c0 and options; its compute budget and reply size are counted on the sum over "
    "its sequences, and it holds at most UNROLLED_MAX_BATCH sequences (GET /api/v1/limits).",
    response_class=JSONBytes,
    responses={200: {"model": TraceResponse | BatchTraceResponse}},
)
async def trace(
    request: Request, req: TraceBatchRequest, settings: SettingsDep, store: StoreDep, cache: CacheDep
) -> Response:
    key = request_key("trace", req)

    def render() -> bytes:
        return trace_body(req, store, settings.limits)

    if settings.inline_compute > 0:
        cost = seeded_forward_cost(req, settings.limits)
        if cost is not None and cost <= settings.inline_compute:
            # Small enough to run here: a thread hop costs more than such a trace while the GIL is contended
            # (measured in bench/results/server.md), and the loop is held no longer than by a few requests.
            # A small run can still record many numbers: the heavy lane takes those too.
            return await computed_json(request, settings, cache, key, render, "trace", inline=True)
    return await computed_json(request, settings, cache, key, render, "trace")


def trace_body(req: TraceBatchRequest, store: ModelStore | None, limits: Limits) -> bytes:
    """The reply to POST /trace: one trace, or {api_version, sequences, traces} for a batch."""
    results = run_batch(req, store=store, limits=limits)
    if req.inputs is None:
        return dumps(trace_reply(results[0]))
    return dumps(
        {
            "api_version": API_VERSION,
            "sequences": len(results),
            "traces": [trace_reply(r) for r in results],
        }
    )


@router.post(
    "/step",
    summary="The numbers of one timestep t only",
    response_class=JSONBytes,
    responses={200: {"model": StepResponse}},
)
async def step(
    request: Request,
    req: StepRequest,
    settings: SettingsDep,
    store: StoreDep,
    cache: CacheDep,
    t: TimestepQuery = None,
) -> Response:
    if t is not None and req.t is not None and t != req.t:
        raise UnprocessableError(f"the query gives t={t} and the body t={req.t}; give one", ("query", "t"))
    chosen = t if t is not None else req.t
    if chosen is None:
        raise UnprocessableError("give the timestep as ?t=K or a 't' field", ("query", "t"))
    key = request_key("step", req.model_copy(update={"t": None}), str(chosen))
    render = lambda: step_body(req, chosen, store, settings.limits)  # noqa: E731
    return await computed_json(request, settings, cache, key, render, "step", chosen)


def step_body(req: TraceRequest, t: int, store: ModelStore | None, limits: Limits) -> bytes:
    """The reply to POST /trace/step: the numbers of timestep ``t`` (422 past the last one)."""
    result = run_trace(req, store=store, limits=limits)
    if t >= result.trace.num_steps:
        last = result.trace.num_steps - 1
        raise UnprocessableError(f"t={t} is past the last timestep {last}", ("query", "t"))
    return dumps(step_payload(result, t))


EXPORT_FORMATS = Literal["json", "csv", "npz", "svg", "png"]
SLIDE_FORMATS = ("svg", "png")
EXPORT_MEDIA_ALL = {**MEDIA_TYPES, "svg": "image/svg+xml", "png": "image/png"}


@router.post(
    "/export",
    summary="The trace as a file: json, csv (long format) or npz; or its picture as a slide: svg or png",
    description="`format=json|csv|npz` gives the numbers. `format=svg|png` gives the unrolled view's picture at "
    "step `t` (query parameter, default 0) as a slide: the same standalone SVG the page's download gives (every "
    "value in a `<title>`, the picture's `<title>`/`<desc>`, the colour legends and a caption naming the model, "
    "the input and the step), or that SVG drawn as a PNG at twice its size. `t` past the last step is a 422; "
    "a sequence too long to draw, or a PNG over the pixel limit, is a 413 (before anything is drawn).",
    responses={
        200: {"content": {media: {} for media in EXPORT_MEDIA_ALL.values()}, "description": "The trace file"},
        **errors(413),
    },
)
async def export_trace(
    request: Request,
    req: TraceRequest,
    settings: SettingsDep,
    store: StoreDep,
    cache: CacheDep,
    format: EXPORT_FORMATS = "json",
    t: TimestepQuery = None,
) -> Response:
    if t is not None and format not in SLIDE_FORMATS:
        raise UnprocessableError(f"t picks the step of a slide: give it with format=svg or png, not {format}",
                                 ("query", "t"))
    step = t or 0
    # A PNG is its SVG (made and cached like any export, checked against the PNG pixel limit) drawn by resvg
    # where the pages draw theirs: in a heavy-work process when the server has them, as drawing holds the GIL.
    made = "png-svg" if format == "png" else format
    key = request_key("export", req, made if format not in SLIDE_FORMATS else f"{made}:{step}")
    render = lambda: export_body(req, made, store, settings.limits, step)  # noqa: E731
    body, hit = await computed_file(request, settings, cache, key, render, "export", made, step)
    if format == "png":
        from app.web.picture_routes import draw_png

        body = await draw_png(request, body.decode())
    name = f"trace-t{step}.{format}" if format in SLIDE_FORMATS else f"trace.{format}"
    headers = {
        "content-disposition": f'attachment; filename="{name}"',
        "x-cache": "hit" if hit else "miss",
    }
    return Response(body, media_type=EXPORT_MEDIA_ALL[format], headers=headers)


def export_body(req: TraceRequest, fmt: str, store: ModelStore | None, limits: Limits, t: int = 0) -> bytes:
    """The file of ``fmt``: the trace's numbers (app.wire.export), or its slide at step ``t`` (app.web.trace_slide:
    ``svg``, ``png``, or ``png-svg``, the SVG of a PNG, refused when over the PNG pixel limit)."""
    result = run_trace(req, store=store, limits=limits)
    if fmt in (*SLIDE_FORMATS, "png-svg"):
        from app.web.trace_slide import slide_bytes  # the picture is drawn by the pages' own code

        return slide_bytes(result, req, fmt, t)
    return export(result, fmt)
