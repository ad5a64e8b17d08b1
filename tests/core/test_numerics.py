"""Numerical robustness: huge pre-activations, an exploding relu RNN, and the activations themselves.

    sigmoid/tanh cells with |z| up to 1e4 saturate cleanly: no warning, no NaN, in the forward pass or BPTT
    a relu RNN with large weights overflows: the trace keeps the infinities, diverged_at() names the first bad
    step, nothing raises or warns
    every activation is finite for |z| <= 1e4

Tests that use the ``strict_floats`` fixture turn every warning and every floating-point error into a failure.
"""

from __future__ import annotations

import numpy as np
import pytest
from netcases import make_case

from core import activations, losses
from core.bptt import loss_and_gradients
from core.config import NetworkConfig
from core.network import forward
from core.params import init_params

SMOOTH_KERNELS = [("rnn", "tanh"), ("rnn", "sigmoid"), ("lstm", "tanh"), ("gru", "tanh")]
Z = np.array([-1e4, -1e3, -710.0, -40.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 40.0, 710.0, 1e3, 1e4])


@pytest.mark.parametrize("objective", ["cross_entropy", "mse_softmax", "mse_identity"])
@pytest.mark.parametrize("kernel", SMOOTH_KERNELS, ids=lambda k: "_".join(k))
def test_huge_preactivations_saturate_without_warnings(kernel, objective, strict_floats) -> None:
    cell, nonlinearity = kernel
    case = make_case(cell, nonlinearity=nonlinearity, num_layers=2, bidirectional=True, objective=objective,
                     padded=True, initial_state=True, steps=6, batch=3, hidden=4, input_size=3)
    # Weights x30 and inputs x300 put the first layer's pre-activations in the thousands, up to about 1e4.
    case.params = {k: 30 * v for k, v in case.params.items()}
    case.inputs = 300 * case.inputs
    loss, trace, grads = loss_and_gradients(case.params, case.config, case.inputs, case.targets,
                                            **case.loss_kwargs())

    largest = max(float(np.abs(lt.record["pre"]).max()) for row in trace.layers for lt in row)
    assert 1e3 < largest < 3e4, f"the case must reach the saturated regime, got max |z| = {largest:.3g}"
    assert trace.diverged_at() is None
    assert np.isfinite(loss)
    assert np.isfinite(trace.logits).all()
    assert all(np.isfinite(g).all() for g in grads.params.values())
    assert np.isfinite(grads.d_inputs).all() and np.isfinite(grads.dh0).all()


def exploding_relu(layers: int, bidirectional: bool, steps: int) -> tuple[NetworkConfig, dict, np.ndarray]:
    """H = I = 1, W_ih = 1, W_hh = 1e10, no bias, x_t = 1: h_t = sum_{k<=t} 1e10^k, h_30 ~ 1e300, h_31 = inf.

    Upper layers get W_ih = 1e-300 so that their inputs stay finite until layer 0 overflows: every layer then
    overflows at the same step as layer 0 (and the reverse direction 31 steps after it starts, at T - 32).
    """
    config = NetworkConfig(cell="rnn", nonlinearity="relu", input_size=1, hidden_size=1,
                           num_layers=layers, bidirectional=bidirectional, output_size=1)
    params = init_params(config, 0)
    for name in params:
        if name.startswith("bias") or name == "output.bias":
            params[name][...] = 0.0
        elif name.startswith("weight_hh"):
            params[name][...] = 1e10
        elif name.startswith("weight_ih"):
            params[name][...] = 1.0 if name.startswith("weight_ih_l0") else 1e-300
        else:
            params[name][...] = 1.0
    return config, params, np.ones((steps, 1, 1))


@pytest.mark.parametrize("num_layers", [1, 2])
def test_exploding_relu_rnn_is_recorded_and_located(num_layers, strict_floats) -> None:
    config, params, inputs = exploding_relu(num_layers, bidirectional=False, steps=40)
    trace = forward(params, config, inputs)
    h = trace.layers[0][0].h[:, 0, 0]
    assert np.isfinite(h[:31]).all() and h[30] > 1e299
    assert np.isinf(h[31])
    assert trace.diverged_at() == 31
    assert np.isfinite(trace.logits[:31]).all() and not np.isfinite(trace.logits[31:]).all()


def test_exploding_bidirectional_relu_rnn_reports_the_earliest_timestep(strict_floats) -> None:
    config, params, inputs = exploding_relu(1, bidirectional=True, steps=40)
    trace = forward(params, config, inputs)
    forward_dir, reverse_dir = trace.layers[0]
    assert np.isinf(forward_dir.h[31:]).all() and np.isfinite(forward_dir.h[:31]).all()
    # The reverse direction starts at t = 39 and overflows on its 32nd step, at t = 39 - 31 = 8, and stays
    # infinite down to t = 0: in time order the trace is non-finite from the very first step.
    assert np.isinf(reverse_dir.h[:9]).all() and np.isfinite(reverse_dir.h[9:]).all()
    assert trace.diverged_at() == 0


def test_exploding_stacked_relu_rnn_with_random_weights_warns_nowhere(strict_floats) -> None:
    """Mixed-sign weights meet infinite inputs in the upper layers (inf - inf = NaN): still no warning."""
    config = NetworkConfig(cell="rnn", nonlinearity="relu", input_size=3, hidden_size=4, num_layers=3,
                           bidirectional=True, output_size=2)
    params = init_params(config, 0)
    for name in params:
        if name.startswith("weight_hh"):
            params[name] = 1e3 * np.abs(params[name])
    inputs = 0.1 + np.abs(np.random.default_rng(0).standard_normal((300, 2, 3)))
    trace = forward(params, config, inputs)
    first_bad = trace.diverged_at()
    assert first_bad is not None
    every_array = [a for row in trace.layers for lt in row for a in lt.record.values()] + [trace.logits]
    bad_steps = [t for t in range(trace.num_steps) if not all(np.isfinite(a[t]).all() for a in every_array)]
    assert first_bad == bad_steps[0]
    assert np.isnan(trace.layers[2][0].h).any(), "the case must reach inf - inf in an upper layer"


def test_finite_relu_run_has_not_diverged() -> None:
    config, params, inputs = exploding_relu(1, bidirectional=False, steps=31)
    assert forward(params, config, inputs).diverged_at() is None


def test_activations_are_finite_and_saturate_exactly(strict_floats) -> None:
    for name in activations.NONLINEARITIES:
        a = activations.apply(name, Z.copy())
        assert np.isfinite(a).all(), name
        assert np.isfinite(activations.derivative_from_output(name, a)).all(), name
    s = activations.sigmoid(Z.copy())
    assert s[0] == 0.0 and s[-1] == 1.0 and s[6] == 0.5
    assert np.all(np.diff(s) >= 0), "sigmoid is monotone"
    t = activations.tanh(Z.copy())
    assert t[0] == -1.0 and t[-1] == 1.0
    np.testing.assert_array_equal(activations.relu(Z.copy()), np.where(Z > 0, Z, 0.0))


def test_sigmoid_matches_its_definition_to_absolute_roundoff() -> None:
    """0.5 tanh(z/2) + 0.5 equals 1 / (1 + exp(-z)) to about one ulp of 1 (tiny values round to 0)."""
    z = np.linspace(-700, 700, 20001)
    with np.errstate(over="ignore"):
        reference = 1.0 / (1.0 + np.exp(-z))
    np.testing.assert_allclose(activations.sigmoid(z), reference, rtol=0, atol=3e-16)
    np.testing.assert_allclose(activations.sigmoid(z, out=np.empty_like(z)), reference, rtol=0, atol=3e-16)


def test_softmax_and_log_softmax_stay_finite_for_huge_logits(strict_floats) -> None:
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4 - 1.0, -1e4]])
    p = activations.softmax(logits)
    logp = activations.log_softmax(logits)
    assert np.isfinite(p).all() and np.isfinite(logp).all()
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(logp[0], [0.0, -2e4, -1e4])
    np.testing.assert_allclose(p[1], [1 / 3] * 3)
    np.testing.assert_allclose(np.exp(logp[2, :2]), [1 / (1 + np.exp(-1.0)), 1 / (1 + np.e)], rtol=1e-14)
    np.testing.assert_allclose(np.exp(logp), p, rtol=1e-12, atol=1e-300)


def test_losses_stay_finite_for_huge_logits(strict_floats) -> None:
    logits = np.array([[[1e4, -1e4, 0.0]], [[-1e4, 1e4, 0.0]]])
    weights = np.ones((2, 1), bool)
    value, grad = losses.cross_entropy(logits, np.array([[1], [1]]), weights)
    assert value == pytest.approx(2e4 / 2) and np.isfinite(grad).all()
    value, grad = losses.mse(logits, np.zeros_like(logits), weights, softmax_output=True)
    assert np.isfinite(value) and np.isfinite(grad).all()
