"""The ``what_if`` block of a trace reply with interventions: the original run beside the intervened one.

    original.layers[k]   h (and c) of the run without the interventions, per layer and direction
    original.output      its outputs, as the reply's ``output``
    difference.h[k]      max_j |h'_t[j] - h_t[j]| per step, per layer and direction (the reply's order)
    difference.y         max_i |y'_t[i] - y_t[i]| per step (None without an output layer)
    difference.predicted_changed   whether the top guess argmax y_t changed at step t
    difference.first_changed       the first step whose h (any layer) or y differs, None if none does

Differences are taken before rounding, then rounded to the reply's precision.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.services.trace import TraceResult
from app.wire.rounding import round_significant
from app.wire.serialize import layer_records, output_section, trace_payload
from core.trace import Trace


def trace_reply(result: TraceResult) -> dict[str, Any]:
    """A trace reply, with its ``what_if`` block when the run had interventions."""
    payload = trace_payload(result)
    if result.original is not None:
        payload["what_if"] = what_if_section(result)
    return payload


def _max_abs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.abs(a - b).max(axis=-1)


def what_if_section(result: TraceResult) -> dict[str, Any] | None:
    original = result.original
    if original is None:
        return None
    trace = result.trace
    states = ("h", "c") if trace.config.has_cell_state else ("h",)
    h_diff = [
        _max_abs(new.h[:, 0], old.h[:, 0])
        for row_new, row_old in zip(trace.layers, original.layers, strict=True)
        for new, old in zip(row_new, row_old, strict=True)
    ]
    changed = np.zeros(trace.num_steps, bool)
    for d in h_diff:
        changed |= d != 0
    y_diff = predicted_changed = None
    if trace.logits is not None and original.logits is not None:
        y_diff_raw = _max_abs(trace.logits[:, 0], original.logits[:, 0])
        changed |= y_diff_raw != 0
        y_diff = round_significant(y_diff_raw, result.precision)
        predicted_changed = trace.logits[:, 0].argmax(-1) != original.logits[:, 0].argmax(-1)
    steps = np.flatnonzero(changed)
    return {
        "original": {
            "layers": layer_records(original, states, result.precision),
            "output": output_section(_as_result(result, original), slice(None)),
        },
        "difference": {
            "h": [round_significant(d, result.precision) for d in h_diff],
            "y": y_diff,
            "predicted_changed": predicted_changed,
            "first_changed": int(steps[0]) if steps.size else None,
        },
    }


def _as_result(result: TraceResult, trace: Trace) -> TraceResult:
    return TraceResult(trace, result.model, result.input, result.quantities, result.precision)
