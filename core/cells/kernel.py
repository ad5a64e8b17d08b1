"""The contract between a cell and the code that runs it over time.

A cell's record for one layer and direction is a dict of arrays shaped (T, B, width), allocated once. Before the
time loop the runner writes the input projection of every timestep into ``record["pre"]`` with one GEMM:

    pre[t] = x_t W_ih^T + input_bias(b_ih, b_hh)

``step`` then finishes timestep t from h_{t-1} (and c_{t-1}), writing every gate's pre-activation, activation and
the new state into the record. ``step_backward`` maps the gradient arriving at (h_t, c_t) to the gradients of the
input projection, the hidden projection and the previous state. Arrays broadcast, so the same code propagates a
batch of cotangent rows for a single sequence (used for the Jacobian norms ||dh_T / dh_t||).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Record = dict[str, np.ndarray]
Workspace = dict[str, np.ndarray]


@dataclass(frozen=True)
class Kernel:
    name: str
    #: Gate chunks of the stacked weight matrices, in PyTorch's order.
    gates: tuple[str, ...]
    has_cell_state: bool
    #: (T, B, H, dtype) -> record of zeroed arrays.
    allocate: Callable[[int, int, int, np.dtype], Record]
    #: (B, H, dtype) -> scratch buffers reused across timesteps.
    workspace: Callable[[int, int, np.dtype], Workspace]
    #: (b_ih, b_hh) -> the bias folded into the precomputed input projection.
    input_bias: Callable[[np.ndarray, np.ndarray], np.ndarray]
    #: (record, t, h_prev, c_prev, W_hh^T, b_hh, workspace) -> (h_t, c_t or None), views into the record.
    step: Callable[..., tuple[np.ndarray, np.ndarray | None]]
    #: (record, t, h_prev, c_prev, W_hh, dh_t, dc_t) ->
    #:     (d input projection, d hidden projection, dh_prev, dc_prev, total dL/dc_t or None)
    step_backward: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]]
    #: record -> named (T, B, H) views: every gate's pre-activation and activation, candidate, states.
    quantities: Callable[[Record], dict[str, np.ndarray]]


def chunks(a: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Split the last axis of ``a`` into equal named views."""
    width = a.shape[-1] // len(names)
    return {name: a[..., k * width : (k + 1) * width] for k, name in enumerate(names)}
