"""Run a whole network over a batch of sequences and record everything.

    layer 0 reads x_t (float vectors, one-hot tokens, or embedding rows E[token_t]);
    layer k > 0 reads [h_t^(k-1, forward), h_t^(k-1, reverse)];
    y_t = W_hy h_t^top + b_y,  p_t = softmax(y_t) when the output activation is softmax.

The four shapes differ in where outputs are read: every step (many-to-many), the last real step only
(many-to-one), a single step (one-to-one). One-to-many generation feeds outputs back and lives in core.generate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core import activations
from core.cells import kernel_for
from core.config import NetworkConfig
from core.interventions import (
    Intervention,
    LayerEdits,
    check_interventions,
    input_replacements,
    plan_edits,
    replace_tokens,
    replace_vectors,
)
from core.layer import LayerTrace, run_layer
from core.params import Params, cast_params, check_params, recurrent_names
from core.trace import SHAPES, Trace


class InputError(ValueError):
    """Inputs that do not fit the configuration; the message says what was expected, ``argument`` names the
    argument at fault (``inputs``, ``h0``, ``shape``, ...), so a caller can point at its own field."""

    def __init__(self, message: str, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


def encode_inputs(
    params: Params, config: NetworkConfig, inputs: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """Turn raw inputs into the (T, B, input_size) float array layer 0 reads, plus (T, B) tokens if any."""
    dtype = config.np_dtype
    arr = np.asarray(inputs)
    given = arr.shape  # reported as the caller sent it, before a batch axis is added
    if config.input_encoding == "vector":
        if arr.ndim == 2:
            arr = arr[:, None, :]
        if arr.ndim != 3 or arr.shape[2] != config.input_size:
            raise InputError(
                f"vector inputs must have shape (T, {config.input_size}) or (T, B, {config.input_size}),"
                f" got {given}",
                "inputs",
            )
        if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
            raise InputError("vector inputs must be real numbers", "inputs")
        x = np.ascontiguousarray(arr, dtype=dtype)
        if not np.isfinite(x).all():
            raise InputError("inputs must be finite numbers", "inputs")
        return x, None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer):
        raise InputError(f"token inputs must be integers shaped (T,) or (T, B), got {arr.dtype} {arr.shape}", "inputs")
    assert config.vocab_size is not None
    if arr.size and (arr.min() < 0 or arr.max() >= config.vocab_size):
        raise InputError(f"token ids must lie in [0, {config.vocab_size - 1}]", "inputs")
    tokens = arr.astype(np.int64)
    if config.input_encoding == "onehot":
        # Scatter ones rather than index np.eye(V): memory stays T*B*V, not V^2.
        x = np.zeros(tokens.shape + (config.vocab_size,), dtype)
        np.put_along_axis(x, tokens[..., None], 1.0, axis=-1)
    else:
        x = params["embedding.weight"][tokens].astype(dtype, copy=False)
    return np.ascontiguousarray(x), tokens


def initial_states(
    config: NetworkConfig, batch: int, h0: np.ndarray | None, c0: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """h0, c0 shaped (layers * directions, B, H) as in PyTorch; zeros when not given."""
    shape = (config.num_layers * config.num_directions, batch, config.hidden_size)
    dtype = config.np_dtype

    def prepare(value: np.ndarray | None, name: str) -> np.ndarray:
        if value is None:
            return np.zeros(shape, dtype)
        v = np.asarray(value, dtype=dtype)
        given = v.shape  # reported as the caller sent it, before a batch axis is added
        if v.ndim == 2:
            v = v[:, None, :]
        if v.shape != shape:
            one = f" or {shape[0::2]} for one sequence" if batch == 1 else ""
            raise InputError(
                f"{name} must have shape {shape} (layers*directions, batch, hidden){one}, got {given}", name
            )
        if not np.isfinite(v).all():
            raise InputError(f"{name} must be finite", name)
        return v

    h = prepare(h0, "h0")
    if not config.has_cell_state:
        if c0 is not None:
            raise InputError(f"c0 is only used by the LSTM, not by {config.cell}", "c0")
        return h, None
    return h, prepare(c0, "c0")


def output_mask_for(shape: str, lengths: np.ndarray, num_steps: int) -> np.ndarray:
    if shape not in SHAPES or shape == "one_to_many":
        raise InputError(
            f"shape must be one of {SHAPES[:3]} here (one_to_many runs through core.generate)", "shape"
        )
    steps = np.arange(num_steps)[:, None]
    if shape == "many_to_many":
        return steps < lengths[None, :]
    if shape == "one_to_one" and num_steps != 1:
        raise InputError(f"a one-to-one network reads exactly one input, got {num_steps}", "inputs")
    last: np.ndarray = steps == (lengths - 1)[None, :]
    return last


def apply_output(
    params: Params, config: NetworkConfig, top: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if config.output_size is None:
        return None, None
    with np.errstate(over="ignore", invalid="ignore"):
        logits = top @ params["output.weight"].T + params["output.bias"]
        probs = activations.softmax(logits) if config.output_activation == "softmax" else None
    return logits, probs


def forward(
    params: Params,
    config: NetworkConfig,
    inputs: np.ndarray,
    *,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    lengths: np.ndarray | list[int] | None = None,
    shape: str = "many_to_many",
    interventions: Sequence[Intervention] = (),
) -> Trace:
    """Run the network over ``inputs`` ((T, I) / (T, B, I) vectors or (T,) / (T, B) tokens) and record it all.

    ``interventions`` (core.interventions) clamp gates, set states or replace inputs along the way; an
    InterventionError names the first that does not fit."""
    check_params(params, config)
    params = cast_params(params, config)
    x, tokens = encode_inputs(params, config, inputs)
    T, B, _ = x.shape
    if T < 1:
        raise InputError("a sequence needs at least one timestep", "inputs")
    if B < 1:
        raise InputError("a batch needs at least one sequence", "inputs")
    edits: dict[tuple[int, int], LayerEdits] = {}
    if interventions:
        check_interventions(config, T, interventions)
        changes = input_replacements(interventions)
        if changes and tokens is not None:
            tokens = replace_tokens(tokens, changes)
            x, _ = encode_inputs(params, config, tokens)
        elif changes:
            x = replace_vectors(x, changes)
        edits = plan_edits(config, interventions)
    if lengths is None:
        lens = np.full(B, T, dtype=np.int64)
        mask = None
    else:
        raw = np.asarray(lengths).reshape(-1)
        # Casting first would truncate 2.5 to 2 silently; only whole numbers are lengths.
        whole = raw.dtype.kind in "iu" or (raw.dtype.kind == "f" and bool(np.all(raw == np.round(raw))))
        lens = raw.astype(np.int64) if whole else raw
        if not whole or lens.shape != (B,) or lens.min() < 1 or lens.max() > T:
            raise InputError(f"lengths must hold {B} integers in [1, {T}]", "lengths")
        mask = np.arange(T)[:, None] < lens[None, :]
        if mask.all():
            mask = None
    out_mask = output_mask_for(shape, lens, T)
    h0_all, c0_all = initial_states(config, B, h0, c0)
    kernel = kernel_for(config.cell, config.nonlinearity)
    layers: list[list[LayerTrace]] = []
    layer_input = x
    for layer in range(config.num_layers):
        directions = []
        for d, reverse in enumerate((False, True)[: config.num_directions]):
            w_ih, w_hh, b_ih, b_hh = (params[n] for n in recurrent_names(layer, reverse))
            idx = layer * config.num_directions + d
            c0_l = c0_all[idx] if c0_all is not None else None
            directions.append(
                run_layer(
                    kernel,
                    layer_input,
                    w_ih,
                    w_hh,
                    b_ih,
                    b_hh,
                    h0_all[idx],
                    c0_l,
                    layer=layer,
                    reverse=reverse,
                    mask=mask,
                    edits=edits.get((layer, d)),
                )
            )
        layers.append(directions)
        layer_input = (
            directions[0].h if len(directions) == 1 else np.concatenate([lt.h for lt in directions], -1)
        )
    logits, probs = apply_output(params, config, layer_input)
    return Trace(
        config, shape, x, tokens, lens, layers, layer_input, logits, probs, out_mask,
        interventions=tuple(interventions),
    )
