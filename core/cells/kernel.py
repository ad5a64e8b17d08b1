"""The contract between a cell and the code that runs it over time.

A cell's record for one layer and direction is a dict of arrays shaped (T, B, width), allocated once. Before the
time loop the runner writes the input projection of every timestep into ``record["pre"]`` with one GEMM:

    pre[t] = x_t W_ih^T + input_bias(b_ih, b_hh)

``step`` then finishes timestep t from h_{t-1} (and c_{t-1}), writing every gate's pre-activation, activation and
the new state into the record. ``scan`` does that for a whole range of timesteps; the sequence runner calls it
once per layer and direction. Each cell writes its time loop once, in ``scan``, keeping per-step Python
overhead low (a GEMM and a handful of in-place NumPy calls), and ``step`` is that loop over one timestep.

``step_backward`` maps the gradient arriving at (h_t, c_t) to the gradients of the input projection, the
hidden projection and the previous state. Arrays broadcast, so the same code propagates a batch of cotangent
rows for a single sequence (used for the Jacobian norms ||dh_T / dh_t||).

Interventions (core.interventions): ``scan`` takes ``edits``, {t: StepEdit}, and writes each step's clamped
gate activations and set states the moment the step computes them (a separate loop, so runs without edits
keep the fast one); ``step_backward`` takes that step's edit and stops the gradient at the clamped gates and
the set c_t. A set h_t is cut by the caller, before step_backward, the same way for every cell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import repeat

import numpy as np

Record = dict[str, np.ndarray]
Workspace = dict[str, np.ndarray]
#: (h, c or None) after a step or a scan.
State = tuple[np.ndarray, np.ndarray | None]
#: What ``step_backward`` returns: (d input projection, d hidden projection, dh_prev, dc_prev, total dc_t).
StepGradients = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]


@dataclass(frozen=True)
class Kernel:
    name: str
    #: Gate chunks of the stacked weight matrices, in PyTorch's order.
    gates: tuple[str, ...]
    has_cell_state: bool
    #: (T, B, H, dtype, reverse=False) -> record of zeroed arrays, laid out for a scan in that time order
    #: (``step`` runs in forward order).
    allocate: Callable[..., Record]
    #: (B, H, dtype) -> scratch buffers reused across timesteps.
    workspace: Callable[[int, int, np.dtype], Workspace]
    #: (b_ih, b_hh) -> the bias folded into the precomputed input projection.
    input_bias: Callable[[np.ndarray, np.ndarray], np.ndarray]
    #: (record, t, h_prev, c_prev, W_hh^T, b_hh, workspace) -> (h_t, c_t or None), views into the record.
    step: Callable[..., tuple[np.ndarray, np.ndarray | None]]
    #: (record, times, h_prev, c_prev, W_hh^T, b_hh, workspace, mask, edits) -> (h, c or None) after the last
    #: step: ``step`` for every t of the range ``times`` in its order, each reading the state the previous one
    #: wrote. mask is None or (T, B) bool; where mask[t, b] is False the sequence has ended and step t copies
    #: its state through unchanged. edits is None or {t: core.interventions.StepEdit}.
    scan: Callable[..., tuple[np.ndarray, np.ndarray | None]]
    #: (record, t, h_prev, c_prev, W_hh, dh_t, dc_t, edit=None) ->
    #:     (d input projection, d hidden projection, dh_prev, dc_prev, total dL/dc_t or None)
    step_backward: Callable[
        ..., tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]
    ]
    #: record -> named (T, B, H) views: every gate's pre-activation and activation, candidate, states.
    quantities: Callable[[Record], dict[str, np.ndarray]]


def zeroed_record(
    T: int, B: int, widths: dict[str, int], dtype: np.dtype, extra_row: tuple[str, ...] = ()
) -> Record:
    """Zeroed C-contiguous (T, B, width) arrays, one per name, carved out of a single allocation.

    Names in ``extra_row`` get T + 1 rows (a cell that keeps its previous state beside this step's numbers).

    One block rather than one per quantity because of how glibc recycles memory: a large block, once freed,
    raises its mmap threshold, so the next block of that size comes from the heap and is reused, whereas
    several smaller blocks freed together are trimmed off the heap and the next trace page-faults them all in
    again (LSTM, T = 500: ~300 faults per forward pass at H = 64 before, none after; 15-30% faster at H = 64
    to 256).
    """
    rows = {name: T + 1 if name in extra_row else T for name in widths}
    flat = np.zeros(B * sum(rows[name] * width for name, width in widths.items()), dtype)
    record, start = {}, 0
    for name, width in widths.items():
        size = rows[name] * B * width
        record[name] = flat[start : start + size].reshape(rows[name], B, width)
        start += size
    return record


def chunks(a: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Split the last axis of ``a`` into equal named views."""
    width = a.shape[-1] // len(names)
    return {name: a[..., k * width : (k + 1) * width] for k, name in enumerate(names)}


def time_slice(times: range) -> slice:
    """The slice that walks a record's time axis in the order of ``times`` (non-empty, step 1 or -1)."""
    return slice(times.start, times.stop if times.stop >= 0 else None, times.step)


#: Bytes. Above this, h_{t-1} W_hh^T is memory-bound and reads either layout equally fast, while the
#: copy itself costs as much as tens of steps (W_hh at H = 1024, float32: 16 MB).
LARGEST_COPIED_MATRIX = 4 << 20


def written_bytes(arrays: list[np.ndarray], span: slice) -> int:
    """Bytes of the (non-overlapping) record arrays that a scan over ``span`` writes."""
    return sum(a[span].nbytes for a in arrays)


@contextmanager
def small_ufunc_buffers() -> Iterator[None]:
    """Whole-record NumPy operations with broadcasting run buffered, by default in blocks of 8192 elements: a
    temporary as large as a small trace's whole record. Blocks of 1024 are as fast and keep peak memory near
    the record's size."""
    old = np.setbufsize(1024)
    try:
        yield
    finally:
        np.setbufsize(old)


def recurrent_matrix(
    W_hhT: np.ndarray, written: int, steps: int, column_scale: np.ndarray | None = None
) -> tuple[np.ndarray, bool]:
    """W_hh^T laid out for ``steps`` h_{t-1} W_hh^T products, and whether ``column_scale`` is folded in.

    A C-contiguous copy multiplies ~30% faster for small and medium H (OpenBLAS, one thread), and a cell can
    fold a constant per-column factor into it (saving a ufunc call per step). But the transposing copy costs
    as much as tens of steps (more when W_hh is not in the CPU cache: a seeded T = 50, H = 64 trace ran 20%
    faster without it), so it is made only for runs of at least H steps. It is as big as W_hh, so it is not
    made either when that is more than the ``written`` bytes of record (a short trace with a large H never
    holds a second copy of W_hh) or LARGEST_COPIED_MATRIX.
    """
    if W_hhT.nbytes > LARGEST_COPIED_MATRIX or W_hhT.nbytes > written or steps < W_hhT.shape[0]:
        return W_hhT, False
    if column_scale is None:
        return np.ascontiguousarray(W_hhT), False
    with small_ufunc_buffers():
        return np.multiply(W_hhT, column_scale, order="C"), True


def fold_gate_scale(
    W_hhT: np.ndarray, pre: np.ndarray, written: int, steps: int, column_scale: np.ndarray
) -> tuple[np.ndarray, bool]:
    """W_hh^T for a scan over ``steps``, as recurrent_matrix lays it out, and whether ``column_scale`` (each
    gate's factor in the tanh form of its sigmoid) is folded into it. When it is, the pre-activations ``pre``
    are scaled by it too (exact: powers of two); unfold_gate_scale scales them back after the loop."""
    W, folded = recurrent_matrix(W_hhT, written, steps, column_scale)
    if folded:
        with small_ufunc_buffers():
            pre *= column_scale
    return W, folded


def unfold_gate_scale(pre: np.ndarray, column_scale: np.ndarray, folded: bool) -> None:
    """Undo fold_gate_scale's scaling of ``pre``, so the record holds the true pre-activations."""
    if folded:
        with small_ufunc_buffers():
            pre /= column_scale


def ended_rows(mask: np.ndarray | None, times: range) -> Iterator[np.ndarray | None]:
    """For each t of ``times``: None when every sequence is live, else the (B, 1) rows of ended sequences."""
    if mask is None:
        return repeat(None)
    all_live = np.asarray(mask.all(axis=1))
    return iter([None if all_live[t] else ~mask[t][:, None] for t in times])


def carry_over(
    ended: np.ndarray, h_t: np.ndarray, h_prev: np.ndarray, c_t: np.ndarray | None, c_prev: np.ndarray | None
) -> None:
    """Copy the previous state into the rows of sequences that have ended (masked, padded batches)."""
    np.copyto(h_t, h_prev, where=ended)
    if c_t is not None and c_prev is not None:
        np.copyto(c_t, c_prev, where=ended)


def step_from_scan(scan: Callable[..., State]) -> Callable[..., State]:
    """A cell's ``step``: its ``scan`` over the single timestep t, so the two cannot disagree."""

    def step(
        record: Record, t: int, h_prev: np.ndarray, c_prev: np.ndarray | None, W_hhT: np.ndarray,
        b_hh: np.ndarray, work: Workspace,
    ) -> State:
        return scan(record, range(t, t + 1), h_prev, c_prev, W_hhT, b_hh, work)

    return step
