"""Error responses every route documents in the OpenAPI schema, with their body schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Message(BaseModel):
    detail: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationFailure(BaseModel):
    detail: list[FieldError]


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    text = {
        400: "The body is not valid JSON.",
        404: "No such preset, stored model or resource.",
        413: "The request body is over the size limit.",
        422: "Invalid body, or over a size limit or the compute budget; loc names the field.",
        429: "Too many requests from this address, or the training queue is full (UNROLLED_MAX_TRAINING_JOBS jobs "
        "queued or running); see Retry-After.",
    }
    return {
        s: {"model": ValidationFailure if s == 422 else Message, "description": text[s]} for s in statuses
    }


#: Every route under /api answers 429 when the client is over its rate limit.
COMMON = errors(429)
BODY_ERRORS = errors(400, 413, 422, 429)
