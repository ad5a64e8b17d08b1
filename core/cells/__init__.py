"""One module per recurrent cell. Each exposes a :class:`~core.cells.kernel.Kernel` that the sequence runner and
backprop-through-time drive one timestep at a time, writing into preallocated (T, B, ...) record arrays.

core.cells.reference holds the same cells written plainly (one step of one sequence, one line per equation), for
reading; the tests check the kernels against it."""

from __future__ import annotations

from core.cells.gru import GRU
from core.cells.kernel import Kernel
from core.cells.lstm import LSTM
from core.cells.rnn import rnn_kernel


def kernel_for(cell: str, nonlinearity: str = "tanh") -> Kernel:
    if cell == "lstm":
        return LSTM
    if cell == "gru":
        return GRU
    if cell == "rnn":
        return rnn_kernel(nonlinearity)
    raise ValueError(f"unknown cell {cell!r}")


__all__ = ["Kernel", "kernel_for"]
