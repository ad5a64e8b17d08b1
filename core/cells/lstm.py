"""LSTM cell, as PyTorch's nn.LSTM (gate chunks i, f, g, o):

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)     input gate
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)     forget gate
    g_t = tanh   (W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)     candidate (often written C~_t)
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)     output gate
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

The forward step evaluates all four gates at once: since sigmoid(z) = 0.5 tanh(z/2) + 0.5, the activation of the
whole gate row is tanh(s * z) * s + m with s = (1/2, 1/2, 1, 1/2) and m = (1/2, 1/2, 0, 1/2) per chunk: one tanh
over 4H numbers instead of four calls. Where W_hh is small enough to copy, s is folded into that copy and into
the input projections before the loop (scaling by a power of two is exact), so each step hands tanh its
pre-activations directly; the record's pre-activations are scaled back after the loop.

The cell update is one product over two adjacent pairs: each step's record row is [c_{t-1} | i f g o], so
[c_{t-1}, i_t] * [f_t, g_t] = [f_t c_{t-1}, i_t g_t], and c_t is the sum of the two halves, written straight into
the c_{t-1} slot of the row of the next step processed. Nine NumPy calls a step in all, a GEMV among them.

Backward, with dh = dL/dh_t and dc = dL/dc_t arriving from later timesteps:

    do = dh * tanh(c_t)                    dc_t' = dc + dh * o_t * (1 - tanh^2(c_t))
    di = dc_t' * g_t     df = dc_t' * c_{t-1}     dg = dc_t' * i_t     dL/dc_{t-1} = dc_t' * f_t
    d pre = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)]      dL/dh_{t-1} = d pre W_hh

The same step written plainly, one sequence and one equation a line, is core.cells.reference.lstm_step (and
lstm_step_backward); tests/core/test_reference_cells.py checks that this kernel computes what they do.
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

GATES = ("i", "f", "g", "o")


def _allocate(T: int, B: int, H: int, dtype: np.dtype, reverse: bool = False) -> Record:
    """pre, act, c, tanh_c, h as (T, B, width) arrays; act and c are views into ``rows``.

    ``rows`` holds [c_{t-1} | act_t] for each step t, c_{t-1} being the cell state of the step processed before
    t (t - 1 forward, t + 1 in reverse). So c_t is the c_{t-1} slot of the row after (forward) or before
    (reverse) row t, and the rows come from a block of T + 1.
    """
    record = zeroed_record(T, B, {"pre": 4 * H, "rows": 5 * H, "tanh_c": H, "h": H}, dtype, extra_row=("rows",))
    rows = record["rows"]
    record["rows"], record["c"] = (rows[1:], rows[:-1, :, :H]) if reverse else (rows[:-1], rows[1:, :, :H])
    record["act"] = record["rows"][..., H:]
    return record


def _workspace(B: int, H: int, dtype: np.dtype) -> Workspace:
    # Full (B, 4H) rows rather than (4H,) vectors: a ufunc on equal shapes skips broadcasting, which for small
    # H costs as much as the arithmetic.
    scale = np.full((B, 4 * H), 0.5, dtype)
    scale[:, 2 * H : 3 * H] = 1.0
    shift = np.full((B, 4 * H), 0.5, dtype)
    shift[:, 2 * H : 3 * H] = 0.0
    return {"hid": np.empty((B, 4 * H), dtype), "pair": np.empty((B, 2 * H), dtype), "scale": scale,
            "shift": shift}


def _input_bias(b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    bias: np.ndarray = b_ih + b_hh
    return bias


def _scan(
    rec: Record, times: range, h_prev: np.ndarray, c_prev: np.ndarray, W_hhT: np.ndarray,
    b_hh: np.ndarray, work: Workspace, mask: np.ndarray | None = None,
    edits: LayerEdits | None = None,
) -> State:
    if edits:
        return _scan_edited(rec, times, h_prev, c_prev, W_hhT, b_hh, work, mask, edits)
    # The whole time loop in one function, every per-step view taken by iterating the record arrays (cheaper
    # than indexing them) and the GEMV called as ndarray.dot (np.dot adds a Python-level dispatch per call).
    H = h_prev.shape[-1]
    hid, pair, scale, shift = work["hid"], work["pair"], work["scale"], work["shift"]
    fc, ig = pair[:, :H], pair[:, H:]
    h_prev = h_prev.astype(hid.dtype, copy=False)  # dot writes only its own dtype to out
    span = time_slice(times)
    pre, rows = rec["pre"][span], rec["rows"][span]
    written = written_bytes([rec["pre"], rec["rows"], rec["tanh_c"], rec["h"]], span)
    W_hhT, prescaled = fold_gate_scale(W_hhT, pre, written, len(times), scale[0])
    rows[0][:, :H] = c_prev
    steps = zip(
        pre,
        rows[..., H:],
        rows[..., : 2 * H],
        rows[..., 2 * H : 4 * H],
        rows[..., 4 * H :],
        rec["c"][span],
        rec["tanh_c"][span],
        rec["h"][span],
        ended_rows(mask, times),
        strict=False,
    )
    dot, add, multiply, tanh = np.ndarray.dot, np.add, np.multiply, np.tanh
    for z, a, c_prev_i, f_g, o, c, tc, h, ended in steps:
        dot(h_prev, W_hhT, hid)
        add(z, hid, z)
        if prescaled:
            tanh(z, a)
        else:
            multiply(z, scale, a)
            tanh(a, a)
        multiply(a, scale, a)
        add(a, shift, a)
        multiply(c_prev_i, f_g, pair)
        add(fc, ig, c)
        tanh(c, tc)
        multiply(o, tc, h)
        if ended is not None:
            carry_over(ended, h, h_prev, c, c_prev)
        h_prev, c_prev = h, c
    unfold_gate_scale(pre, scale[0], prescaled)
    return h_prev, c_prev


def _scan_edited(
    rec: Record, times: range, h_prev: np.ndarray, c_prev: np.ndarray, W_hhT: np.ndarray,
    b_hh: np.ndarray, work: Workspace, mask: np.ndarray | None,
    edits: LayerEdits,
) -> State:
    # _scan's loop with the interventions of core.interventions written in where their numbers are computed:
    # the same NumPy calls in the same order on the same layout of W_hh, so that an intervention writing the
    # value a step computes anyway leaves every number bit for bit as it was. Runs with interventions only.
    H = h_prev.shape[-1]
    hid, pair, scale, shift = work["hid"], work["pair"], work["scale"], work["shift"]
    fc, ig = pair[:, :H], pair[:, H:]
    h_prev = h_prev.astype(hid.dtype, copy=False)
    span = time_slice(times)
    pre, rows = rec["pre"][span], rec["rows"][span]
    written = written_bytes([rec["pre"], rec["rows"], rec["tanh_c"], rec["h"]], span)
    W_hhT, prescaled = fold_gate_scale(W_hhT, pre, written, len(times), scale[0])
    rows[0][:, :H] = c_prev
    steps = zip(
        pre,
        rows[..., H:],
        rows[..., : 2 * H],
        rows[..., 2 * H : 4 * H],
        rows[..., 4 * H :],
        rec["c"][span],
        rec["tanh_c"][span],
        rec["h"][span],
        ended_rows(mask, times),
        [edits.get(t) for t in times],
        strict=False,
    )
    for z, a, c_prev_i, f_g, o, c, tc, h, ended, edit in steps:
        np.ndarray.dot(h_prev, W_hhT, hid)
        np.add(z, hid, z)
        if prescaled:
            np.tanh(z, a)
        else:
            np.multiply(z, scale, a)
            np.tanh(a, a)
        np.multiply(a, scale, a)
        np.add(a, shift, a)
        if edit is not None:
            edit.set_gates(a)
        np.multiply(c_prev_i, f_g, pair)
        np.add(fc, ig, c)
        if edit is not None:
            edit.set_c(c)
        np.tanh(c, tc)
        np.multiply(o, tc, h)
        if edit is not None:
            edit.set_h(h)
        if ended is not None:
            carry_over(ended, h, h_prev, c, c_prev)
        h_prev, c_prev = h, c
    unfold_gate_scale(pre, scale[0], prescaled)
    return h_prev, c_prev


def _step_backward(
    rec: Record, t: int, h_prev: np.ndarray, c_prev: np.ndarray, W_hh: np.ndarray, dh: np.ndarray,
    dc: np.ndarray, edit: StepEdit | None = None,
) -> StepGradients:
    H = W_hh.shape[1]
    a = rec["act"][t]
    i, f, g, o = a[..., :H], a[..., H : 2 * H], a[..., 2 * H : 3 * H], a[..., 3 * H :]
    tc = rec["tanh_c"][t]
    dc_total = dc + dh * o * (1.0 - tc * tc)
    # A set c_t[u] is a constant: its gradient stops there instead of flowing on to i, f, g and c_{t-1}.
    dc_on = dc_total if edit is None or edit.c_keep is None else dc_total * edit.c_keep
    d_pre = np.concatenate(
        [
            dc_on * g * i * (1.0 - i),
            dc_on * c_prev * f * (1.0 - f),
            dc_on * i * (1.0 - g * g),
            dh * tc * o * (1.0 - o),
        ],
        axis=-1,
    )
    if edit is not None and edit.gate_keep is not None:
        d_pre *= edit.gate_keep  # a clamped gate does not depend on its pre-activation
    return d_pre, d_pre, d_pre @ W_hh, dc_on * f, dc_total


def _quantities(rec: Record) -> dict[str, np.ndarray]:
    q = {f"{k}_pre": v for k, v in chunks(rec["pre"], GATES).items()}
    q.update(chunks(rec["act"], GATES))
    q.update(c=rec["c"], tanh_c=rec["tanh_c"], h=rec["h"])
    return q


LSTM = Kernel(
    name="lstm",
    gates=GATES,
    has_cell_state=True,
    allocate=_allocate,
    workspace=_workspace,
    input_bias=_input_bias,
    step=step_from_scan(_scan),
    scan=_scan,
    step_backward=_step_backward,
    quantities=_quantities,
)
