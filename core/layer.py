"""Run one recurrent layer in one direction over a whole sequence, forward and backward.

Forward: one GEMM projects every timestep's input at once, pre[t] = x_t W_ih^T + bias, then the cell's
``scan`` finishes each timestep in place, in time order. Padded batches carry a mask (T, B): where a sequence
has ended, the state is carried over unchanged, so a reverse layer starts at each sequence's own last element,
as PyTorch's packed sequences do.

Backward (BPTT): walk the timesteps in the opposite order of the forward pass, adding the gradient from outside the
layer (output or layer above) at each step to the gradient carried from the next step. No clipping here: clipping
belongs to the optimizer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.cells import Kernel
from core.cells.kernel import Record
from core.interventions import LayerEdits, StepEdit


@dataclass
class LayerTrace:
    """Everything one layer, one direction, recorded: arrays shaped (T, B, ...)."""

    layer: int
    reverse: bool
    kernel: Kernel
    x: np.ndarray  # (T, B, input size) the layer's input
    record: Record
    h0: np.ndarray  # (B, H)
    c0: np.ndarray | None  # (B, H) for the LSTM
    mask: np.ndarray | None = None  # (T, B) True where a sequence has an element
    edits: LayerEdits | None = None  # {t: StepEdit}: the interventions of this layer and direction
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def h(self) -> np.ndarray:
        return self.record["h"]

    @property
    def c(self) -> np.ndarray | None:
        return self.record.get("c")

    def time_order(self) -> range:
        T = self.h.shape[0]
        return range(T - 1, -1, -1) if self.reverse else range(T)

    def _shifted(self, states: np.ndarray, initial: np.ndarray) -> np.ndarray:
        out = np.empty_like(states)
        if self.reverse:
            out[:-1] = states[1:]
            out[-1] = initial
        else:
            out[1:] = states[:-1]
            out[0] = initial
        return out

    @property
    def h_prev(self) -> np.ndarray:
        """h_{t-1} as seen by step t (h0 at the first step processed)."""
        if "h_prev" not in self._cache:
            self._cache["h_prev"] = self._shifted(self.h, self.h0)
        return self._cache["h_prev"]

    @property
    def c_prev(self) -> np.ndarray | None:
        if self.c is None or self.c0 is None:
            return None
        if "c_prev" not in self._cache:
            self._cache["c_prev"] = self._shifted(self.c, self.c0)
        return self._cache["c_prev"]

    def quantities(self, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """Named (T, B, H) arrays: x is left out (its width differs), h_prev / c_prev included.

        With ``names``, only those (in that order): h_prev and c_prev are copies, made only when asked for.
        """
        q = dict(self.kernel.quantities(self.record))
        wanted = names if names is not None else (*q, "h_prev", "c_prev")
        if "h_prev" in wanted:
            q["h_prev"] = self.h_prev
        if "c_prev" in wanted and self.c_prev is not None:
            q["c_prev"] = self.c_prev
        return q if names is None else {name: q[name] for name in names}

    def final_state(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(h, c) after the last step processed; with carry-over masking that is each sequence's own end."""
        t_last = 0 if self.reverse else self.h.shape[0] - 1
        c = self.c[t_last] if self.c is not None else None
        return self.h[t_last], c


def project_inputs(pre: np.ndarray, x: np.ndarray, W_ih: np.ndarray, bias: np.ndarray) -> None:
    """pre[t] = x_t W_ih^T + bias for every t, as one GEMM written straight into the record."""
    T, B, G = pre.shape
    np.matmul(x.reshape(T * B, -1), W_ih.T, out=pre.reshape(T * B, G))
    pre += bias


def run_layer(
    kernel: Kernel,
    x: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray | None,
    *,
    layer: int = 0,
    reverse: bool = False,
    mask: np.ndarray | None = None,
    edits: LayerEdits | None = None,
) -> LayerTrace:
    T, B, _ = x.shape
    H = W_hh.shape[1]
    dtype = W_hh.dtype
    record = kernel.allocate(T, B, H, dtype, reverse=reverse)
    work = kernel.workspace(B, H, dtype)
    trace = LayerTrace(layer, reverse, kernel, x, record, h0, c0, mask, edits or None)
    with np.errstate(over="ignore", invalid="ignore"):
        # Inside the errstate too: a diverged layer below hands this one infinite inputs (inf - inf = NaN).
        project_inputs(record["pre"], x, W_ih, kernel.input_bias(b_ih, b_hh))
        kernel.scan(record, trace.time_order(), h0, c0, W_hh.T, b_hh, work, mask, trace.edits)
    return trace


def _cut_at_edit(edit: StepEdit | None, dh: np.ndarray) -> np.ndarray:
    """dL/dh_t as it flows on into step t: zero at the units an intervention set (a constant of the run)."""
    if edit is None or edit.h_keep is None:
        return dh
    cut: np.ndarray = dh * edit.h_keep
    return cut


@dataclass
class LayerGradients:
    d_in: np.ndarray  # (T, B, G*H) gradient of the input projection
    d_hid: np.ndarray  # (T, B, G*H) gradient of the hidden projection
    dh: np.ndarray  # (T, B, H) total dL/dh_t
    dc: np.ndarray | None  # (T, B, H) total dL/dc_t (LSTM)
    dh0: np.ndarray
    dc0: np.ndarray | None


def backward_layer(
    trace: LayerTrace,
    W_hh: np.ndarray,
    dh_external: np.ndarray,
    dh_final: np.ndarray | None = None,
    dc_final: np.ndarray | None = None,
) -> LayerGradients:
    """Backprop through time for one layer: dh_external (T, B, H) is dL/dh_t from outside the recurrence."""
    kernel = trace.kernel
    record = trace.record
    T, B, H = trace.h.shape
    G = record["pre"].shape[-1]
    dtype = dh_external.dtype
    d_in = np.zeros((T, B, G), dtype)
    d_hid = np.zeros((T, B, G), dtype)
    dh_total = np.zeros((T, B, H), dtype)
    dc_total = np.zeros((T, B, H), dtype) if kernel.has_cell_state else None
    h_prev_all, c_prev_all = trace.h_prev, trace.c_prev
    dh_carry = np.zeros((B, H), dtype) if dh_final is None else dh_final.astype(dtype, copy=True)
    dc_carry = None
    if kernel.has_cell_state:
        dc_carry = np.zeros((B, H), dtype) if dc_final is None else dc_final.astype(dtype, copy=True)
    mask = trace.mask
    edits = trace.edits or {}
    for t in reversed(trace.time_order()):
        dh_t = dh_external[t] + dh_carry
        dh_total[t] = dh_t
        c_prev = c_prev_all[t] if c_prev_all is not None else None
        edit = edits.get(t)
        din_t, dhid_t, dh_prev, dc_prev, dc_t = kernel.step_backward(
            record, t, h_prev_all[t], c_prev, W_hh, _cut_at_edit(edit, dh_t), dc_carry, edit
        )
        if mask is not None and not mask[t].all():
            # An ended sequence copied its state through this step: the gradient passes straight back.
            live = mask[t][:, None]
            din_t = np.where(live, din_t, 0.0)
            dhid_t = np.where(live, dhid_t, 0.0)
            dh_prev = np.where(live, dh_prev, dh_t)
            if dc_carry is not None:
                assert dc_t is not None and dc_prev is not None  # a cell with a cell state returns both
                dc_t = np.where(live, dc_t, dc_carry)
                dc_prev = np.where(live, dc_prev, dc_carry)
        d_in[t] = din_t
        d_hid[t] = dhid_t
        if dc_total is not None:
            dc_total[t] = dc_t
        dh_carry, dc_carry = dh_prev, dc_prev
    return LayerGradients(d_in, d_hid, dh_total, dc_total, dh_carry, dc_carry)


def state_jacobian_norms(trace: LayerTrace, W_hh: np.ndarray, b: int = 0) -> np.ndarray:
    """||dh_T / dh_t||_F for every t of sequence ``b``, within this layer and direction.

    h_T is the state after the last step processed (the first position for a reverse layer). The Jacobian is
    carried back as H cotangent rows at once, through h and (for the LSTM) c, with the same step_backward as BPTT.
    Entries for padded positions are NaN (they do not influence h_T).
    """
    T, _, H = trace.h.shape
    dtype = trace.h.dtype
    record = {k: v[:, b : b + 1] for k, v in trace.record.items()}
    h_prev_all = trace.h_prev[:, b]
    c_prev_all = trace.c_prev[:, b] if trace.c_prev is not None else None
    live = np.ones(T, bool) if trace.mask is None else trace.mask[:, b]
    norms = np.full(T, np.nan, dtype=np.float64)
    dh = np.eye(H, dtype=dtype)
    dc = np.zeros((H, H), dtype) if trace.kernel.has_cell_state else None
    edits = trace.edits or {}
    for t in reversed(trace.time_order()):
        if not live[t]:
            continue
        norms[t] = float(np.linalg.norm(dh))
        c_prev = c_prev_all[t][None] if c_prev_all is not None else None
        edit = edits.get(t)
        _, _, dh, dc, _ = trace.kernel.step_backward(
            record, t, h_prev_all[t][None], c_prev, W_hh, _cut_at_edit(edit, dh), dc, edit
        )
    return norms
