"""POST /trace (the whole trace, of one sequence or a batch), /trace/step (one timestep) and /trace/export
(JSON, CSV or NPZ file).

Traces are computed in the thread pool, so a large one never holds up the event loop, and the heaviest in a
heavy-work process (app.heavy_lane); a cache hit on /trace is answered on the loop. With
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
from app.batches import run_batch
from app.cache import request_key
from app.errors import UnprocessableError
from app.export import MEDIA_TYPES, export
from app.limits import Limits
from app.responses import JSONBytes
from app.schemas.common import NonNegative
from app.schemas.requests import TraceBatchRequest, TraceRequest
from app.schemas.responses import BatchTraceResponse, StepResponse, TraceResponse
from app.serialize import API_VERSION, dumps, step_payload
from app.service import run_trace, seeded_forward_cost
from app.storage.models import ModelStore
from app.what_if_payload import trace_reply

EXPORT_MEDIA = ("application/json", "text/csv", "application/octet-stream")
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


@router.post(
    "/export",
    summary="The trace as a file: json, csv (long format) or npz",
    responses={200: {"content": {media: {} for media in EXPORT_MEDIA}, "description": "The trace file"}},
)
async def export_trace(
    request: Request,
    req: TraceRequest,
    settings: SettingsDep,
    store: StoreDep,
    cache: CacheDep,
    format: Literal["json", "csv", "npz"] = "json",
) -> Response:
    key = request_key("export", req, format)
    render = lambda: export_body(req, format, store, settings.limits)  # noqa: E731
    body, hit = await computed_file(request, settings, cache, key, render, "export", format)
    headers = {
        "content-disposition": f'attachment; filename="trace.{format}"',
        "x-cache": "hit" if hit else "miss",
    }
    return Response(body, media_type=MEDIA_TYPES[format], headers=headers)


def export_body(req: TraceRequest, fmt: str, store: ModelStore | None, limits: Limits) -> bytes:
    return export(run_trace(req, store=store, limits=limits), fmt)
