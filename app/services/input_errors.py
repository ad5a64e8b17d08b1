"""Where core's InputError points in a request: its ``argument`` (core's name) as the request's field."""

from __future__ import annotations

from app.errors import UnprocessableError
from core.network import InputError

#: core argument -> request field (under "body"). A model that cannot generate (``config``) was asked to by
#: shape 'one_to_many'.
FIELDS: dict[str, tuple[str, ...]] = {
    "inputs": ("input",),
    "first_input": ("input",),
    "shape": ("shape",),
    "config": ("shape",),
    "lengths": ("lengths",),
    "h0": ("h0",),
    "c0": ("c0",),
    "steps": ("generation", "steps"),
    "feedback": ("generation", "feedback"),
    "temperature": ("generation", "temperature"),
    "stop_token": ("generation", "stop_token"),
}


def unprocessable(exc: ValueError) -> UnprocessableError:
    """A 422 whose loc is the field behind ``exc`` (the body as a whole when core did not say)."""
    argument = exc.argument if isinstance(exc, InputError) else None
    return UnprocessableError(str(exc), ("body", *FIELDS.get(argument or "", ())))
