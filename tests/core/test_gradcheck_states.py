"""Central-difference checks of the state gradients: Gradients.dh / Gradients.dc and state_jacobian_norms.

Gradients.dh[k][d][t] claims to be the *total* dL/dh_t of layer k, direction d: through the output at t, the
layer above, and every later step of the recurrence (at a padded step: the state carried through it). The
check injects a perturbation straight into h_t (and c_t) as the forward pass stores it, by driving one layer
and direction's scan a step at a time:

    h_t <- (step t) + delta_t,        numerical dL/dh_t = (L(delta_t = +eps e_j) - L(-eps e_j)) / (2 eps)

The same injection, watching h_T instead of L, gives the Jacobian dh_T/dh_t whose Frobenius norms
state_jacobian_norms reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from netcases import Case, kink_free_case
from numgrad import EPS, assert_gradient_matches, central_difference

import core.network
from core.bptt import backward, loss_and_gradients, state_jacobian_norms
from core.layer import run_layer

KERNELS = [("rnn", "tanh"), ("rnn", "sigmoid"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]


class StateInjection:
    """Adds delta_h[t] and delta_c[t] to the state one layer/direction stores at step t.

    The kernel's ``scan`` is driven one timestep at a time and the deltas are added to what each step stored
    (after a padded step has copied the state through, so padded positions are checked too). c_t also feeds
    h_t = o_t tanh(c_t) within its own step, and dc is the total gradient, so for the LSTM h_t is recomputed
    from the nudged c_t on live rows. Install with
    ``monkeypatch.setattr(core.network, "run_layer", injection.run_layer)``; the deltas start at zero and the
    central difference nudges them in place.
    """

    def __init__(self, layer: int, reverse: bool, shape: tuple[int, int, int]) -> None:
        self.target = (layer, reverse)
        self.delta_h = np.zeros(shape)
        self.delta_c = np.zeros(shape)
        self.last_run = None

    def _nudged(self, scan: Callable) -> Callable:
        def scan_with_delta(record, times, h_prev, c_prev, W_hhT, b_hh, work, mask=None, edits=None):
            for t in times:
                h, c = scan(record, range(t, t + 1), h_prev, c_prev, W_hhT, b_hh, work, mask)
                if c is not None:
                    c += self.delta_c[t]
                    live = np.ones((h.shape[0], 1), bool) if mask is None else mask[t][:, None]
                    o = record["act"][t][:, 3 * h.shape[-1] :]
                    np.copyto(record["tanh_c"][t], np.tanh(c), where=live)
                    np.copyto(h, o * record["tanh_c"][t], where=live)
                h += self.delta_h[t]
                h_prev, c_prev = h, c
            return h_prev, c_prev

        return scan_with_delta

    def run_layer(self, kernel, *args, layer, reverse, mask, edits=None):
        assert edits is None, "the injection drives runs without interventions"
        if (layer, reverse) == self.target:
            kernel = replace(kernel, scan=self._nudged(kernel.scan))
            self.last_run = run_layer(kernel, *args, layer=layer, reverse=reverse, mask=mask)
            return self.last_run
        return run_layer(kernel, *args, layer=layer, reverse=reverse, mask=mask)


def state_case(kernel: tuple[str, str], where: str) -> Case:
    cell, nonlinearity = kernel
    return kink_free_case(cell, nonlinearity=nonlinearity, num_layers=2, bidirectional=True, padded=True,
                          initial_state=True, where=where, steps=4, batch=2, hidden=3)


@pytest.mark.parametrize("where", ["all", "last"])
@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: "_".join(k))
def test_dh_and_dc_are_total_state_gradients(kernel, where, monkeypatch) -> None:
    case = state_case(kernel, where)
    _, trace, grads = loss_and_gradients(case.params, case.config, case.inputs, case.targets,
                                         **case.loss_kwargs())
    baseline = case.loss_value()
    H = case.config.hidden_size
    for layer in range(case.config.num_layers):
        for d, reverse in enumerate((False, True)):
            injection = StateInjection(layer, reverse, (trace.num_steps, trace.batch_size, H))
            monkeypatch.setattr(core.network, "run_layer", injection.run_layer)
            assert case.loss_value() == baseline, "a zero injection must leave the run untouched"
            name = f"dh[{layer}][{d}]"
            numerical = central_difference(case.loss_value, injection.delta_h)
            assert_gradient_matches(name, numerical, grads.dh[layer][d])
            if case.config.has_cell_state:
                numerical_c = central_difference(case.loss_value, injection.delta_c)
                assert_gradient_matches(f"dc[{layer}][{d}]", numerical_c, grads.dc[layer][d])
            monkeypatch.undo()


def test_injection_with_zero_delta_changes_nothing(monkeypatch) -> None:
    case = state_case(("lstm", "tanh"), "all")
    before = case.loss_value()
    injection = StateInjection(1, True, (4, 2, 3))
    monkeypatch.setattr(core.network, "run_layer", injection.run_layer)
    assert case.loss_value() == before
    # Sequence 1 has length 2: its reverse direction carries the state through t = 3, 2 into t = 1.
    injection.delta_h[2, 1, 0] = 1e-3
    assert case.loss_value() != before, "an injection at a padded step must reach the loss through the carry"


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: "_".join(k))
def test_state_jacobian_norms_match_numerical_jacobian(kernel, reverse, monkeypatch) -> None:
    cell, nonlinearity = kernel
    case = kink_free_case(cell, nonlinearity=nonlinearity, num_layers=2, bidirectional=True, padded=True,
                          initial_state=True, steps=5, batch=2, hidden=3)
    trace = case.run()
    layer, b = 1, 1  # the upper layer, and the padded sequence
    reported = state_jacobian_norms(case.params, trace, b)[layer][int(reverse)]

    H, T = case.config.hidden_size, trace.num_steps
    injection = StateInjection(layer, reverse, (T, trace.batch_size, H))
    monkeypatch.setattr(core.network, "run_layer", injection.run_layer)

    def final_h() -> np.ndarray:
        case.run()
        return injection.last_run.final_state()[0][b].copy()

    live = trace.mask[:, b]
    assert np.isnan(reported[~live]).all(), "padded steps do not reach h_T and are reported as NaN"
    for t in np.flatnonzero(live):
        jacobian = np.empty((H, H))
        for j in range(H):
            injection.delta_h[t, b, j] = EPS
            plus = final_h()
            injection.delta_h[t, b, j] = -EPS
            minus = final_h()
            injection.delta_h[t, b, j] = 0.0
            jacobian[:, j] = (plus - minus) / (2 * EPS)
        expected = np.linalg.norm(jacobian)
        assert reported[t] == pytest.approx(expected, rel=1e-6, abs=1e-12), f"t={t}"
    last = 0 if reverse else int(trace.lengths[b]) - 1
    assert reported[last] == pytest.approx(np.sqrt(H), rel=1e-12), "dh_T/dh_T is the identity"


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: "_".join(k))
def test_backward_from_final_states_and_top_layer(kernel) -> None:
    """backward(d_top=, dh_final=, dc_final=) for L = <w_top, top> + <w_h, h_n> + <w_c, c_n>.

    This is how an encoder is driven. w_top covers padded positions too: there the top layer shows the
    carried-over state, which depends on the sequence's last real step, so the gradient must flow back to it.
    """
    cell, nonlinearity = kernel
    case = kink_free_case(cell, nonlinearity=nonlinearity, num_layers=2, bidirectional=True, padded=True,
                          initial_state=True, batch=3)
    trace = case.run()
    rng = np.random.default_rng(5)
    weight_top = rng.standard_normal(trace.top.shape)
    weight_h = rng.standard_normal(case.h0.shape)
    weight_c = rng.standard_normal(case.h0.shape) if case.config.has_cell_state else None

    def objective() -> float:
        run = case.run()
        states = [lt.final_state() for row in run.layers for lt in row]
        value = float((weight_top * run.top).sum() + (weight_h * np.stack([h for h, _ in states])).sum())
        if weight_c is not None:
            value += float((weight_c * np.stack([c for _, c in states])).sum())
        return value

    grads = backward(case.params, trace, d_top=weight_top, dh_final=weight_h, dc_final=weight_c)
    for name, value in case.params.items():
        if name.startswith("output."):
            assert not grads.params[name].any(), "no d_logits, so no output-layer gradient"
        else:
            assert_gradient_matches(name, central_difference(objective, value), grads.params[name])
    assert_gradient_matches("d_inputs", central_difference(objective, case.inputs), grads.d_inputs)
    assert_gradient_matches("dh0", central_difference(objective, case.h0), grads.dh0)
    if case.c0 is not None:
        assert_gradient_matches("dc0", central_difference(objective, case.c0), grads.dc0)
