"""Bad configurations, inputs, parameters and loss arguments fail loudly, with a message naming what is wrong.

ConfigError and InputError are ValueErrors, so callers that only know ValueError still catch them.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from core import activations, losses
from core.bptt import backward, loss_and_gradients
from core.cells import kernel_for
from core.config import ConfigError, NetworkConfig
from core.network import InputError, forward
from core.params import check_params, init_params

LSTM = NetworkConfig(cell="lstm", input_size=3, hidden_size=4, num_layers=2, output_size=2)
GRU = NetworkConfig(cell="gru", input_size=3, hidden_size=4, output_size=2)
TOKENS = NetworkConfig(cell="rnn", input_size=2, hidden_size=3, input_encoding="embedding", vocab_size=5,
                       output_size=5)


def test_error_types_are_value_errors() -> None:
    assert issubclass(ConfigError, ValueError) and issubclass(InputError, ValueError)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"cell": "transformer"}, "cell"),
        ({"input_size": 0}, "input_size"),
        ({"hidden_size": -3}, "hidden_size"),
        ({"hidden_size": True}, "hidden_size"),
        ({"num_layers": 1.5}, "num_layers"),
        ({"nonlinearity": "gelu"}, "nonlinearity"),
        ({"cell": "lstm", "nonlinearity": "relu"}, "nonlinearity"),
        ({"output_activation": "tanh"}, "output_activation"),
        ({"output_size": 0}, "output_size"),
        ({"input_encoding": "bytes"}, "input_encoding"),
        ({"dtype": "float16"}, "dtype"),
        ({"vocab_size": 5}, "vocab_size"),
        ({"input_encoding": "embedding"}, "vocab_size"),
        ({"input_encoding": "onehot", "vocab_size": 5, "input_size": 4}, "input_size"),
    ],
)
def test_bad_config_names_the_field(fields: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        NetworkConfig(**fields)


def test_unknown_config_field_is_named() -> None:
    with pytest.raises(ConfigError, match="hidden_sise"):
        NetworkConfig.from_dict({"cell": "gru", "hidden_sise": 4})
    assert NetworkConfig.from_dict(LSTM.to_dict()) == LSTM


def run(config: NetworkConfig, inputs, **kwargs):
    return forward(init_params(config, 0), config, inputs, **kwargs)


@pytest.mark.parametrize(
    ("inputs", "pattern"),
    [
        (np.zeros((5, 2, 4)), r"\(T, 3\).*got \(5, 2, 4\)"),
        (np.zeros(5), r"\(T, 3\).*got \(5,\)"),
        (np.zeros((5, 2, 3), complex), "real numbers"),
        (np.full((5, 3), np.nan), "finite"),
        (np.zeros((0, 1, 3)), "at least one timestep"),
    ],
    ids=["wrong_width", "one_dimensional", "complex", "nan", "empty"],
)
def test_bad_vector_inputs(inputs, pattern: str) -> None:
    with pytest.raises(InputError, match=pattern):
        run(LSTM, inputs)


@pytest.mark.parametrize(
    ("tokens", "pattern"),
    [
        (np.array([0, 5, 1]), re.escape("[0, 4]")),
        (np.array([[0], [-1]]), re.escape("[0, 4]")),
        (np.array([0.0, 1.0]), "integers"),
        (np.zeros((2, 2, 2), int), "integers"),
    ],
    ids=["too_large", "negative", "floats", "three_dimensional"],
)
def test_bad_tokens(tokens, pattern: str) -> None:
    with pytest.raises(InputError, match=pattern):
        run(TOKENS, tokens)


@pytest.mark.parametrize("lengths", [[4], [4, 0, 2], [4, 5, 2], [4, 2, 3, 1], [4, 2.5, 1], [4, np.nan, 1]],
                         ids=str)
def test_bad_lengths(lengths) -> None:
    with pytest.raises(InputError, match=r"lengths must hold 3 integers in \[1, 4\]"):
        run(LSTM, np.zeros((4, 3, 3)), lengths=lengths)


def test_whole_float_lengths_are_accepted_and_an_empty_batch_is_not() -> None:
    assert run(LSTM, np.zeros((4, 2, 3)), lengths=[4.0, 2.0]).lengths.tolist() == [4, 2]
    with pytest.raises(InputError, match="at least one sequence"):
        run(LSTM, np.zeros((4, 0, 3)))


def test_bad_initial_states_name_the_state_and_its_shape() -> None:
    x = np.zeros((4, 2, 3))
    with pytest.raises(InputError, match=r"h0 must have shape \(2, 2, 4\).*got \(2, 2, 3\)"):
        run(LSTM, x, h0=np.zeros((2, 2, 3)))
    with pytest.raises(InputError, match=r"c0 must have shape \(2, 2, 4\).*got \(1, 2, 4\)"):
        run(LSTM, x, c0=np.zeros((1, 2, 4)))
    with pytest.raises(InputError, match="h0 must be finite"):
        run(LSTM, x, h0=np.full((2, 2, 4), np.inf))
    with pytest.raises(InputError, match="c0 is only used by the LSTM, not by gru"):
        run(GRU, x, h0=np.zeros((1, 2, 4)), c0=np.zeros((1, 2, 4)))


@pytest.mark.parametrize(
    ("shape", "steps", "pattern"),
    [("one_to_many", 3, "core.generate"), ("sideways", 3, "shape must be one of"),
     ("one_to_one", 3, "exactly one")],
)
def test_bad_shapes(shape: str, steps: int, pattern: str) -> None:
    with pytest.raises(InputError, match=pattern):
        run(LSTM, np.zeros((steps, 1, 3)), shape=shape)


def test_check_params_names_each_tensor_and_both_shapes() -> None:
    params = init_params(LSTM, 0)
    params["weight_hh_l1"] = np.zeros((16, 5))
    del params["bias_ih_l0"]
    params["weight_ih_l7"] = np.zeros((2, 2))
    with pytest.raises(ValueError) as info:
        check_params(params, LSTM)
    message = str(info.value)
    assert "tensor 'weight_hh_l1' has shape (16, 5), expected (16, 4)" in message
    assert "missing tensor 'bias_ih_l0' (expected shape (16,))" in message
    assert "unexpected tensor 'weight_ih_l7' with shape (2, 2)" in message
    with pytest.raises(ValueError, match="weight_hh_l1"):
        forward(params, LSTM, np.zeros((2, 3)))


def test_bad_loss_arguments() -> None:
    params, x = init_params(LSTM, 0), np.zeros((3, 2, 3))
    with pytest.raises(ValueError, match="integer class ids"):
        loss_and_gradients(params, LSTM, x, np.zeros((3, 2)))
    with pytest.raises(ValueError, match=re.escape("[0, 1]")):
        loss_and_gradients(params, LSTM, x, np.full((3, 2), 2))
    with pytest.raises(ValueError, match=re.escape("MSE targets must have shape (3, 2, 2)")):
        loss_and_gradients(params, LSTM, x, np.zeros((3, 2)), loss="mse")
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        loss_and_gradients(params, LSTM, x, np.zeros((3, 2), int), loss="hinge")
    with pytest.raises(ValueError, match="where must be"):
        loss_and_gradients(params, LSTM, x, np.zeros((3, 2), int), where="middle")
    no_output = NetworkConfig(cell="gru", input_size=3, hidden_size=4)
    with pytest.raises(ValueError, match="output_size"):
        loss_and_gradients(init_params(no_output, 0), no_output, x, np.zeros((3, 2), int))
    trace = forward(init_params(no_output, 0), no_output, x)
    with pytest.raises(ValueError, match="no output layer"):
        backward(init_params(no_output, 0), trace, np.zeros((3, 2, 1)))


def test_padded_positions_may_hold_any_target() -> None:
    """Targets at positions the loss skips are not validated (they are padding), counted ones are."""
    params, x = init_params(LSTM, 0), np.zeros((3, 2, 3))
    targets = np.array([[0, 1], [1, 99], [0, -5]])
    counted = np.array([[1, 1], [1, 0], [1, 0]])
    value, _ = losses.cross_entropy(forward(params, LSTM, x).logits, targets, counted)
    assert np.isfinite(value)
    with pytest.raises(ValueError):
        loss_and_gradients(params, LSTM, x, targets)
    loss_and_gradients(params, LSTM, x, targets, lengths=[3, 1])


def test_unknown_names_in_the_building_blocks() -> None:
    with pytest.raises(ValueError, match="unknown cell 'xlstm'"):
        kernel_for("xlstm")
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'"):
        activations.apply("gelu", np.zeros(2))
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'"):
        activations.derivative_from_output("gelu", np.zeros(2))
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'"):
        kernel_for("rnn", "gelu")


def test_trace_lookups_out_of_range() -> None:
    trace = run(TOKENS, np.array([[0, 1], [2, 3], [4, 0]]), lengths=[3, 2])
    assert trace.at(2, 1)["token"] == 0 and trace.at(1, 0)["token"] == 2
    for t in (-1, 3):
        with pytest.raises(IndexError, match=f"timestep {t} out of range"):
            trace.at(t)
    for b in (-1, 2):
        with pytest.raises(IndexError, match=f"sequence {b} out of range"):
            trace.sequence(b)
    assert trace.sequence(1).tokens[:, 0].tolist() == [1, 3]
