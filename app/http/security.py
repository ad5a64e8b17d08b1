"""Pure-ASGI middleware that guards every response: security headers, a body size limit, a last-resort 500.

Headers on every response (errors included):

    Content-Security-Policy  default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;
                             frame-ancestors 'none'; base-uri 'none'; form-action 'self'  (no 'unsafe-inline')
    X-Content-Type-Options   nosniff
    Referrer-Policy          strict-origin-when-cross-origin
    Permissions-Policy       camera=(), microphone=(), geolocation=(), payment=(), usb=()  (none is ever needed)
    X-Frame-Options          DENY

except under /embed and /lti, where frame-ancestors is 'self' plus the configured allowlist plus the origins of
the registered LTI platforms (``lti_ancestors``, asked per response) and X-Frame-Options is left out (it cannot
express an allowlist), so a course page on an allowed origin may show the view in an iframe. A page under /lti
may set its own Content-Security-Policy (the deep-linking reply must post its form to the platform); it is kept.

Body limit: a Content-Length over the limit is refused with 413 before anything is read; a body without one
(chunked) is read up to the limit and refused as soon as it goes over, then replayed to the app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("unrolled.app")

EMBED_PREFIX = "/embed"
PERMISSIONS_POLICY = b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"
LTI_PREFIX = "/lti"


def content_security_policy(frame_ancestors: str) -> str:
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"frame-ancestors {frame_ancestors}; base-uri 'none'; form-action 'self'; object-src 'none'"
    )


COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", PERMISSIONS_POLICY),
)
STRICT_HEADERS = (  # every reply that is not a framed page, and every reply the server writes by itself
    *COMMON_HEADERS,
    (b"content-security-policy", content_security_policy("'none'").encode()),
    (b"x-frame-options", b"DENY"),
)


def is_embed(path: str) -> bool:
    return path == EMBED_PREFIX or path.startswith(EMBED_PREFIX + "/")


def is_lti(path: str) -> bool:
    return path == LTI_PREFIX or path.startswith(LTI_PREFIX + "/")


def embed_url(url: str) -> str:
    """The embed form of a page's URL: the same path and query under /embed (``/?q`` -> ``/embed?q``)."""
    path, mark, query = url.partition("?")
    return EMBED_PREFIX + ("" if path == "/" else path) + mark + query


async def send_json(
    send: Send, status: int, detail: object, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    body = orjson.dumps({"detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Adds the headers above and turns an exception that escaped the app into a JSON 500."""

    def __init__(
        self,
        app: ASGIApp,
        embed_frame_ancestors: Iterable[str] = ("'self'",),
        lti_ancestors: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        self.app = app
        self.lti_ancestors = lti_ancestors
        self.default_headers = list(STRICT_HEADERS)
        # Lesson pages frame /embed states from our own origin, so 'self' is always on the allowlist.
        self.embed_ancestors = ("'self'", *embed_frame_ancestors)
        self.common_headers = list(COMMON_HEADERS)
        self.embed_headers = self.framed_headers(())

    def framed_headers(self, platforms: Iterable[str]) -> list[tuple[bytes, bytes]]:
        ancestors = " ".join(dict.fromkeys((*self.embed_ancestors, *platforms)))
        return [*self.common_headers, (b"content-security-policy", content_security_policy(ancestors).encode())]

    def headers_for(self, path: str) -> list[tuple[bytes, bytes]]:
        framed = is_embed(path) or is_lti(path)
        if not framed:
            return self.default_headers
        if self.lti_ancestors is None:
            return self.embed_headers if is_embed(path) else self.default_headers
        return self.framed_headers(self.lti_ancestors())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        extra = self.headers_for(path)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                own = message.get("headers", [])
                if is_lti(path) and any(k.lower() == b"content-security-policy" for k, _ in own):
                    mine = [(k, v) for k, v in extra if k != b"content-security-policy"]
                else:
                    mine = extra
                names = {name for name, _ in mine}
                kept = [(k, v) for k, v in own if k.lower() not in names]
                message = {**message, "headers": [*kept, *mine]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await send_json(send_with_headers, 500, "internal server error")


class HeadAsGet:
    """Answers HEAD like GET without the body (RFC 9110 9.3.2): FastAPI routes declare GET only, so a HEAD on a
    page was a 405. The headers, Content-Length included, are the GET reply's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


class BodySizeLimit:
    """413 for request bodies over ``max_bytes`` (``upload_bytes`` on the upload paths)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, upload_bytes: int, upload_paths: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes
        self.upload_paths = tuple(upload_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_bytes if scope.get("path", "") in self.upload_paths else self.max_bytes
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await send_json(send, 400, "Content-Length is not a number")
                return
            if size > limit:
                await send_json(send, 413, f"request body of {size} bytes is over the limit of {limit} bytes")
                return
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                await send_json(send, 413, f"request body is over the limit of {limit} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
