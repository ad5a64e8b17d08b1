"""The API's own files from a package trace: the bytes of ``POST /api/v1/trace/export`` (app.wire.export) and the
payload of ``POST /api/v1/gradients`` (app.wire.serialize), built from the same result objects the server builds.

app.wire.export and app.wire.serialize are pure serialisation (NumPy, orjson, the exact rounding of
app.wire.rounding); they are imported on the first export, not with the package, and never import FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from core.bptt import Gradients
from core.trace import Trace
from unrolled.model import Model

if TYPE_CHECKING:
    from app.services.trace import TraceResult

FORMATS = ("json", "csv", "npz")


def check_precision(precision: int | None) -> int:
    """Significant digits of an export: the server's default (4) when None, else 1..17 (17 gives every float64
    exactly, app.wire.rounding)."""
    from app.services.limits import Limits

    limits = Limits()
    if precision is None:
        return limits.default_precision
    if isinstance(precision, bool) or not isinstance(precision, int | np.integer):
        raise TypeError(f"precision must be an integer, got {type(precision).__name__}")
    if not 1 <= precision <= limits.max_precision:
        raise ValueError(f"precision must be between 1 and {limits.max_precision} significant digits, got {precision}")
    return int(precision)


def trace_result(
    trace: Trace, model: Model, precision: int | None = None, include: list[str] | None = None
) -> TraceResult:
    """app.services.trace.TraceResult of a one-sequence trace, with the quantities a reply holds (``include``: the
    API's field of that name; None for its default set)."""
    from app.errors import ApiError
    from app.services.resolve import EncodedInput, ResolvedModel
    from app.services.trace import TraceResult, select_quantities

    if trace.batch_size != 1:
        raise ValueError(f"a file holds one sequence; this trace holds {trace.batch_size}: pick one with b=")
    try:
        quantities = select_quantities(trace.config, include)
    except ApiError as exc:
        raise ValueError(exc.message.replace("unknown quantities", "include= names unknown quantities")) from None
    meta = {} if model.output_labels is None else {"output_labels": model.output_labels}
    resolved = ResolvedModel(trace.config, model.params, model.vocab, model.source, meta)
    values = trace.tokens[:, 0] if trace.tokens is not None else trace.inputs[:, 0]
    labels = None if model.vocab is None or trace.tokens is None else [model.vocab[k] for k in trace.tokens[:, 0]]
    return TraceResult(trace, resolved, EncodedInput(values, labels), quantities, check_precision(precision))


def export_trace(result: TraceResult, fmt: str) -> bytes:
    from app.wire.export import export

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    return export(result, fmt)


def gradients_json(
    trace: Trace, model: Model, value: float, grads: Gradients, precision: int | None = None
) -> bytes:
    """The JSON of ``POST /api/v1/gradients`` with a ``d_output`` (loss_name 'd_output', loss = sum(R * out))."""
    from app.services.trace import GradientResult
    from app.wire.serialize import dumps, gradients_payload

    if trace.batch_size != 1:
        raise ValueError(f"the gradients of a batch of {trace.batch_size} sequences are one sum over them: "
                         "export the gradients of one sequence at a time")
    run = trace_result(trace, model, precision, include=[])
    payload: dict[str, Any] = gradients_payload(GradientResult(run, value, "d_output", grads, None))
    return dumps(payload)
