"""The influence row ||dy_s/dx_t||: exact input Jacobians by BPTT, checked by central differences and against
PyTorch's autograd."""

from __future__ import annotations

import numpy as np
import pytest
from numgrad import central_difference, relative_error

from core.config import NetworkConfig
from core.influence import influence_norms, input_jacobians
from core.network import forward
from core.params import init_params

T = 6


def network(cell: str, bidirectional: bool = False, layers: int = 1, output_size: int = 2) -> NetworkConfig:
    return NetworkConfig(
        cell=cell,
        input_size=3,
        hidden_size=4,
        num_layers=layers,
        bidirectional=bidirectional,
        output_size=output_size,
    )


def sequence(seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(T, 3))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("step", [-1, 2])
@pytest.mark.parametrize("bidirectional, layers", [(False, 1), (True, 2)])
def test_jacobians_match_central_differences(cell, step, bidirectional, layers):
    config = network(cell, bidirectional, layers)
    params = init_params(config, 7)
    x = sequence()
    jac = input_jacobians(params, config, x, step)
    assert jac.shape == (T, 2, 3)
    for k in range(2):

        def output_k(k=k):
            return float(forward(params, config, x).logits[step, 0, k])

        numerical = central_difference(output_k, x)
        assert relative_error(numerical, jac[:, k]) < 1e-7


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_the_future_has_no_influence_in_a_one_way_network(cell):
    config = network(cell)
    jac = input_jacobians(init_params(config, 3), config, sequence(), step=2)
    assert np.all(jac[3:] == 0.0)
    assert np.all(np.abs(jac[:3]).sum(axis=(1, 2)) > 0)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_norms_match_pytorch_autograd(cell):
    torch = pytest.importorskip("torch")
    from torch import nn

    config = network(cell, output_size=3)
    params = init_params(config, 11)
    x = sequence(4)
    module = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](3, 4).double()
    linear = nn.Linear(4, 3).double()
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            parameter.copy_(torch.from_numpy(params[name]))
        linear.weight.copy_(torch.from_numpy(params["output.weight"]))
        linear.bias.copy_(torch.from_numpy(params["output.bias"]))

    def last_output(inputs):
        top, _ = module(inputs[:, None, :])
        return linear(top[-1, 0])

    jac = torch.autograd.functional.jacobian(last_output, torch.from_numpy(x))  # (O, T, I)
    expected = jac.pow(2).sum(dim=(0, 2)).sqrt().numpy()
    np.testing.assert_allclose(influence_norms(params, config, x), expected, rtol=1e-10, atol=1e-14)


def test_token_inputs_give_the_one_hot_gradient():
    config = NetworkConfig(
        cell="gru",
        input_size=5,
        hidden_size=3,
        output_size=5,
        output_activation="softmax",
        input_encoding="onehot",
        vocab_size=5,
    )
    params = init_params(config, 2)
    tokens = np.array([0, 3, 1, 4])
    jac = input_jacobians(params, config, tokens)
    one_hot = np.eye(5)[tokens]
    config_vec = NetworkConfig(cell="gru", input_size=5, hidden_size=3, output_size=5)
    numerical = central_difference(
        lambda: float(forward(params, config_vec, one_hot).logits[-1, 0, 2]), one_hot
    )
    assert relative_error(numerical, jac[:, 2]) < 1e-7


@pytest.mark.parametrize(
    "kwargs, message",
    [({"step": 6}, "step must lie in"), ({"step": -7}, "step must lie in")],
)
def test_bad_steps_are_refused(kwargs, message):
    config = network("rnn")
    with pytest.raises(ValueError, match=message):
        input_jacobians(init_params(config, 0), config, sequence(), **kwargs)


def test_a_network_without_outputs_or_a_batch_is_refused():
    bare = NetworkConfig(cell="rnn", input_size=3, hidden_size=4)
    with pytest.raises(ValueError, match="output layer"):
        input_jacobians(init_params(bare, 0), bare, sequence())
    config = network("rnn")
    with pytest.raises(ValueError, match="one sequence"):
        input_jacobians(init_params(config, 0), config, sequence()[:, None, :])
