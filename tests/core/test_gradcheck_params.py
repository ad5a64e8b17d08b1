"""Central-difference checks of every gradient core.bptt returns: each parameter, dL/dx, dL/dh0 and dL/dc0.

Every cell (vanilla RNN with tanh, sigmoid and relu; LSTM; GRU) runs through the same scenarios, which between
them cover: one, two and three layers; one and two directions; cross-entropy on a softmax output, MSE on an
identity output and MSE on a softmax output; a loss on every step, on the last step (where='last') and through
the many-to-one shape; vector, one-hot and embedded inputs; padded batches; given initial states. All entries
of every tensor are checked (the models are tiny), in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
from netcases import Case, kink_free_case
from numgrad import assert_gradient_matches, central_difference

from core.bptt import loss_and_gradients

KERNELS = [("rnn", "tanh"), ("rnn", "sigmoid"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]

SCENARIOS = {
    "single_cross_entropy_all": {"objective": "cross_entropy", "where": "all"},
    "stacked3_mse_identity_last_h0": {
        "num_layers": 3, "objective": "mse_identity", "where": "last", "initial_state": True,
    },
    "bidirectional_embedding_padded_mse_softmax": {
        "bidirectional": True, "encoding": "embedding", "objective": "mse_softmax", "padded": True,
    },
    "stacked_bidirectional_onehot_many_to_one_padded_h0": {
        "num_layers": 2, "bidirectional": True, "encoding": "onehot", "objective": "cross_entropy",
        "shape": "many_to_one", "where": None, "padded": True, "initial_state": True,
    },
    "embedding_last_padded_h0": {
        "encoding": "embedding", "objective": "cross_entropy", "where": "last", "padded": True,
        "initial_state": True, "steps": 5,
    },
    "bidirectional_padded_h0_mse_identity": {
        "bidirectional": True, "objective": "mse_identity", "padded": True, "initial_state": True, "batch": 3,
    },
}


def build(kernel: tuple[str, str], scenario: str) -> Case:
    cell, nonlinearity = kernel
    return kink_free_case(cell, nonlinearity=nonlinearity, **SCENARIOS[scenario])


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: "_".join(k))
def test_every_gradient_matches_central_differences(kernel: tuple[str, str], scenario: str) -> None:
    case = build(kernel, scenario)
    loss, _, grads = loss_and_gradients(case.params, case.config, case.inputs, case.targets,
                                        **case.loss_kwargs())
    assert loss == pytest.approx(case.loss_value(), rel=1e-14)
    assert list(grads.params) == list(case.params), "one gradient per parameter, in parameter order"

    for name, value in case.params.items():
        assert_gradient_matches(name, central_difference(case.loss_value, value), grads.params[name])

    # dL/dx_t is the gradient with respect to what layer 0 reads, so token inputs are checked through the
    # equivalent network that reads the encoded vectors directly.
    vector_case = case if case.config.input_encoding == "vector" else case.as_vector_inputs()
    assert_gradient_matches("d_inputs", central_difference(vector_case.loss_value, vector_case.inputs),
                            grads.d_inputs)

    if case.h0 is not None:
        assert_gradient_matches("dh0", central_difference(case.loss_value, case.h0), grads.dh0)
    if case.c0 is not None:
        assert grads.dc0 is not None
        assert_gradient_matches("dc0", central_difference(case.loss_value, case.c0), grads.dc0)


def test_vector_equivalent_of_token_inputs_is_the_same_network() -> None:
    """The d_inputs check above leans on this: tokens and their encoded vectors give identical runs."""
    for encoding in ("onehot", "embedding"):
        case = kink_free_case("lstm", encoding=encoding, padded=True)
        vector_case = case.as_vector_inputs()
        np.testing.assert_array_equal(case.run().top, vector_case.run().top)
        assert case.loss_value() == vector_case.loss_value()
