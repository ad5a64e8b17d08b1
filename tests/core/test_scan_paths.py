"""The LSTM and GRU scans have two paths: runs of at least H steps fold the sigmoid scale into a copy of W_hh
and scale the input projections in place (core.cells.kernel.recurrent_matrix), shorter runs (and single
steps, as generation and decoding take them) scale each step instead. Both must record the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from core.cells import Kernel
from core.cells.gru import GRU
from core.cells.lstm import LSTM
from core.layer import project_inputs, run_layer


@pytest.mark.parametrize("kernel", [LSTM, GRU], ids=lambda k: k.name)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch", [1, 3])
def test_a_whole_run_and_single_steps_record_the_same_numbers(kernel: Kernel, dtype: str, batch: int) -> None:
    rng = np.random.default_rng(11)
    T, H, inputs, G = 12, 4, 3, len(kernel.gates)  # T >= H: run_layer takes the folded-scale path
    x = rng.standard_normal((T, batch, inputs)).astype(dtype)
    W_ih, W_hh = (rng.uniform(-0.8, 0.8, shape).astype(dtype) for shape in ((G * H, inputs), (G * H, H)))
    b_ih, b_hh = (rng.uniform(-0.5, 0.5, G * H).astype(dtype) for _ in range(2))
    h0 = rng.standard_normal((batch, H)).astype(dtype)
    c0 = rng.standard_normal((batch, H)).astype(dtype) if kernel.has_cell_state else None

    whole = run_layer(kernel, x, W_ih, W_hh, b_ih, b_hh, h0, c0).record

    stepped = kernel.allocate(T, batch, H, np.dtype(dtype))
    work = kernel.workspace(batch, H, np.dtype(dtype))
    h, c = h0, c0
    for t in range(T):
        project_inputs(stepped["pre"][t : t + 1], x[t : t + 1], W_ih, kernel.input_bias(b_ih, b_hh))
        h, c = kernel.step(stepped, t, h, c, W_hh.T, b_hh, work)

    tolerance = {"float64": 1e-13, "float32": 2e-6}[dtype]
    for name, recorded in kernel.quantities(whole).items():
        np.testing.assert_allclose(kernel.quantities(stepped)[name], recorded, rtol=tolerance, atol=tolerance,
                                   err_msg=name)
    # The pre-activations are scaled back after the folded-scale run: the first gate's holds W x + b + W h.
    h_prev = np.concatenate([h0[None], whole["h"][:-1]])
    expected = x @ W_ih[:H].T + b_ih[:H] + b_hh[:H] + h_prev @ W_hh[:H].T
    np.testing.assert_allclose(whole["pre"][:, :, :H], expected, rtol=tolerance, atol=tolerance)
