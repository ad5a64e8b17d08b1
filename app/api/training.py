"""Training jobs: start one, follow its progress as Server-Sent Events, cancel it, read the result's id.

    POST /training                  -> 202 {id, state, ...}  (state 'running', or 'queued' until a slot frees)
    GET  /training/{id}             -> status and the last progress record
    GET  /training/{id}/events      -> text/event-stream: one 'progress' event per step, then one 'end'
    POST /training/{id}/cancel      -> the run stops after its current step

The finished model is stored (result_id) and traces like any stored model: weights {source: 'stored', id}.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
import orjson
from fastapi import APIRouter, Path, Request
from starlette.responses import Response, StreamingResponse

from app.api.docs import BODY_ERRORS, COMMON, errors
from app.http.responses import JSONBytes
from app.schemas.training import TrainingRequest
from app.services.training import JobManager
from app.storage.jobs import ACTIVE

router = APIRouter(prefix="/training", tags=["training"], responses=COMMON)

JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="the id POST /training returned")]
POLL_SECONDS = 0.1
KEEPALIVE_POLLS = 150  # a comment line every ~15 s keeps proxies from closing a quiet stream


def jobs(request: Request) -> JobManager:
    return request.app.state.jobs


@router.post(
    "",
    status_code=202,
    summary="Start training a task's model (its default, or with another cell or size)",
    response_class=JSONBytes,
    responses={**BODY_ERRORS, **errors(404)},
)
def start(request: Request, req: TrainingRequest) -> Response:
    job = jobs(request).start(req.task, req.options, req.settings.overrides(), req.model.model_dump())
    return JSONBytes(job.status(), status_code=202)


@router.get(
    "/{job_id}",
    summary="A training job's state, last progress and result id",
    response_class=JSONBytes,
    responses=errors(404, 422),
)
def status(request: Request, job_id: JobId) -> Response:
    return JSONBytes(jobs(request).get(job_id).status())


@router.post(
    "/{job_id}/cancel",
    status_code=202,
    summary="Stop a training job after its current step",
    response_class=JSONBytes,
    responses=errors(404, 422),
)
def cancel(request: Request, job_id: JobId) -> Response:
    return JSONBytes(jobs(request).cancel(job_id).status(), status_code=202)


@router.get(
    "/{job_id}/events",
    summary="Progress as Server-Sent Events",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "progress events"},
        **errors(404, 422),
    },
)
def events(request: Request, job_id: JobId) -> Response:
    manager = jobs(request)
    manager.get(job_id)  # 404 before the stream starts
    return StreamingResponse(
        event_stream(manager, job_id),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


def sse(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def event_stream(manager: JobManager, job_id: str) -> AsyncIterator[bytes]:
    """Every progress record from the first, then an 'end' event with the final status; bounded by the run.
    Works from any worker: a job another process runs is read from the shared file."""
    sent = 0
    quiet = 0
    while True:
        state, records = await anyio.to_thread.run_sync(manager.progress_after, job_id, sent)
        for record in records:
            yield sse("progress", record)
        quiet = 0 if records else quiet + 1
        sent += len(records)
        if state not in ACTIVE:  # a queued job's stream waits for its first record
            status = await anyio.to_thread.run_sync(manager.get, job_id)
            yield sse("end", status.status())
            return
        if quiet >= KEEPALIVE_POLLS:
            quiet = 0
            yield b": keep-alive\n\n"
        await anyio.sleep(POLL_SECONDS)
