"""Exception handlers: every error leaves the server as JSON with the status that says what went wrong.

400  the body is not JSON (or not parseable at all, e.g. compressed)
404  unknown preset, stored model or route
413  body over the size limit (app.http.security)
422  the body is JSON but does not validate, or the service cannot run it as asked (field named in loc)
429  rate limit (app.http.ratelimit)
503  the store cannot be used (app.storage); pages get a short HTML page saying so
500  a bug: a generic message; the traceback goes to the server log only
"""

from __future__ import annotations

import html
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import API_PREFIX
from app.errors import ApiError, StoreUnavailableError, UnprocessableError
from app.http.responses import JSONBytes

log = logging.getLogger("unrolled.app")

#: Pydantic/FastAPI error types that mean the body could not be parsed as JSON at all.
UNPARSEABLE = {"json_invalid"}


def error_response(status: int, detail: object, headers: dict[str, str] | None = None) -> JSONBytes:
    return JSONBytes({"detail": detail}, status_code=status, headers=headers)


def _clean(errors: list[dict]) -> list[dict]:
    """Validation errors without echoing the offending input back (it may be megabytes of numbers)."""
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in errors
    ]


async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONBytes:
    errors = list(exc.errors())
    if any(e.get("type") in UNPARSEABLE for e in errors):
        return error_response(400, "the request body is not valid JSON")
    if _sent_as_other_media(request, errors):
        return error_response(400, "the request body must be JSON sent with Content-Type: application/json")
    cleaned = _clean(errors)
    for error in cleaned:
        if error["loc"] == ["body"] and error["type"] == "missing":
            error["msg"] = "the request body is empty: send a JSON object"
    return error_response(422, cleaned)


def _sent_as_other_media(request: Request, errors: list[dict]) -> bool:
    """A JSON route got a body FastAPI did not parse, because its Content-Type is not JSON."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = media == "application/json" or media.endswith("+json")
    return not is_json and any(tuple(e.get("loc", ())) == ("body",) for e in errors)


async def on_api_error(request: Request, exc: ApiError) -> Response:
    if isinstance(exc, StoreUnavailableError) and not request.url.path.startswith(API_PREFIX):
        return _store_unavailable_page(exc)
    if isinstance(exc, UnprocessableError):
        return error_response(exc.status, [{"loc": list(exc.loc), "msg": exc.message, "type": exc.kind}])
    return error_response(exc.status, exc.message, exc.headers)


def _store_unavailable_page(exc: StoreUnavailableError) -> HTMLResponse:
    """A page that needed the store says so in words, as a 503 a person can read (the API answers JSON)."""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Store unavailable · Unrolled</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>'
        "<h1>This page needs the model store, which cannot be used right now</h1>"
        f'<p role="alert">{html.escape(exc.message)}</p>'
        '<p>Views with built-in presets or random weights still work: <a href="/">open the simulator</a>. '
        "Try this page again in a few seconds.</p></main></body></html>"
    )
    return HTMLResponse(body, status_code=exc.status, headers=exc.headers)


async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONBytes:
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if exc.status_code == 400 and encoding != "identity":
        # The body parser only sees compressed bytes; say why instead of "error parsing the body".
        detail = f"Content-Encoding {encoding!r} is not supported: send the request body uncompressed"
        return error_response(400, detail)
    return error_response(exc.status_code, exc.detail, getattr(exc, "headers", None))


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(ApiError, on_api_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, on_http_error)  # type: ignore[arg-type]
