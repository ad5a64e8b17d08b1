"""Rendered JSON replies through the response cache, compressed once per cached entry and encoding.

The compression middleware would compress a cached reply again for every request; here each encoding's bytes
are cached beside the plain ones (under ``key/zstd``, ``key/br``, ``key/gzip``, with ``Content-Encoding``
set, so the middleware passes them through), and a cache hit sends stored bytes without compressing
anything. ``cached_json_async`` answers a cache hit on the event loop (a dictionary lookup) and sends only
misses to the thread pool, so a permalink opened by a whole class costs no thread hop.

``computed_json`` and ``computed_file`` are the computing routes' way in: a run that turns out heavier than
UNROLLED_HEAVY_COMPUTE or UNROLLED_HEAVY_NUMBERS (app.services.limits.OffloadRequested, raised once every limit is
met and before any number is computed) is handed, as the body the client sent, to a heavy-work process
(app.http.heavy_lane).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.http.cache import ResponseCache
from app.http.compression import Codecs, negotiate
from app.http.heavy_lane import LaneUnavailable
from app.http.responses import JSONBytes
from app.services.limits import OFFLOAD_ABOVE, Offload, OffloadRequested
from app.settings import Settings


def _encoding_for(request: Request, settings: Settings, body: bytes) -> str | None:
    """The client's preferred encoding, or None when it wants none or the reply is too small to gain."""
    if len(body) < settings.compress_min_bytes:
        return None
    return negotiate(request.headers.get("accept-encoding"))


def _reply(body: bytes, hit: bool, encoding: str | None) -> JSONBytes:
    headers = {"x-cache": "hit" if hit else "miss", "vary": "Accept-Encoding"}
    if encoding is not None:
        headers["content-encoding"] = encoding
    return JSONBytes(body, headers=headers)


def cached_json(
    request: Request, settings: Settings, cache: ResponseCache, key: str, render: Callable[[], bytes]
) -> Response:
    """The reply for ``key``: from the cache or ``render()``; X-Cache says which."""
    body, hit = cache.get_or_render(key, render)
    encoding = _encoding_for(request, settings, body)
    if encoding is not None:
        codecs: Codecs = request.app.state.codecs
        plain = body
        body, _ = cache.get_or_render(f"{key}/{encoding}", lambda: codecs.compress(plain, encoding))
    return _reply(body, hit, encoding)


async def cached_json_async(
    request: Request, settings: Settings, cache: ResponseCache, key: str, render: Callable[[], bytes]
) -> Response:
    """``cached_json``, with the render (and a first compression) in the thread pool, a hit on the loop."""
    body = cache.get(key) if cache.max_bytes > 0 else None
    if body is not None:
        encoding = _encoding_for(request, settings, body)
        if encoding is None:
            return _reply(body, True, None)
        compressed = cache.get(f"{key}/{encoding}")
        if compressed is not None:
            return _reply(compressed, True, encoding)
    return await run_in_threadpool(cached_json, request, settings, cache, key, render)


T = TypeVar("T")


async def _offloading(
    request: Request, settings: Settings, here: Callable[[], Awaitable[T]], job: str, args: tuple[Any, ...]
) -> T | bytes:
    """``here()``, or, when its run is heavy, the reply bytes of ``job`` computed by the heavy lane."""
    lane = request.app.state.heavy
    thresholds = Offload(settings.heavy_compute, settings.heavy_numbers) if lane.enabled else None
    token = OFFLOAD_ABOVE.set(thresholds)
    try:
        return await here()
    except OffloadRequested:
        pass
    finally:
        OFFLOAD_ABOVE.reset(token)
    try:
        return await lane.run(job, await request.body(), *args)
    except LaneUnavailable:
        return await here()  # OFFLOAD_ABOVE is back at None: computed here


async def computed_json(
    request: Request,
    settings: Settings,
    cache: ResponseCache,
    key: str,
    render: Callable[[], bytes],
    job: str,
    *args: Any,
    inline: bool = False,
) -> Response:
    """``cached_json_async`` (``cached_json`` on the event loop when ``inline``), heavy runs computed by ``job``
    (app.api.heavy_jobs) in a heavy-work process."""

    async def on_loop() -> Response:
        return cached_json(request, settings, cache, key, render)

    here = on_loop if inline else lambda: cached_json_async(request, settings, cache, key, render)
    reply = await _offloading(request, settings, here, job, args)
    if isinstance(reply, Response):
        return reply
    return await run_in_threadpool(cached_json, request, settings, cache, key, lambda: reply)


async def computed_file(
    request: Request,
    settings: Settings,
    cache: ResponseCache,
    key: str,
    render: Callable[[], bytes],
    job: str,
    *args: Any,
) -> tuple[bytes, bool]:
    """The cached or rendered bytes of a file reply (and whether they were cached), heavy runs as above."""
    here = lambda: run_in_threadpool(cache.get_or_render, key, render)  # noqa: E731
    reply = await _offloading(request, settings, here, job, args)
    if isinstance(reply, tuple):
        return reply
    cache.put(key, reply)
    return reply, False
