"""Backpropagation through time over a whole network, from the output layer down to the inputs.

Given dL/dy_t for every step (from core.losses), the output layer gives

    dL/dW_hy = sum_t dL/dy_t^T h_t,   dL/db_y = sum_t dL/dy_t,   dL/dh_t^top = dL/dy_t W_hy

and each layer, top to bottom, runs core.layer.backward_layer. With the gradients of the input projection
(d_in) and the hidden projection (d_hid) of every step, the parameter gradients are single GEMMs:

    dL/dW_ih = sum_t d_in_t^T x_t,   dL/dW_hh = sum_t d_hid_t^T h_{t-1},   dL/db_ih = sum_t d_in_t,
    dL/db_hh = sum_t d_hid_t,        dL/dx_t = d_in_t W_ih  (handed to the layer below).

A loss of the caller's own enters as its upstream gradient R (``backward_from_output``): R = dL/dh_t^top
goes straight to the top layer, R = dL/dy_t through the output layer as above; either way the value
reported is the linear surrogate sum_t <R_t, out_t> (core.losses.linear), whose gradients these are.

Nothing is clipped here; clipping belongs to the optimizer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core import losses
from core.config import NetworkConfig
from core.interventions import Intervention
from core.layer import backward_layer
from core.layer import state_jacobian_norms as _layer_jacobian_norms
from core.network import forward
from core.params import Params, cast_params, recurrent_names
from core.trace import Trace


@dataclass
class Gradients:
    params: dict[str, np.ndarray]  # keyed like the parameters
    dh: list[list[np.ndarray]]  # [layer][direction] (T, B, H): total dL/dh_t
    dc: list[list[np.ndarray | None]]  # [layer][direction] (T, B, H): total dL/dc_t (LSTM)
    dh0: np.ndarray  # (L*D, B, H)
    dc0: np.ndarray | None
    d_inputs: np.ndarray  # (T, B, input_size) dL/dx_t

    def dh_norms(self, b: int = 0) -> list[list[np.ndarray]]:
        """||dL/dh_t|| over t for sequence b, per layer and direction: vanishing or exploding, made visible."""
        return [[np.linalg.norm(d[:, b], axis=-1) for d in row] for row in self.dh]

    def dc_norms(self, b: int = 0) -> list[list[np.ndarray | None]]:
        return [[None if d is None else np.linalg.norm(d[:, b], axis=-1) for d in row] for row in self.dc]

    def global_norm(self) -> float:
        return float(np.sqrt(sum(float((g * g).sum()) for g in self.params.values())))


def output_weights(trace: Trace, where: str | None) -> np.ndarray:
    """(T, B) positions a loss counts: 'all' real steps, the 'last' real step, or None for the shape's outputs."""
    if where is None:
        return trace.output_mask
    if where == "all":
        return trace.mask
    if where == "last":
        last: np.ndarray = np.arange(trace.num_steps)[:, None] == (trace.lengths - 1)[None, :]
        return last
    raise ValueError(f"where must be 'all', 'last' or None, got {where!r}")


def backward(
    params: Params,
    trace: Trace,
    d_logits: np.ndarray | None = None,
    *,
    d_top: np.ndarray | None = None,
    dh_final: np.ndarray | None = None,
    dc_final: np.ndarray | None = None,
) -> Gradients:
    """Gradients of a loss given dL/dy_t (``d_logits``), dL/dh_t^top (``d_top``) and/or dL/d(final state)."""
    config: NetworkConfig = trace.config
    params = cast_params(params, config)
    dtype = config.np_dtype
    T, B = trace.num_steps, trace.batch_size
    H, D = config.hidden_size, config.num_directions
    grads: dict[str, np.ndarray] = {}
    g_top = np.zeros((T, B, config.top_size), dtype) if d_top is None else np.array(d_top, dtype=dtype)
    if config.output_size is not None:
        dy = np.zeros((T, B, config.output_size), dtype) if d_logits is None else np.asarray(d_logits, dtype)
        flat_dy = dy.reshape(T * B, -1)
        grads["output.weight"] = flat_dy.T @ trace.top.reshape(T * B, -1)
        grads["output.bias"] = flat_dy.sum(0)
        g_top += dy @ params["output.weight"]
    elif d_logits is not None:
        raise ValueError("d_logits given but the network has no output layer")

    dh_all: list[list[np.ndarray]] = [[] for _ in range(config.num_layers)]
    dc_all: list[list[np.ndarray | None]] = [[] for _ in range(config.num_layers)]
    dh0 = np.zeros((config.num_layers * D, B, H), dtype)
    dc0 = np.zeros_like(dh0) if config.has_cell_state else None
    g_out = g_top
    for layer in reversed(range(config.num_layers)):
        g_in = np.zeros(trace.layers[layer][0].x.shape, dtype)
        for d, lt in enumerate(trace.layers[layer]):
            w_ih, w_hh, b_ih, b_hh = recurrent_names(layer, lt.reverse)
            idx = layer * D + d
            lg = backward_layer(
                lt,
                params[w_hh],
                np.ascontiguousarray(g_out[..., d * H : (d + 1) * H]),
                None if dh_final is None else dh_final[idx],
                None if dc_final is None or not config.has_cell_state else dc_final[idx],
            )
            G = lg.d_in.shape[-1]
            d_in = lg.d_in.reshape(T * B, G)
            d_hid = lg.d_hid.reshape(T * B, G)
            grads[w_ih] = d_in.T @ lt.x.reshape(T * B, -1)
            grads[w_hh] = d_hid.T @ lt.h_prev.reshape(T * B, H)
            grads[b_ih] = d_in.sum(0)
            grads[b_hh] = d_hid.sum(0)
            g_in += (d_in @ params[w_ih]).reshape(g_in.shape)
            dh_all[layer].append(lg.dh)
            dc_all[layer].append(lg.dc)
            dh0[idx] = lg.dh0
            if dc0 is not None and lg.dc0 is not None:
                dc0[idx] = lg.dc0
        g_out = g_in
    if config.input_encoding == "embedding":
        assert trace.tokens is not None
        g_emb = np.zeros_like(params["embedding.weight"])
        np.add.at(g_emb, trace.tokens.reshape(-1), g_out.reshape(T * B, -1))
        grads["embedding.weight"] = g_emb
    ordered = {name: grads[name] for name in params if name in grads}
    return Gradients(ordered, dh_all, dc_all, dh0, dc0, g_out)


#: What an upstream gradient may be taken with respect to: the top layer's h (directions concatenated), or y.
UPSTREAM_OF = ("h", "y")


def backward_from_output(
    params: Params, trace: Trace, d_output: np.ndarray, of: str = "h"
) -> tuple[float, Gradients]:
    """Gradients of any loss L given its upstream gradient ``d_output``: dL/dh_t^top (of='h', (T, B, D*H))
    or dL/dy_t (of='y', (T, B, O)). Padded positions (past a sequence's length) are not part of the
    sequence and are ignored. Returns the surrogate sum(d_output * out) and the gradients."""
    if of == "h":
        value, grad = losses.linear(trace.top, d_output, trace.mask)
        return value, backward(params, trace, d_top=grad)
    if of == "y":
        if trace.logits is None:
            raise ValueError("an upstream gradient of y needs an output layer (output_size)")
        value, grad = losses.linear(trace.logits, d_output, trace.mask)
        return value, backward(params, trace, grad)
    raise ValueError(f"of must be one of {UPSTREAM_OF}, got {of!r}")


def loss_and_gradients(
    params: Params,
    config: NetworkConfig,
    inputs: np.ndarray,
    targets: np.ndarray,
    *,
    loss: str = "cross_entropy",
    where: str | None = None,
    shape: str = "many_to_many",
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    lengths: np.ndarray | list[int] | None = None,
    interventions: Sequence[Intervention] = (),
) -> tuple[float, Trace, Gradients]:
    """Forward, loss and BPTT in one call. ``where``: 'all' steps, 'last' step, or None for the shape's outputs.

    With ``interventions`` (core.interventions) the gradients are those of the intervened run: an intervened
    number is a constant, so nothing upstream of it gets gradient through it."""
    if config.output_size is None:
        raise ValueError("a loss needs an output layer (output_size)")
    trace = forward(
        params, config, inputs, h0=h0, c0=c0, lengths=lengths, shape=shape, interventions=interventions
    )
    weights = output_weights(trace, where)
    assert trace.logits is not None
    value, d_logits = losses.compute(
        loss, trace.logits, targets, weights, config.output_activation == "softmax"
    )
    return value, trace, backward(params, trace, d_logits)


def state_jacobian_norms(params: Params, trace: Trace, b: int = 0) -> list[list[np.ndarray]]:
    """||dh_T/dh_t||_F over t for sequence b, per layer and direction (within each layer's own recurrence)."""
    params = cast_params(params, trace.config)
    return [
        [_layer_jacobian_norms(lt, params[recurrent_names(lt.layer, lt.reverse)[1]], b) for lt in row]
        for row in trace.layers
    ]
