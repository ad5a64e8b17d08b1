"""Every gate the trace records equals the gate computed by hand from a PyTorch module's own weights.

PyTorch's documented equations, with the module's weight_ih / weight_hh / bias_ih / bias_hh split into gate
chunks (torch.chunk along dim 0):

    RNN:   h = act(W_ih x + b_ih + W_hh h' + b_hh)
    LSTM:  [i, f, g, o] = W_ih x + b_ih + W_hh h' + b_hh;  i, f, o sigmoid, g tanh;
           c = f c' + i g;  h = o tanh(c)
    GRU:   gi = W_ih x + b_ih,  gh = W_hh h' + b_hh;  r = sigmoid(gi_r + gh_r),  z = sigmoid(gi_z + gh_z),
           n = tanh(gi_n + r gh_n),  h = (1 - z) n + z h'

The hand-computed h is also compared with the module's own output, so the equations are PyTorch's, not ours.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from netcases import make_case  # noqa: E402
from torch_reference import build_module  # noqa: E402

pytestmark = pytest.mark.torch

TOL = {"rtol": 1e-12, "atol": 1e-14}


def hand_step(cell: str, nonlinearity: str, weights: list[torch.Tensor], x, h_prev, c_prev) -> dict:
    """One timestep of PyTorch's equations; returns every quantity under core's names."""
    w_ih, w_hh, b_ih, b_hh = weights
    gi = x @ w_ih.T + b_ih
    gh = h_prev @ w_hh.T + b_hh
    if cell == "rnn":
        pre = gi + gh
        act = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}[nonlinearity]
        return {"pre": pre, "h": act(pre)}
    if cell == "lstm":
        i_pre, f_pre, g_pre, o_pre = (gi + gh).chunk(4, -1)
        i, f, g, o = torch.sigmoid(i_pre), torch.sigmoid(f_pre), torch.tanh(g_pre), torch.sigmoid(o_pre)
        c = f * c_prev + i * g
        return {"i_pre": i_pre, "f_pre": f_pre, "g_pre": g_pre, "o_pre": o_pre,
                "i": i, "f": f, "g": g, "o": o, "c": c, "tanh_c": torch.tanh(c), "h": o * torch.tanh(c)}
    gi_r, gi_z, gi_n = gi.chunk(3, -1)
    gh_r, gh_z, gh_n = gh.chunk(3, -1)
    r, z = torch.sigmoid(gi_r + gh_r), torch.sigmoid(gi_z + gh_z)
    n_pre = gi_n + r * gh_n
    n = torch.tanh(n_pre)
    return {"r_pre": gi_r + gh_r, "z_pre": gi_z + gh_z, "n_pre": n_pre, "r": r, "z": z, "n": n, "hn": gh_n,
            "h": (1 - z) * n + z * h_prev}


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
        weights = [module.get_parameter(f"{kind}{suffix}").detach() for kind in
                   ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        recorded = trace.layers[0][d].quantities()
        h, c = h0[d], None if c0 is None else c0[d]
        steps = range(trace.num_steps - 1, -1, -1) if d else range(trace.num_steps)
        for t in steps:
            by_hand = hand_step(cell, nonlinearity, weights, x[t], h, c)
            assert set(by_hand) <= set(recorded)
            for name, value in by_hand.items():
                np.testing.assert_allclose(recorded[name][t], value.numpy(), **TOL,
                                           err_msg=f"{name} d={d} t={t}")
            h, c = by_hand["h"], by_hand.get("c")
            np.testing.assert_allclose(h.numpy(), module_top[t, :, d * H : (d + 1) * H].numpy(), **TOL,
                                       err_msg=f"hand-computed h is not PyTorch's, d={d} t={t}")
