"""The LSTM scan has two paths: runs of at least H steps fold the sigmoid scale into a copy of W_hh and scale
the input projections in place (core.cells.kernel.recurrent_matrix), shorter runs (and single steps, as
generation and decoding take them) scale each step instead. Both must record the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from core.cells.lstm import LSTM
from core.layer import project_inputs, run_layer


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch", [1, 3])
def test_a_whole_run_and_single_steps_record_the_same_numbers(dtype: str, batch: int) -> None:
    rng = np.random.default_rng(11)
    T, H, inputs = 12, 4, 3  # T >= H: run_layer takes the folded-scale path
    x = rng.standard_normal((T, batch, inputs)).astype(dtype)
    W_ih, W_hh = (rng.uniform(-0.8, 0.8, shape).astype(dtype) for shape in ((4 * H, inputs), (4 * H, H)))
    b_ih, b_hh = (rng.uniform(-0.5, 0.5, 4 * H).astype(dtype) for _ in range(2))
    h0, c0 = (rng.standard_normal((batch, H)).astype(dtype) for _ in range(2))

    whole = run_layer(LSTM, x, W_ih, W_hh, b_ih, b_hh, h0, c0).record

    stepped = LSTM.allocate(T, batch, H, np.dtype(dtype))
    work = LSTM.workspace(batch, H, np.dtype(dtype))
    h, c = h0, c0
    for t in range(T):
        project_inputs(stepped["pre"][t : t + 1], x[t : t + 1], W_ih, LSTM.input_bias(b_ih, b_hh))
        h, c = LSTM.step(stepped, t, h, c, W_hh.T, b_hh, work)

    tolerance = {"float64": 1e-13, "float32": 2e-6}[dtype]
    for name, recorded in LSTM.quantities(whole).items():
        np.testing.assert_allclose(LSTM.quantities(stepped)[name], recorded, rtol=tolerance, atol=tolerance,
                                   err_msg=name)
    # The pre-activations are scaled back after the folded-scale run: the record holds W x + b + W h.
    pre_i = whole["pre"][:, :, :H]
    h_prev = np.concatenate([h0[None], whole["h"][:-1]])
    expected = x @ W_ih[:H].T + b_ih[:H] + b_hh[:H] + h_prev @ W_hh[:H].T
    np.testing.assert_allclose(pre_i, expected, rtol=tolerance, atol=tolerance)
