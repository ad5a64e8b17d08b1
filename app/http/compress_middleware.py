"""Compresses replies as the client's Accept-Encoding asks (app.http.compression): zstd, br or gzip.

A reply is compressed when its media type is text-like (JSON, HTML, CSS, JavaScript, SVG, CSV) and it is at
least ``minimum_size`` bytes (its one body message, or its Content-Length when it comes in pieces): below ~1 kB
the coding's header and trailer take most of what it saves. A body in one message (every JSON reply and page)
is compressed in one call; only replies sent in pieces go through a streaming compressor.

Passed untouched: replies that already carry a Content-Encoding (the cached trace replies of app.api.replies
and the static files of app.http.static_files, each compressed once per encoding), partial content (206: a
byte range counts bytes of the plain file) and empty statuses, binary files (npz, safetensors), and
Server-Sent Events (sent plain, so each event reaches the client when it is written, with no compressor
holding it back). Every compressible reply says ``Vary: Accept-Encoding``, compressed or not, so that caches
keep one copy per encoding; a strong ETag on a reply compressed here becomes weak, as the compressed bytes
differ from the plain ones it was computed for.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.compression import Codecs, StreamCompressor, compressible, negotiate

#: Statuses whose body is not the whole representation (a byte range of the plain one) or is empty.
NOT_WHOLE = (204, 206, 304)


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
        partial = start["status"] in NOT_WHOLE or "content-range" in headers
        if "content-encoding" in headers or partial or not compressible(media):
            await self._pass(start, message)
            return
        _vary_on_encoding(headers)
        body, more = message.get("body", b""), message.get("more_body", False)
        size = len(body) if not more else int(headers.get("content-length", self.owner.minimum_size))
        streaming_events = (media or "").startswith("text/event-stream")
        if self.encoding is None or streaming_events or size < self.owner.minimum_size:
            await self._pass(start, message)
            return
        headers["content-encoding"] = self.encoding
        etag = headers.get("etag")
        if etag is not None and not etag.startswith("W/"):
            headers["etag"] = f"W/{etag}"  # the plain bytes' tag: these bytes are only equivalent to them
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
