"""Rendered JSON replies through the response cache, compressed once per cached entry.

GZipMiddleware would compress a cached reply again for every request; here the gzip bytes are cached beside
the plain ones (``Content-Encoding`` set, so the middleware passes them through). ``cached_json_async``
answers a cache hit on the event loop (a dictionary lookup) and sends only misses to the thread pool, so a
permalink opened by a whole class costs no thread hop.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.cache import ResponseCache
from app.responses import JSONBytes
from app.settings import Settings


def accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


def cached_json(
    request: Request, settings: Settings, cache: ResponseCache, key: str, render: Callable[[], bytes]
) -> Response:
    """The reply for ``key``: from the cache or ``render()``; X-Cache says which."""
    body, hit = cache.get_or_render(key, render)
    headers = {"x-cache": "hit" if hit else "miss", "vary": "Accept-Encoding"}
    if accepts_gzip(request) and len(body) >= settings.gzip_min_bytes:
        plain = body
        body, _ = cache.get_or_render(
            f"{key}/gzip", lambda: gzip.compress(plain, settings.gzip_level, mtime=0)
        )
        headers["content-encoding"] = "gzip"
    return JSONBytes(body, headers=headers)


async def cached_json_async(
    request: Request, settings: Settings, cache: ResponseCache, key: str, render: Callable[[], bytes]
) -> Response:
    """``cached_json``, with the render (and a first compression) in the thread pool, a hit on the loop."""
    body = cache.get(key) if cache.max_bytes > 0 else None
    if body is not None:
        zipped = accepts_gzip(request) and len(body) >= settings.gzip_min_bytes
        if not zipped:
            return JSONBytes(body, headers={"x-cache": "hit", "vary": "Accept-Encoding"})
        compressed = cache.get(f"{key}/gzip")
        if compressed is not None:
            headers = {"x-cache": "hit", "vary": "Accept-Encoding", "content-encoding": "gzip"}
            return JSONBytes(compressed, headers=headers)
    return await run_in_threadpool(cached_json, request, settings, cache, key, render)
