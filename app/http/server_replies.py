"""The replies uvicorn writes by itself, before the app sees a request, carrying the app's security headers.

uvicorn answers a request it cannot parse with its own 400 and, over ``limit_concurrency``, with its own 503;
neither passes through app.http.security.SecurityHeaders, so both went out without a Content-Security-Policy,
nosniff or X-Frame-Options. The protocol class below (handed to uvicorn as ``http=`` by ``unrolled serve``)
writes the 400 with app.http.security.STRICT_HEADERS, and importing this module swaps uvicorn's 503 app for one that
says what happened in JSON, with the same headers and a Retry-After. uvicorn looks its 503 app up as a module
global at each request, so replacing that global is the only hook it offers; tests/app/test_cli.py checks both
over a socket.
"""

from __future__ import annotations

import orjson
import uvicorn.protocols.http.httptools_impl as httptools_impl
from starlette.types import Receive, Scope, Send

from app.http.security import STRICT_HEADERS, send_json

RETRY_AFTER_S = 1


def bad_request_bytes(message: str) -> bytes:
    """A whole HTTP/1.1 400 reply (the connection then closes): the parser's complaint as JSON."""
    body = orjson.dumps({"detail": f"The HTTP request cannot be read: {message}"})
    lines = [
        b"HTTP/1.1 400 Bad Request",
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
        *(name + b": " + value for name, value in STRICT_HEADERS),
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class HttpToolsWithHeaders(httptools_impl.HttpToolsProtocol):
    """What the server runs (httptools is a pinned dependency: a C parser, much cheaper than h11's)."""

    def send_400_response(self, msg: str) -> None:
        self.transport.write(bad_request_bytes(msg))
        self.transport.close()


async def over_capacity(scope: Scope, receive: Receive, send: Send) -> None:
    """uvicorn's reply when every connection slot of this worker is taken."""
    detail = "The server is at its limit of open connections; try again in a second."
    await send_json(send, 503, detail, [*STRICT_HEADERS, (b"retry-after", str(RETRY_AFTER_S).encode())])


# At import, so that every worker process uvicorn spawns (which imports this module to find the protocol
# class by name) answers with it.
httptools_impl.service_unavailable = over_capacity  # type: ignore[assignment]
