"""Vanilla (Elman) RNN cell, as PyTorch's nn.RNN (plus a sigmoid option):

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh      (pre-activation)
    h_t = act(a_t),   act in {tanh, sigmoid, relu}

Backward, with delta_t = dL/dh_t (from the output, the layer above and h_{t+1}):

    dL/da_t     = delta_t * act'(a_t)
    dL/dh_{t-1} = dL/da_t W_hh

The same step written plainly, one sequence and one equation a line, is core.cells.reference.rnn_step (and
rnn_step_backward); tests/core/test_reference_cells.py checks that this kernel computes what they do.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from core import activations
from core.cells.kernel import (
    Kernel,
    Record,
    State,
    StepGradients,
    Workspace,
    carry_over,
    ended_rows,
    recurrent_matrix,
    step_from_scan,
    time_slice,
    written_bytes,
    zeroed_record,
)

if TYPE_CHECKING:
    from core.interventions import LayerEdits, StepEdit


def _allocate(T: int, B: int, H: int, dtype: np.dtype, reverse: bool = False) -> Record:
    return zeroed_record(T, B, {"pre": H, "h": H}, dtype)


def _workspace(B: int, H: int, dtype: np.dtype) -> Workspace:
    return {"hid": np.empty((B, H), dtype)}


def _input_bias(b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    bias: np.ndarray = b_ih + b_hh
    return bias


def _quantities(rec: Record) -> dict[str, np.ndarray]:
    return {"pre": rec["pre"], "h": rec["h"]}


@cache
def rnn_kernel(nonlinearity: str) -> Kernel:
    if nonlinearity not in activations.NONLINEARITIES:
        raise ValueError(
            f"unknown nonlinearity {nonlinearity!r}; expected one of {activations.NONLINEARITIES}"
        )
    act = {"tanh": activations.tanh, "sigmoid": activations.sigmoid, "relu": activations.relu}[nonlinearity]

    def scan(
        rec: Record, times: range, h_prev: np.ndarray, c_prev: np.ndarray | None, W_hhT: np.ndarray,
        b_hh: np.ndarray, work: Workspace, mask: np.ndarray | None = None, edits: LayerEdits | None = None,
    ) -> State:
        if edits:
            return scan_edited(rec, times, h_prev, W_hhT, work, mask, edits)
        span = time_slice(times)
        W_hhT, _ = recurrent_matrix(W_hhT, written_bytes(list(rec.values()), span), len(times))
        hid = work["hid"]
        h_prev = h_prev.astype(hid.dtype, copy=False)  # dot writes only its own dtype to out
        dot, add = np.ndarray.dot, np.add
        for pre, h, ended in zip(rec["pre"][span], rec["h"][span], ended_rows(mask, times), strict=False):
            dot(h_prev, W_hhT, hid)
            add(pre, hid, pre)
            act(pre, h)
            if ended is not None:
                carry_over(ended, h, h_prev, None, None)
            h_prev = h
        return h_prev, None

    def scan_edited(
        rec: Record, times: range, h_prev: np.ndarray, W_hhT: np.ndarray, work: Workspace,
        mask: np.ndarray | None, edits: LayerEdits,
    ) -> State:
        # scan's loop with h_t set where an intervention says (the cell has no gates to clamp): the same calls
        # on the same layout of W_hh, so setting h_t to the value it has changes no bit.
        span = time_slice(times)
        W_hhT, _ = recurrent_matrix(W_hhT, written_bytes(list(rec.values()), span), len(times))
        hid = work["hid"]
        h_prev = h_prev.astype(hid.dtype, copy=False)
        steps = zip(rec["pre"][span], rec["h"][span], ended_rows(mask, times), [edits.get(t) for t in times],
                    strict=False)
        for pre, h, ended, edit in steps:
            np.ndarray.dot(h_prev, W_hhT, hid)
            np.add(pre, hid, pre)
            act(pre, h)
            if edit is not None:
                edit.set_h(h)
            if ended is not None:
                carry_over(ended, h, h_prev, None, None)
            h_prev = h
        return h_prev, None

    def step_backward(
        rec: Record, t: int, h_prev: np.ndarray, c_prev: np.ndarray | None, W_hh: np.ndarray, dh: np.ndarray,
        dc: np.ndarray | None, edit: StepEdit | None = None,
    ) -> StepGradients:
        # A set h_t[u] is handled by the caller (core.layer), which stops dh_t[u] before it reaches here.
        d_pre = dh * activations.derivative_from_output(nonlinearity, rec["h"][t])
        return d_pre, d_pre, d_pre @ W_hh, None, None

    return Kernel(
        name=f"rnn_{nonlinearity}",
        gates=("h",),
        has_cell_state=False,
        allocate=_allocate,
        workspace=_workspace,
        input_bias=_input_bias,
        step=step_from_scan(scan),
        scan=scan,
        step_backward=step_backward,
        quantities=_quantities,
    )
