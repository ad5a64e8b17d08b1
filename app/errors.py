"""Errors the service layer raises, each mapped to one HTTP status by app.http.handlers.

They carry a message and the location of the offending field (as FastAPI's validation errors do), so a
422 from the service looks exactly like a 422 from the schema:
``{"detail": [{"loc": [...], "msg": ..., "type": ...}]}``.
"""

from __future__ import annotations

from collections.abc import Sequence


class ApiError(Exception):
    status = 400
    kind = "bad_request"
    headers: dict[str, str] | None = None

    def __init__(self, message: str, loc: Sequence[str | int] = ("body",)) -> None:
        super().__init__(message)
        self.message = message
        self.loc = tuple(loc)

    def __reduce__(self) -> tuple[type, tuple[str, tuple[str | int, ...]]]:
        # So that an error raised in a heavy-work process (app.http.heavy_lane) arrives whole, loc included.
        return type(self), (self.message, self.loc)


class UnprocessableError(ApiError):
    """The request is well-formed but cannot be run as asked (422)."""

    status = 422
    kind = "value_error"


class LimitExceededError(UnprocessableError):
    """A size or the compute budget is over the server's configured limit (422)."""

    kind = "limit_exceeded"


class TooLargeError(ApiError):
    """What was asked for is too large to make (a picture over its pixel budget): 413, refused before the work."""

    status = 413
    kind = "too_large"


class StoreUnavailableError(ApiError):
    """The store (the SQLite file, or the database UNROLLED_DATABASE_URL names) cannot be read or written right
    now: 503, with Retry-After, so a client retries and a load balancer takes the replica out."""

    status = 503
    kind = "store_unavailable"
    headers = {"Retry-After": "5"}


class NotFoundError(ApiError):
    """A preset, stored model or other named resource that does not exist (404)."""

    status = 404
    kind = "not_found"


class ServerBusyError(ApiError):
    """Every heavy-work process is busy and its queue is full (app.http.heavy_lane): 503 with Retry-After."""

    status = 503
    kind = "server_busy"
    headers = {"Retry-After": "2"}


class CpuTimeExceededError(UnprocessableError):
    """A heavy request used up its CPU time (UNROLLED_HEAVY_CPU_SECONDS) and was stopped (422)."""

    kind = "limit_exceeded"
