"""GRU cell, as PyTorch's nn.GRU (gate chunks r, z, n; the reset gate multiplies the hidden projection):

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)          reset gate
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)          update gate
    hn_t = W_hn h_{t-1} + b_hn                                    hidden part of the candidate
    n_t = tanh(W_in x_t + b_in + r_t * hn_t)                      candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

Backward, with dh = dL/dh_t:

    dn = dh (1 - z)(1 - n^2)         dz = dh (h_{t-1} - n) z (1 - z)        dr = dn * hn * r (1 - r)
    d input projection  = [dr, dz, dn]
    d hidden projection = [dr, dz, dn * r]
    dL/dh_{t-1} = dh * z + (d hidden projection) W_hh

The same step written plainly, one sequence and one equation a line, is core.cells.reference.gru_step (and
gru_step_backward); tests/core/test_reference_cells.py checks that this kernel computes what they do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from core.cells.kernel import (
    Kernel,
    Record,
    State,
    StepGradients,
    Workspace,
    carry_over,
    chunks,
    ended_rows,
    fold_gate_scale,
    step_from_scan,
    time_slice,
    unfold_gate_scale,
    written_bytes,
    zeroed_record,
)

if TYPE_CHECKING:
    from core.interventions import LayerEdits, StepEdit

GATES = ("r", "z", "n")


def _allocate(T: int, B: int, H: int, dtype: np.dtype, reverse: bool = False) -> Record:
    return zeroed_record(T, B, {"pre": 3 * H, "act": 3 * H, "hn": H, "h": H}, dtype)


def _workspace(B: int, H: int, dtype: np.dtype) -> Workspace:
    # A (B, 2H) array of halves rather than the scalar 0.5: NumPy converts a Python scalar on every call.
    # ``scale`` holds each gate column's factor in the tanh form of the sigmoid (1/2 for r and z, 1 for n).
    scale = np.ones(3 * H, dtype)
    scale[: 2 * H] = 0.5
    return {"hid": np.empty((B, 3 * H), dtype), "tmp": np.empty((B, H), dtype),
            "half": np.full((B, 2 * H), 0.5, dtype), "scale": scale}


def _input_bias(b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    # b_hr and b_hz add straight into their gates; b_hn sits inside r * (W_hn h + b_hn), so it stays out.
    H = b_ih.shape[0] // 3
    bias = b_ih.copy()
    bias[: 2 * H] += b_hh[: 2 * H]
    return bias


def _scan(
    rec: Record, times: range, h_prev: np.ndarray, c_prev: np.ndarray | None, W_hhT: np.ndarray,
    b_hh: np.ndarray, work: Workspace, mask: np.ndarray | None = None,
    edits: LayerEdits | None = None,
) -> State:
    if edits:
        return _scan_edited(rec, times, h_prev, c_prev, W_hhT, b_hh, work, mask, edits)
    # The whole time loop in one function: a GEMV and eleven in-place ufunc calls per step (twelve when W_hh
    # is not copied), every per-step view taken by iterating the record arrays (cheaper than indexing them).
    # As in the LSTM, the sigmoid's 1/2 for r and z is folded into the copy of W_hh and into the input
    # projections (exact: a power of two), and the record's pre-activations are scaled back after the loop.
    H = h_prev.shape[-1]
    hid, tmp, half, scale = work["hid"], work["tmp"], work["half"], work["scale"]
    h_prev = h_prev.astype(hid.dtype, copy=False)  # dot writes only its own dtype to out
    hid_rz, hid_n = hid[:, : 2 * H], hid[:, 2 * H :]
    b_hn = np.tile(b_hh[2 * H :], (h_prev.shape[0], 1))  # one row per sequence: equal shapes, no broadcasting
    span = time_slice(times)
    pre, act = rec["pre"][span], rec["act"][span]
    W_hhT, prescaled = fold_gate_scale(W_hhT, pre, written_bytes(list(rec.values()), span), len(times), scale)
    steps = zip(
        pre[..., : 2 * H], pre[..., 2 * H :], act[..., : 2 * H], act[..., :H], act[..., H : 2 * H],
        act[..., 2 * H :], rec["hn"][span], rec["h"][span], ended_rows(mask, times), strict=False,
    )
    dot, add, subtract, multiply, tanh = np.ndarray.dot, np.add, np.subtract, np.multiply, np.tanh
    for pre_rz, pre_n, rz, r, z, n, hn, h, ended in steps:
        dot(h_prev, W_hhT, hid)
        add(pre_rz, hid_rz, pre_rz)
        if prescaled:
            tanh(pre_rz, rz)
        else:
            multiply(pre_rz, half, rz)
            tanh(rz, rz)
        multiply(rz, half, rz)
        add(rz, half, rz)
        add(hid_n, b_hn, hn)
        multiply(r, hn, tmp)
        add(pre_n, tmp, pre_n)
        tanh(pre_n, n)
        # h = n + z * (h_prev - n)
        subtract(h_prev, n, h)
        multiply(h, z, h)
        add(h, n, h)
        if ended is not None:
            carry_over(ended, h, h_prev, None, None)
        h_prev = h
    unfold_gate_scale(pre, scale, prescaled)
    return h_prev, None


def _scan_edited(
    rec: Record, times: range, h_prev: np.ndarray, c_prev: np.ndarray | None, W_hhT: np.ndarray,
    b_hh: np.ndarray, work: Workspace, mask: np.ndarray | None,
    edits: LayerEdits,
) -> State:
    # _scan's loop with the interventions of core.interventions written in where their numbers are computed
    # (r and z as soon as they are, n before h reads it): the same NumPy calls in the same order on the same
    # layout of W_hh, so an intervention writing the value a step computes anyway changes no bit.
    H = h_prev.shape[-1]
    hid, tmp, half, scale = work["hid"], work["tmp"], work["half"], work["scale"]
    h_prev = h_prev.astype(hid.dtype, copy=False)
    hid_rz, hid_n = hid[:, : 2 * H], hid[:, 2 * H :]
    b_hn = np.tile(b_hh[2 * H :], (h_prev.shape[0], 1))
    span = time_slice(times)
    pre, act = rec["pre"][span], rec["act"][span]
    W_hhT, prescaled = fold_gate_scale(W_hhT, pre, written_bytes(list(rec.values()), span), len(times), scale)
    steps = zip(
        pre[..., : 2 * H], pre[..., 2 * H :], act[..., : 2 * H], act[..., :H], act[..., H : 2 * H],
        act[..., 2 * H :], rec["hn"][span], rec["h"][span], ended_rows(mask, times),
        [edits.get(t) for t in times], strict=False,
    )
    for pre_rz, pre_n, rz, r, z, n, hn, h, ended, edit in steps:
        np.ndarray.dot(h_prev, W_hhT, hid)
        np.add(pre_rz, hid_rz, pre_rz)
        if prescaled:
            np.tanh(pre_rz, rz)
        else:
            np.multiply(pre_rz, half, rz)
            np.tanh(rz, rz)
        np.multiply(rz, half, rz)
        np.add(rz, half, rz)
        if edit is not None:
            edit.set_gates(rz)
        np.add(hid_n, b_hn, hn)
        np.multiply(r, hn, tmp)
        np.add(pre_n, tmp, pre_n)
        np.tanh(pre_n, n)
        if edit is not None:
            edit.set_gates(n, 2 * H)
        np.subtract(h_prev, n, h)
        np.multiply(h, z, h)
        np.add(h, n, h)
        if edit is not None:
            edit.set_h(h)
        if ended is not None:
            carry_over(ended, h, h_prev, None, None)
        h_prev = h
    unfold_gate_scale(pre, scale, prescaled)
    return h_prev, None


def _step_backward(
    rec: Record, t: int, h_prev: np.ndarray, c_prev: np.ndarray | None, W_hh: np.ndarray, dh: np.ndarray,
    dc: np.ndarray | None, edit: StepEdit | None = None,
) -> StepGradients:
    H = W_hh.shape[1]
    a = rec["act"][t]
    r, z, n = a[..., :H], a[..., H : 2 * H], a[..., 2 * H :]
    hn = rec["hn"][t]
    dn_pre = dh * (1.0 - z) * (1.0 - n * n)
    dz_pre = dh * (h_prev - n) * z * (1.0 - z)
    if edit is not None and edit.gate_keep is not None:
        # A clamped gate does not depend on its pre-activation; a clamped n_t[u] also cuts r_t[u]'s only path.
        dr_keep, dz_keep, dn_keep = edit.gate_keep[:H], edit.gate_keep[H : 2 * H], edit.gate_keep[2 * H :]
        dn_pre = dn_pre * dn_keep
        dz_pre = dz_pre * dz_keep
        dr_pre = dn_pre * hn * r * (1.0 - r) * dr_keep
    else:
        dr_pre = dn_pre * hn * r * (1.0 - r)
    d_in = np.concatenate([dr_pre, dz_pre, dn_pre], axis=-1)
    d_hid = np.concatenate([dr_pre, dz_pre, dn_pre * r], axis=-1)
    return d_in, d_hid, dh * z + d_hid @ W_hh, None, None


def _quantities(rec: Record) -> dict[str, np.ndarray]:
    q = {f"{k}_pre": v for k, v in chunks(rec["pre"], GATES).items()}
    q.update(chunks(rec["act"], GATES))
    q.update(hn=rec["hn"], h=rec["h"])
    return q


GRU = Kernel(
    name="gru",
    gates=GATES,
    has_cell_state=False,
    allocate=_allocate,
    workspace=_workspace,
    input_bias=_input_bias,
    step=step_from_scan(_scan),
    scan=_scan,
    step_backward=_step_backward,
    quantities=_quantities,
)
