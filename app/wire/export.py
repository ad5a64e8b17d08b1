"""A trace as a file: JSON (the API's own payload), CSV in long format, or NPZ.

CSV has one row per number, ``t,layer,direction,quantity,unit,value``: recorded quantities have their layer
(0..L-1) and direction (forward/reverse); the input has layer ``input`` and the output layer's y and probs
have layer ``output`` (direction empty). Values carry the request's precision; non-finite values are empty.
NPZ keeps full float64 precision: ``layer{k}/{direction}/{quantity}`` (T x H) arrays, ``input/x`` or
``input/tokens``, ``output/y``, ``output/probs``, ``output/mask`` and ``config`` (the config as JSON text).
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np

from app.services.trace import TraceResult
from app.wire.rounding import round_significant
from app.wire.serialize import DIRECTIONS, dumps, model_section, trace_payload

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "npz": "application/octet-stream",
}


def _blocks(result: TraceResult) -> list[tuple[str, str, str, np.ndarray]]:
    """(layer, direction, quantity, T x W array) for every exported array of sequence 0."""
    trace = result.trace
    blocks: list[tuple[str, str, str, np.ndarray]] = []
    if trace.tokens is not None:
        blocks.append(("input", "", "token", trace.tokens[:, :1].astype(np.float64)))
    else:
        blocks.append(("input", "", "x", trace.inputs[:, 0]))
    for k, row in enumerate(trace.layers):
        for d, lt in enumerate(row):
            q = lt.quantities()
            blocks += [(str(k), DIRECTIONS[d], name, q[name][:, 0]) for name in result.quantities]
    if trace.logits is not None:
        blocks.append(("output", "", "y", trace.logits[:, 0]))
    if trace.probs is not None:
        blocks.append(("output", "", "probs", trace.probs[:, 0]))
    return blocks


def to_csv(result: TraceResult) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("t", "layer", "direction", "quantity", "unit", "value"))
    for layer, direction, quantity, values in _blocks(result):
        rounded = round_significant(values, result.precision)
        T, W = rounded.shape
        cells = [repr(float(v)) if np.isfinite(v) else "" for v in rounded.reshape(-1)]
        writer.writerows(
            (t, layer, direction, quantity, unit, cells[t * W + unit]) for t in range(T) for unit in range(W)
        )
    return out.getvalue().encode()


def to_npz(result: TraceResult) -> bytes:
    trace = result.trace
    arrays: dict[str, np.ndarray] = {"config": np.array(json.dumps(model_section(result)))}
    if trace.tokens is not None:
        arrays["input/tokens"] = trace.tokens[:, 0]
    else:
        arrays["input/x"] = trace.inputs[:, 0]
    for k, row in enumerate(trace.layers):
        for d, lt in enumerate(row):
            q = lt.quantities()
            for name in result.quantities:
                arrays[f"layer{k}/{DIRECTIONS[d]}/{name}"] = np.ascontiguousarray(q[name][:, 0])
    if trace.logits is not None:
        arrays["output/y"] = trace.logits[:, 0]
        arrays["output/mask"] = trace.output_mask[:, 0]
    if trace.probs is not None:
        arrays["output/probs"] = trace.probs[:, 0]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, allow_pickle=False, **arrays)  # numbers only, like every reader here
    return buffer.getvalue()


def export(result: TraceResult, fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(result)
    if fmt == "npz":
        return to_npz(result)
    return dumps(trace_payload(result))
