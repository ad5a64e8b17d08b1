"""Compresses replies as the client's Accept-Encoding asks (app.http.compression): zstd, br or gzip.

A reply is compressed when its media type is text-like (JSON, HTML, CSS, JavaScript, SVG, CSV) and it is at
least ``minimum_size`` bytes; replies that already carry a Content-Encoding (the cached trace replies of
app.api.replies, compressed once per encoding) pass untouched, and so do binary files (npz, safetensors) and
Server-Sent Events (each event must reach the client when it is sent). Every compressible reply says
``Vary: Accept-Encoding``, compressed or not, so that caches keep one copy per encoding.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.compression import Codecs, StreamCompressor, compressible, negotiate


class CompressReplies:
    def __init__(self, app: ASGIApp, codecs: Codecs, minimum_size: int) -> None:
        self.app = app
        self.codecs = codecs
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        encoding = negotiate(Headers(scope=scope).get("accept-encoding"))
        await _Reply(self, encoding, send).run(scope, receive)


class _Reply:
    """One reply on its way out: the start message is held until the first body chunk shows its size."""

    def __init__(self, owner: CompressReplies, encoding: str | None, send: Send) -> None:
        self.owner, self.encoding, self.send = owner, encoding, send
        self.start: Message | None = None
        self.stream: StreamCompressor | None = None
        self.passing = False  # decided to send the rest as it comes

    async def run(self, scope: Scope, receive: Receive) -> None:
        await self.owner.app(scope, receive, self.on_message)

    async def on_message(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body" or self.passing:
            await self.send(message)
            return
        if self.stream is not None:
            await self._send_compressed(message)
            return
        assert self.start is not None
        await self._first_body(self.start, message)

    async def _first_body(self, start: Message, message: Message) -> None:
        headers = MutableHeaders(scope=start)
        media = headers.get("content-type")
        if "content-encoding" in headers or not compressible(media):
            await self._pass(start, message)
            return
        _vary_on_encoding(headers)
        body, more = message.get("body", b""), message.get("more_body", False)
        streaming_events = (media or "").startswith("text/event-stream")
        if self.encoding is None or streaming_events or (not more and len(body) < self.owner.minimum_size):
            await self._pass(start, message)
            return
        headers["content-encoding"] = self.encoding
        if not more:
            compressed = self.owner.codecs.compress(body, self.encoding)
            headers["content-length"] = str(len(compressed))
            await self.send(start)
            await self.send({"type": "http.response.body", "body": compressed})
            return
        del headers["content-length"]  # the compressed length is known only at the end
        self.stream = self.owner.codecs.stream(self.encoding)
        await self.send(start)
        await self._send_compressed(message)

    async def _send_compressed(self, message: Message) -> None:
        assert self.stream is not None
        more = message.get("more_body", False)
        data = self.stream.compress(message.get("body", b""))
        if not more:
            data += self.stream.finish()
        if data or not more:
            await self.send({"type": "http.response.body", "body": data, "more_body": more})

    async def _pass(self, start: Message, message: Message) -> None:
        self.passing = True
        await self.send(start)
        await self.send(message)


def _vary_on_encoding(headers: MutableHeaders) -> None:
    """Vary: Accept-Encoding, once (the cached replies set it already)."""
    present = [token.strip().lower() for token in headers.get("vary", "").split(",") if token.strip()]
    if "accept-encoding" not in present and "*" not in present:
        headers.add_vary_header("Accept-Encoding")
