"""How far back a network looks: the influence of each input on one output, by BPTT.

For one sequence x_0 .. x_{T-1} and the output y_s = W_hy h_s + b_y read at step s (the logits, before any
softmax), the influence of step t is the Jacobian

    J_t = dy_s / dx_t        (O x I),      and its size  ||J_t||_F = sqrt(sum_{k,i} (dy_{s,k} / dx_{t,i})^2).

Row k of every J_t is the input gradient of the surrogate loss L_k = y_{s,k}, i.e. one backward pass from the
upstream gradient dL/dy = e_k at step s (core.bptt.backward_from_output). The O passes run as one batch: the
sequence is repeated O times and copy k is seeded with e_k, so the result is exact (no finite differences) and
costs a single forward and backward call. J_t = 0 for t > s in a one-directional network (the future cannot
reach the past); a bidirectional one looks both ways.

x_t is what the first layer reads: the input vector, the one-hot vector of a token, or its embedding row.
"""

from __future__ import annotations

import numpy as np

from core import bptt
from core.config import NetworkConfig
from core.network import forward
from core.params import Params


def input_jacobians(
    params: Params, config: NetworkConfig, inputs: np.ndarray, step: int = -1, shape: str = "many_to_many"
) -> np.ndarray:
    """(T, O, I) dy_step/dx_t for one sequence: ``inputs`` (T, I) vectors or (T,) tokens; ``step`` may count
    from the end (-1: the last step)."""
    if config.output_size is None:
        raise ValueError("the influence on an output needs an output layer (output_size)")
    x = np.asarray(inputs)
    if x.ndim != (2 if config.input_encoding == "vector" else 1):
        raise ValueError("give one sequence: (T, input_size) vectors or (T,) token ids")
    T, O = x.shape[0], config.output_size
    if not -T <= step < T:
        raise ValueError(f"step must lie in [{-T}, {T - 1}] for a sequence of {T} steps, got {step}")
    tiled = np.repeat(x[:, None], O, axis=1)  # (T, O, ...): copy k of the sequence carries output unit k
    trace = forward(params, config, tiled, shape=shape)
    upstream = np.zeros((T, O, O), dtype=config.np_dtype)
    upstream[step % T, np.arange(O), np.arange(O)] = 1.0
    _, grads = bptt.backward_from_output(params, trace, upstream, of="y")
    return grads.d_inputs  # d_inputs[t, k] = dy_{step,k} / dx_t


def influence_norms(
    params: Params, config: NetworkConfig, inputs: np.ndarray, step: int = -1, shape: str = "many_to_many"
) -> np.ndarray:
    """(T,) ||dy_step/dx_t||_F over t."""
    jac = input_jacobians(params, config, inputs, step, shape)
    norms: np.ndarray = np.sqrt((jac.astype(np.float64) ** 2).sum(axis=(1, 2)))
    return norms
