"""The FastAPI application: ``create_app(settings)`` wires routers, handlers, middleware and the store.

Middleware, outermost first: security headers (and the last-resort 500), CORS (only with an allowlist),
rate limit on /api, body size limit, compression (zstd, br or gzip: app.http.compress_middleware). Swagger UI
is off (it loads from a CDN and needs inline script, which our CSP forbids); the schema is at /openapi.json.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.api import API_PREFIX
from app.api import router as api_router
from app.api.schema_limits import state_limits
from app.http import handlers
from app.http.cache import ResponseCache
from app.http.compress_middleware import CompressReplies
from app.http.compression import Codecs
from app.http.heavy_lane import HeavyLane
from app.http.ratelimit import RateLimit
from app.http.security import BodySizeLimit, HeadAsGet, SecurityHeaders
from app.http.static_files import CompressedFiles
from app.lti.router import router as lti_router
from app.lti.service import LtiService
from app.lti.store import DatabaseLtiStore
from app.services.training import JobManager
from app.settings import Settings
from app.storage import open_database
from app.storage.models import ModelStore

DESCRIPTION = """Unrolled records every hidden state, cell state and gate activation of a recurrent network
(vanilla RNN, LSTM, GRU) at every timestep. Requests are validated strictly (unknown fields, booleans for
integers and non-finite numbers are refused) and checked against the server's size limits and compute budget
(GET /api/v1/limits). Numbers are rounded to `precision` significant digits (1 to 17; at 17 every float64
comes back exactly as computed); a number that is not finite is `null`, and `diverged_at` is the first
timestep holding one."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="Unrolled API",
        version="1.0.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.database = database = open_database(settings)  # migrated to the current schema
    app.state.store = ModelStore(database)
    app.state.cache = ResponseCache(settings.cache_bytes)
    app.state.codecs = Codecs(settings.zstd_level, settings.brotli_quality, settings.gzip_level)
    app.state.compressed_files = CompressedFiles()  # static files, once per encoding (app.http.static_files)
    app.state.jobs = JobManager(
        app.state.store, settings.limits, max_jobs=settings.limits.max_training_jobs, threads=settings.training_threads
    )
    app.state.lti = LtiService.from_env(DatabaseLtiStore(database))
    app.state.heavy = HeavyLane(settings)
    handlers.install(app)
    app.include_router(api_router)
    app.include_router(lti_router)
    _include_web(app)
    state_limits(app, settings.limits)

    # add_middleware wraps the app so far: the last one added is the outermost.
    app.add_middleware(CompressReplies, codecs=app.state.codecs, minimum_size=settings.compress_min_bytes)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        upload_bytes=settings.max_upload_bytes,
        upload_paths=(f"{API_PREFIX}/models",),
    )
    if settings.rate_limit_per_minute > 0:
        app.add_middleware(
            RateLimit, per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst
        )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["content-type"],
        )
    app.add_middleware(HeadAsGet)
    app.add_middleware(
        SecurityHeaders,
        embed_frame_ancestors=settings.embed_frame_ancestors,
        lti_ancestors=app.state.lti.frame_ancestors,
    )
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size the thread pool that runs the (CPU-bound, GIL-holding) routes: a few threads keep requests moving
    without the convoy of dozens of threads taking turns at the GIL. Each worker claims queued training jobs
    from its start to its end."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.settings.threads
    app.state.jobs.open()
    yield
    await anyio.to_thread.run_sync(app.state.jobs.close)  # its runs stop and write their final state
    app.state.heavy.close()
    app.state.database.close()  # a pool's connections end now, not when the server notices


def _include_web(app: FastAPI) -> None:
    """The HTML front end (app.web), owned separately; the API works without it."""
    from app.web.router import router as web_router

    app.include_router(web_router)
