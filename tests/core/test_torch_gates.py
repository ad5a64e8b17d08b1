"""Every gate the trace records equals core.cells.reference's plain cells run on a PyTorch module's weights,
and the reference's h equals the module's own output, so the reference's equations are PyTorch's:

    RNN:   h = act(W_ih x + b_ih + W_hh h' + b_hh)
    LSTM:  [i, f, g, o] = W_ih x + b_ih + W_hh h' + b_hh;  i, f, o sigmoid, g tanh;
           c = f c' + i g;  h = o tanh(c)
    GRU:   gi = W_ih x + b_ih,  gh = W_hh h' + b_hh;  r = sigmoid(gi_r + gh_r),  z = sigmoid(gi_z + gh_z),
           n = tanh(gi_n + r gh_n),  h = (1 - z) n + z h'

(tests/core/test_reference_cells.py checks the kernels against the reference on drawn sizes and weights
without torch; this test ties the reference to PyTorch itself.)
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from netcases import make_case  # noqa: E402
from torch_reference import build_module  # noqa: E402

from core.cells import reference as ref  # noqa: E402

pytestmark = pytest.mark.torch

TOL = {"rtol": 1e-12, "atol": 1e-14}


@pytest.mark.parametrize("kernel", [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")],
                         ids=lambda k: "_".join(k))
def test_recorded_gates_equal_pytorch_equations(kernel) -> None:
    cell, nonlinearity = kernel
    case = make_case(cell, nonlinearity=nonlinearity, bidirectional=True, initial_state=True, steps=4,
                     batch=2, hidden=3, input_size=2, seed=3)
    trace = case.run()
    module = build_module(case)
    x = torch.from_numpy(case.inputs)
    h0 = torch.from_numpy(case.h0)
    c0 = torch.from_numpy(case.c0) if case.c0 is not None else None
    with torch.no_grad():
        module_top, _ = module(x, h0 if c0 is None else (h0, c0))

    H = case.config.hidden_size
    for d, suffix in enumerate(["_l0", "_l0_reverse"]):
        weights = [module.get_parameter(f"{kind}{suffix}").detach().numpy() for kind in
                   ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        recorded = trace.layers[0][d].quantities()
        for b in range(x.shape[1]):
            steps = ref.run_sequence(cell, list(case.inputs[:, b]), case.h0[d, b],
                                     None if case.c0 is None else case.c0[d, b], *weights,
                                     nonlinearity=nonlinearity, reverse=d == 1)
            for t, step in enumerate(steps):
                assert set(step) <= set(recorded)
                for name, value in step.items():
                    np.testing.assert_allclose(recorded[name][t, b], value, **TOL,
                                               err_msg=f"{name} d={d} t={t} b={b}")
                np.testing.assert_allclose(step["h"], module_top[t, b, d * H : (d + 1) * H].numpy(), **TOL,
                                           err_msg=f"the reference's h is not PyTorch's, d={d} t={t} b={b}")
