"""From results (NumPy) to JSON-ready dicts, column-oriented, rounded to a number of significant digits.

Each layer and direction carries one T x H array per quantity; outputs are T x O. Arrays go to orjson as NumPy
arrays (OPT_SERIALIZE_NUMPY), never through Python lists or FastAPI's jsonable_encoder.

Numbers are rounded to the request's precision p by app.wire.rounding: each is the double nearest to its value
rounded to p significant digits, ``float(f"{x:.{p-1}e}")``, and orjson writes its shortest repr, so at p = 17
every float64 goes out exactly as computed. Zeros and non-finite numbers come out as they went in; orjson
writes NaN and +-inf as null, so JSON never holds them, and ``diverged_at`` says where they start. The arrays
of one reply are copied into one buffer and rounded together, so the fixed cost of the dozen NumPy calls is
paid once per reply, not per array.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import orjson

from app.services.trace import GradientResult, TraceResult
from app.wire.rounding import round_significant, round_together
from core.config import NetworkConfig
from core.trace import Trace

API_VERSION = "v1"
DIRECTIONS = ("forward", "reverse")


def dumps(payload: dict[str, Any]) -> bytes:
    return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)


def _r(values: np.ndarray | None, digits: int) -> np.ndarray | None:
    return None if values is None else round_significant(values, digits)


def model_section(result: TraceResult) -> dict[str, Any]:
    config = dict(_config_items(result.model.config))
    config["vocab"] = result.model.vocab
    config["output_labels"] = result.model.output_labels
    return config


@lru_cache(maxsize=256)
def _config_items(config: NetworkConfig) -> tuple[tuple[str, Any], ...]:
    """``config.to_dict()`` (a deep copy) once per distinct configuration, not once per reply."""
    return tuple(config.to_dict().items())


def layer_records(
    trace: Trace, quantities: tuple[str, ...], precision: int, steps: slice | int = slice(None)
) -> list[dict[str, Any]]:
    """Each layer and direction's selected quantities of sequence 0 of ``trace``, rounded, at ``steps``."""
    recorded = [lt.quantities(quantities) for row in trace.layers for lt in row]
    rounded = iter(round_together([q[name][steps, 0] for q in recorded for name in quantities], precision))
    return [
        {
            "layer": k,
            "direction": DIRECTIONS[d],
            "quantities": {name: next(rounded) for name in quantities},
        }
        for k, row in enumerate(trace.layers)
        for d in range(len(row))
    ]


def rounded_quantities(result: TraceResult, steps: slice | int = slice(None)) -> list[dict[str, Any]]:
    return layer_records(result.trace, result.quantities, result.precision, steps)


def trace_payload(result: TraceResult) -> dict[str, Any]:
    """The whole trace of sequence 0, one array per quantity, layer and direction."""
    trace = result.trace
    return {
        "api_version": API_VERSION,
        "config": model_section(result),
        "weights": result.model.source,
        "shape": trace.shape,
        "steps": trace.num_steps,
        "precision": result.precision,
        "input": _input_section(result),
        "layers": rounded_quantities(result),
        "output": output_section(result, slice(None)),
        "generation": _generation_section(result),
        "diverged_at": trace.diverged_at(),
    }


def _input_section(result: TraceResult) -> dict[str, Any]:
    trace = result.trace
    tokens = None if trace.tokens is None else np.ascontiguousarray(trace.tokens[:, 0])
    labels = None
    if tokens is not None and result.model.vocab is not None:
        labels = [result.model.vocab[t] for t in tokens]
    x = None if trace.tokens is not None else _r(trace.inputs[:, 0], result.precision)
    typed, unknown = result.input.typed, result.input.unknown
    if tokens is None or typed is None or len(typed) != len(tokens):  # e.g. generation: fed-back tokens
        typed = unknown = None
    return {"tokens": tokens, "labels": labels, "x": x, "typed": typed, "unknown": unknown}


def output_section(result: TraceResult, steps: slice) -> dict[str, Any] | None:
    trace = result.trace
    if trace.logits is None:
        return None
    p = result.precision
    y = trace.logits[steps, 0]
    # A row holding NaN or infinity predicts nothing (-1), whatever argmax says of it.
    predicted = np.where(np.isfinite(y).all(-1), y.argmax(-1), -1)
    labels = result.model.output_labels
    y_rounded, probs = round_together([y, None if trace.probs is None else trace.probs[steps, 0]], p)
    return {
        "y": y_rounded,
        "probs": probs,
        "mask": np.ascontiguousarray(trace.output_mask[steps, 0]),
        "predicted": predicted,
        "predicted_labels": None if labels is None else [labels[k] if k >= 0 else None for k in predicted],
    }


def _generation_section(result: TraceResult) -> dict[str, Any] | None:
    extra = result.trace.extra
    if "generated" not in extra:
        return None
    generated = np.asarray(extra["generated"])
    labels = None
    vocab = result.model.vocab
    if generated.ndim == 1 and vocab is not None:
        labels = [vocab[k] if 0 <= k < len(vocab) else None for k in generated]
    values = generated if generated.ndim == 1 else _r(generated, result.precision)
    return {
        "generated": values,
        "labels": labels,
        "feedback": extra.get("feedback"),
        "stop": extra.get("stop"),
    }


def step_payload(result: TraceResult, t: int) -> dict[str, Any]:
    """The numbers of timestep ``t`` only: each quantity as an H vector per layer and direction."""
    trace = result.trace
    p = result.precision
    layers = rounded_quantities(result, t)
    inputs = _input_section(result)
    output = output_section(result, slice(t, t + 1))
    return {
        "api_version": API_VERSION,
        "t": t,
        "steps": trace.num_steps,
        "precision": p,
        "token": None if inputs["tokens"] is None else int(inputs["tokens"][t]),
        "label": None if inputs["labels"] is None else inputs["labels"][t],
        "x": None if inputs["x"] is None else inputs["x"][t],
        "layers": layers,
        "output": None
        if output is None
        else {
            "y": output["y"][0],
            "probs": None if output["probs"] is None else output["probs"][0],
            "has_output": bool(output["mask"][0]),
            "predicted": int(output["predicted"][0]),
            "predicted_label": None if output["predicted_labels"] is None else output["predicted_labels"][0],
        },
        "diverged_at": trace.diverged_at(),
    }


def gradients_payload(result: GradientResult) -> dict[str, Any]:
    """Loss, per-timestep gradient norms per layer and direction, every parameter gradient and its norm."""
    # Norms of exploding gradients overflow to inf, which the reply shows as null: no warning needed.
    with np.errstate(over="ignore", invalid="ignore"):
        return _gradients_payload(result)


def _gradients_payload(result: GradientResult) -> dict[str, Any]:
    run = result.run
    p = run.precision
    grads = result.gradients
    dh_norms, dc_norms = grads.dh_norms(), grads.dc_norms()
    layers = []
    for k, row in enumerate(run.trace.layers):
        for d in range(len(row)):
            dc = grads.dc[k][d]
            layers.append(
                {
                    "layer": k,
                    "direction": DIRECTIONS[d],
                    "dh_norm": _r(dh_norms[k][d], p),
                    "dc_norm": _r(dc_norms[k][d], p),
                    "jacobian_norm": None
                    if result.jacobian_norms is None
                    else _r(result.jacobian_norms[k][d], p),
                    "dh": _r(grads.dh[k][d][:, 0], p),
                    "dc": _r(None if dc is None else dc[:, 0], p),
                }
            )
    params = {
        name: {"norm": float(round_significant(np.asarray(np.linalg.norm(g)), p)), "grad": _r(g, p)}
        for name, g in grads.params.items()
    }
    loss = float(round_significant(np.array(result.loss), p))
    return {
        "api_version": API_VERSION,
        "config": model_section(run),
        "weights": run.model.source,
        "shape": run.trace.shape,
        "steps": run.trace.num_steps,
        "precision": p,
        "loss_name": result.loss_name,
        "loss": loss if np.isfinite(loss) else None,
        "global_norm": _finite_or_none(round_significant(np.array(grads.global_norm()), p)),
        "layers": layers,
        "params": params,
        "d_input": _input_gradient(run, grads.d_inputs[:, 0]),
        "d_h0": _r(grads.dh0[:, 0], p),
        "d_c0": _r(None if grads.dc0 is None else grads.dc0[:, 0], p),
        "diverged_at": run.trace.diverged_at(),
    }


#: What dL/dx_t is taken with respect to, by input encoding: the vectors layer 0 reads.
INPUT_GRADIENT_WRT = {"vector": "x", "onehot": "onehot", "embedding": "embedding"}


def _input_gradient(run: TraceResult, d_inputs: np.ndarray) -> dict[str, Any]:
    """dL/dx_t (T x input_size) and its norm per step."""
    values, norms = round_together([d_inputs, np.linalg.norm(d_inputs, axis=-1)], run.precision)
    return {"wrt": INPUT_GRADIENT_WRT[run.trace.config.input_encoding], "values": values, "norm": norms}


def _finite_or_none(value: np.ndarray) -> float | None:
    v = float(value)
    return v if np.isfinite(v) else None
