"""What-if interventions (core.interventions): hand-computed runs, bit-identical no-ops, and gradients of the
intervened run checked by central differences for the vanilla RNN, LSTM and GRU, stacked and bidirectional."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from netcases import Case, make_case
from numgrad import assert_gradient_matches, central_difference

from core.bptt import loss_and_gradients, state_jacobian_norms
from core.config import NetworkConfig
from core.interventions import Clamp, InterventionError, ReplaceInput, SetState
from core.network import forward
from core.params import init_params


def one_unit_network(cell: str, **weights: float) -> tuple[NetworkConfig, dict[str, np.ndarray]]:
    """A network of one unit reading one number, with every weight zero unless named (``bias_i``: the
    bias of chunk i of b_ih, ``w``: every W_ih entry, ``u``: every W_hh entry)."""
    config = NetworkConfig(cell=cell, input_size=1, hidden_size=1, nonlinearity=weights.pop("act", "tanh"))
    params = {k: np.zeros_like(v) for k, v in init_params(config, 0).items()}
    params["weight_ih_l0"][:] = weights.pop("w", 0.0)
    params["weight_hh_l0"][:] = weights.pop("u", 0.0)
    for k, value in enumerate(weights.pop("biases", ())):
        params["bias_ih_l0"][k] = value
    assert not weights
    return config, params


# ------------------------------------------------------------------------------------------------------------
# By hand


def test_relu_rnn_state_set_and_input_replaced_by_hand() -> None:
    # h_t = relu(x_t + 0.5 h_{t-1}): x = 2, 0, 0 gives h = 2, 1, 0.5.
    config, params = one_unit_network("rnn", act="relu", w=1.0, u=0.5)
    x = np.array([[2.0], [0.0], [0.0]])
    h = lambda trace: trace.quantity(0, 0, "h")[:, 0].tolist()  # noqa: E731
    assert h(forward(params, config, x)) == [2.0, 1.0, 0.5]
    assert h(forward(params, config, x, interventions=[SetState(t=0, state="h", unit=0, value=4.0)])) == [
        4.0, 2.0, 1.0,
    ]
    replaced = forward(params, config, x, interventions=[ReplaceInput(t=1, vector=(6.0,))])
    assert h(replaced) == [2.0, 7.0, 3.5]
    assert replaced.inputs[:, 0, 0].tolist() == [2.0, 6.0, 0.0], "the trace shows the input the run read"
    assert x[1, 0] == 0.0, "the caller's array is left alone"


def test_lstm_forget_gate_clamped_to_zero_by_hand() -> None:
    # Zero weights: every step has the same gates, i = o = sigmoid(0) = 1/2, f = sigmoid(ln 3) = 3/4,
    # g = tanh(atanh(1/2)) = 1/2, so c_t = f c_{t-1} + i g = 3/4 c_{t-1} + 1/4.
    config, params = one_unit_network("lstm", biases=(0.0, math.log(3.0), math.atanh(0.5), 0.0))
    x = np.zeros((3, 1))
    plain = forward(params, config, x)
    np.testing.assert_allclose(plain.quantity(0, 0, "c")[:, 0], [0.25, 0.4375, 0.578125])
    forgot = forward(params, config, x, interventions=[Clamp(t=1, gate="f", unit=0, value=0.0)])
    # "Forget everything here": c_1 = 0 * c_0 + 1/4, and step 2 carries on from it.
    np.testing.assert_allclose(forgot.quantity(0, 0, "c")[:, 0], [0.25, 0.25, 0.4375])
    np.testing.assert_allclose(forgot.quantity(0, 0, "h")[:, 0], 0.5 * np.tanh([0.25, 0.25, 0.4375]))
    assert forgot.quantity(0, 0, "f")[:, 0].tolist() == [0.75, 0.0, 0.75]
    # The record keeps the pre-activation the cell computed; only the activation is clamped.
    assert forgot.quantity(0, 0, "f_pre")[1, 0] == pytest.approx(math.log(3.0))


def test_lstm_cell_state_set_feeds_h_and_the_next_step_by_hand() -> None:
    config, params = one_unit_network("lstm", biases=(0.0, math.log(3.0), math.atanh(0.5), 0.0))
    run = forward(params, config, np.zeros((2, 1)), interventions=[SetState(t=0, state="c", unit=0, value=1.0)])
    np.testing.assert_allclose(run.quantity(0, 0, "c")[:, 0], [1.0, 1.0])  # 3/4 * 1 + 1/4
    np.testing.assert_allclose(run.quantity(0, 0, "h")[:, 0], 0.5 * np.tanh([1.0, 1.0]))


def test_gru_update_gate_clamped_to_one_copies_the_state() -> None:
    case = make_case("gru", hidden=3, steps=5, batch=2)
    run = forward(case.params, case.config, case.inputs, interventions=[Clamp(t=3, gate="z", unit=1, value=1.0)])
    h = run.quantity(0, 0, "h", b=1)
    # z_t = 1 keeps h_{t-1}: h_t = (1 - z) n + z h_{t-1} (computed as n + z (h_{t-1} - n), within rounding).
    assert h[3, 1] == pytest.approx(h[2, 1], abs=1e-15)
    h0 = run.quantity(0, 0, "h", b=0)
    assert h0[3, 1] == pytest.approx(h0[2, 1], abs=1e-15), "every sequence of a batch"
    assert h[3, 0] != pytest.approx(h[2, 0], abs=1e-3), "the other units move on"


def test_gru_reset_gate_clamped_to_zero_ignores_the_past() -> None:
    case = make_case("gru", hidden=2, steps=4, batch=1)
    run = forward(case.params, case.config, case.inputs, interventions=[Clamp(t=2, gate="r", unit=0, value=0.0)])
    w_in = case.params["weight_ih_l0"][4:]  # the n chunk (rows 2H .. 3H)
    b_in = case.params["bias_ih_l0"][4:]
    n_by_hand = np.tanh(case.inputs[2, 0] @ w_in.T + b_in)[0]
    assert run.quantity(0, 0, "n")[2, 0] == pytest.approx(n_by_hand, abs=1e-15)
    assert run.quantity(0, 0, "n")[2, 1] != pytest.approx(np.tanh(case.inputs[2, 0] @ w_in.T + b_in)[1])


def test_steps_before_the_intervention_are_untouched_and_later_ones_change() -> None:
    case = make_case("lstm", num_layers=2, steps=6, hidden=3)
    plain = forward(case.params, case.config, case.inputs)
    run = forward(case.params, case.config, case.inputs, interventions=[Clamp(t=3, gate="o", unit=2, value=1.0)])
    np.testing.assert_array_equal(run.top[:3], plain.top[:3])
    assert not np.allclose(run.top[3:], plain.top[3:])
    assert run.layers[0][0].record["c"][3].tolist() == plain.layers[0][0].record["c"][3].tolist(), (
        "o_t does not feed c_t"
    )


def test_reverse_direction_intervention_changes_earlier_positions() -> None:
    case = make_case("rnn", bidirectional=True, steps=5)
    plain = forward(case.params, case.config, case.inputs)
    run = forward(case.params, case.config, case.inputs,
                  interventions=[SetState(t=2, state="h", unit=0, value=0.9, direction=1)])
    reverse_h, plain_reverse = run.layers[0][1].h, plain.layers[0][1].h
    np.testing.assert_array_equal(reverse_h[3:], plain_reverse[3:])  # processed before t = 2
    assert (reverse_h[2, :, 0] == 0.9).all()
    assert not np.allclose(reverse_h[:2], plain_reverse[:2])
    np.testing.assert_array_equal(run.layers[0][0].h, plain.layers[0][0].h)


def test_replaced_token_is_encoded_like_any_token() -> None:
    for encoding in ("onehot", "embedding"):
        case = make_case("gru", encoding=encoding, steps=4, batch=1)
        tokens = case.inputs.copy()
        new = (int(tokens[2, 0]) + 1) % 4
        tokens[2, 0] = new
        expected = forward(case.params, case.config, tokens)
        run = forward(case.params, case.config, case.inputs, interventions=[ReplaceInput(t=2, token=new)])
        np.testing.assert_array_equal(run.top, expected.top)
        assert run.tokens is not None and int(run.tokens[2, 0]) == new


# ------------------------------------------------------------------------------------------------------------
# A no-op intervention changes no bit


NOOP_CASES = {
    "rnn_tanh": {"cell": "rnn"},
    "rnn_relu_stacked": {"cell": "rnn", "nonlinearity": "relu", "num_layers": 2},
    "lstm_stacked_bidirectional_padded": {"cell": "lstm", "num_layers": 2, "bidirectional": True, "padded": True},
    "lstm_float32_long": {"cell": "lstm", "dtype": "float32", "steps": 12, "hidden": 4},  # W_hh copied
    "lstm_short_wide": {"cell": "lstm", "steps": 3, "hidden": 8},  # W_hh read in place
    "gru_bidirectional_embedding": {"cell": "gru", "bidirectional": True, "encoding": "embedding"},
    "gru_float32_long": {"cell": "gru", "dtype": "float32", "steps": 12, "hidden": 4},
}


def computed_values(case: Case, t: int) -> list:
    """Interventions writing exactly what the plain run computes at step t, in every layer and direction:
    every gate unit clamped, every h (and c) unit set, and the input replaced by itself."""
    plain = case.run()
    H, ivs = case.config.hidden_size, []
    for layer, row in enumerate(plain.layers):
        for d, lt in enumerate(row):
            q = lt.quantities()
            for unit in range(H):
                # One value for the whole batch: take sequence 0's and use a batch of one below.
                for gate in case.config.gates if case.config.cell != "rnn" else ():
                    ivs.append(Clamp(t, gate, unit, float(q[gate][t, 0, unit]), layer, d))
                for state in ("h", "c") if case.config.has_cell_state else ("h",):
                    ivs.append(SetState(t, state, unit, float(q[state][t, 0, unit]), layer, d))
    if plain.tokens is not None:
        ivs.append(ReplaceInput(t, token=int(plain.tokens[t, 0])))
    else:
        ivs.append(ReplaceInput(t, vector=tuple(float(v) for v in case.inputs[t, 0])))
    return ivs


@pytest.mark.parametrize("name", list(NOOP_CASES))
def test_noop_interventions_give_bit_identical_traces(name: str) -> None:
    options = dict(NOOP_CASES[name])
    cell = options.pop("cell")
    case = make_case(cell, batch=1, **options)
    if case.lengths is not None:  # a batch of one is never padded: pad it by hand
        case = replace(case, lengths=np.array([case.inputs.shape[0] - 1]))
    plain = case.run()
    for t in (0, 2):
        run = replace(case, interventions=tuple(computed_values(case, t))).run()
        for row_plain, row_run in zip(plain.layers, run.layers, strict=True):
            for a, b in zip(row_plain, row_run, strict=True):
                for key in a.record:
                    np.testing.assert_array_equal(b.record[key], a.record[key], err_msg=f"{name} t={t} {key}")
        np.testing.assert_array_equal(run.logits, plain.logits)
        np.testing.assert_array_equal(run.inputs, plain.inputs)


def test_noop_intervention_leaves_gradients_bit_identical_when_nothing_is_cut() -> None:
    # A no-op clamp still makes the clamped number a constant, so gradients differ there; a replaced input
    # equal to the original changes nothing at all, forward or backward.
    case = make_case("lstm", num_layers=2, batch=1)
    _, _, plain = loss_and_gradients(case.params, case.config, case.inputs, case.targets, **case.loss_kwargs())
    same = replace(case, interventions=(ReplaceInput(1, vector=tuple(case.inputs[1, 0])),))
    _, _, run = loss_and_gradients(same.params, same.config, same.inputs, same.targets, **same.loss_kwargs())
    for name in plain.params:
        np.testing.assert_array_equal(run.params[name], plain.params[name])


# ------------------------------------------------------------------------------------------------------------
# Gradients through the intervened run


GRADIENT_CASES = {
    "rnn_set_h": ("rnn", {}, [SetState(1, "h", 0, 0.3), SetState(2, "h", 2, -0.4)]),
    "lstm_clamp_every_gate": (
        "lstm", {}, [Clamp(1, "i", 0, 0.2), Clamp(1, "f", 1, 0.0), Clamp(2, "g", 2, -0.5), Clamp(2, "o", 0, 1.0)],
    ),
    "lstm_set_c_and_h": ("lstm", {}, [SetState(1, "c", 1, 0.7), SetState(2, "h", 1, -0.2)]),
    "gru_clamp_every_gate": ("gru", {}, [Clamp(1, "r", 0, 0.0), Clamp(2, "z", 1, 0.9), Clamp(2, "n", 2, 0.3)]),
    "gru_clamp_n_and_r_same_unit": ("gru", {}, [Clamp(1, "n", 1, -0.6), Clamp(1, "r", 1, 0.5)]),
    "lstm_stacked": (
        "lstm", {"num_layers": 2}, [Clamp(1, "f", 0, 1.0, layer=1), SetState(2, "h", 1, 0.1, layer=0)],
    ),
    "gru_stacked_bidirectional": (
        "gru",
        {"num_layers": 2, "bidirectional": True},
        [Clamp(2, "z", 0, 0.0, layer=0, direction=1), SetState(1, "h", 2, 0.5, layer=1, direction=0),
         Clamp(1, "r", 1, 1.0, layer=1, direction=1)],
    ),
    "lstm_bidirectional_padded": (
        "lstm", {"bidirectional": True, "padded": True, "initial_state": True},
        [Clamp(1, "f", 2, 0.0, direction=1), SetState(0, "c", 0, -1.5, direction=0),
         ReplaceInput(2, vector=(1.0, -2.0))],
    ),
    "rnn_bidirectional_replaced_input": (
        "rnn", {"bidirectional": True}, [ReplaceInput(1, vector=(0.5, 0.5)), SetState(2, "h", 1, 0.0, direction=1)],
    ),
}


@pytest.mark.parametrize("name", list(GRADIENT_CASES))
def test_gradients_of_the_intervened_run_match_central_differences(name: str) -> None:
    cell, options, interventions = GRADIENT_CASES[name]
    case = replace(make_case(cell, **options), interventions=tuple(interventions))
    _, trace, grads = loss_and_gradients(case.params, case.config, case.inputs, case.targets, **case.loss_kwargs())
    assert trace.interventions == tuple(interventions)
    for param, value in case.params.items():
        assert_gradient_matches(f"{name} {param}", central_difference(case.loss_value, value), grads.params[param])
    d_inputs = central_difference(case.loss_value, case.inputs)
    for iv in interventions:
        if isinstance(iv, ReplaceInput):
            # The run reads the replacement, not the caller's x_t: its central difference is zero, while
            # grads.d_inputs[t] is the gradient with respect to the replacement.
            assert not d_inputs[iv.t].any()
            grads.d_inputs[iv.t] = 0.0
    assert_gradient_matches(f"{name} d_inputs", d_inputs, grads.d_inputs)
    if case.h0 is not None:
        assert_gradient_matches(f"{name} dh0", central_difference(case.loss_value, case.h0), grads.dh0)


def test_a_clamped_gate_sends_no_gradient_to_its_weights_row() -> None:
    # With f_t[u] clamped at every step, f's row u of W_if, W_hf and its biases get exactly zero.
    case = make_case("lstm", steps=2, batch=1, hidden=3)
    clamped = replace(case, interventions=(Clamp(0, "f", 1, 0.5), Clamp(1, "f", 1, 0.5)))
    _, _, grads = loss_and_gradients(
        clamped.params, clamped.config, clamped.inputs, clamped.targets, **clamped.loss_kwargs()
    )
    row = 3 + 1  # chunk f (index 1) of H = 3, unit 1
    assert not grads.params["weight_ih_l0"][row].any()
    assert not grads.params["weight_hh_l0"][row].any()
    assert not grads.params["bias_hh_l0"][row]
    assert grads.params["weight_ih_l0"][row - 1].any(), "the other units of f still learn"


@pytest.mark.parametrize("state", ["h", "c"])
def test_gradient_with_respect_to_the_set_value_is_reported(state: str) -> None:
    """dL/dh_t (dL/dc_t) in the gradients is the derivative along the value written: nudge it and see."""
    case = make_case("lstm", num_layers=2, bidirectional=True, batch=1)
    value = np.array([0.25])

    def loss() -> float:
        return replace(case, interventions=(SetState(2, state, 1, float(value[0]), layer=0, direction=1),)
                       ).loss_value()

    run = replace(case, interventions=(SetState(2, state, 1, 0.25, layer=0, direction=1),))
    _, _, grads = loss_and_gradients(run.params, run.config, run.inputs, run.targets, **run.loss_kwargs())
    reported = (grads.dh if state == "h" else grads.dc)[0][1][2, 0, 1]
    assert reported == pytest.approx(central_difference(loss, value)[0], rel=1e-6, abs=1e-10)
    assert reported != 0.0


def test_jacobian_norms_of_the_intervened_run_stop_at_a_set_state() -> None:
    case = make_case("gru", steps=5, batch=1, hidden=2)
    run = forward(case.params, case.config, case.inputs,
                  interventions=[SetState(2, "h", 0, 0.1), SetState(2, "h", 1, -0.1)])
    norms = state_jacobian_norms(case.params, run)[0][0]
    assert norms[2] > 0, "h_T still depends on h_2, the values written"
    assert norms[0] == norms[1] == 0.0, "but not, through them, on anything before"


# ------------------------------------------------------------------------------------------------------------
# Interventions that do not fit


LSTM = NetworkConfig(cell="lstm", input_size=2, hidden_size=3, num_layers=2, output_size=2)


@pytest.mark.parametrize(
    ("config", "intervention", "field", "words"),
    [
        (LSTM, Clamp(4, "f", 0, 0.0), "t", "outside the sequence's timesteps 0 .. 3"),
        (LSTM, Clamp(-1, "f", 0, 0.0), "t", "outside"),
        (LSTM, Clamp(0, "r", 0, 0.0), "gate", "no gate 'r'; choose from i, f, g, o"),
        (replace(LSTM, cell="rnn"), Clamp(0, "h", 0, 0.0), "gate", "it has no gates"),
        (LSTM, Clamp(0, "f", 3, 0.0), "unit", "unit = 3 is outside 0 .. 2"),
        (LSTM, Clamp(0, "f", 0, 1.5), "value", "[0, 1]"),
        (LSTM, Clamp(0, "g", 0, -1.5), "value", "[-1, 1]"),
        (LSTM, SetState(0, "h", 0, math.nan), "value", "finite"),
        (LSTM, SetState(0, "h", 0, 0.0, layer=2), "layer", "layer = 2 is outside 0 .. 1"),
        (LSTM, SetState(0, "h", 0, 0.0, direction=1), "direction", "not bidirectional"),
        (replace(LSTM, cell="gru"), SetState(0, "c", 0, 0.0), "state", "only the LSTM has a cell state"),
        (LSTM, ReplaceInput(0, vector=(1.0,)), "vector", "holds 1 numbers, the network reads 2"),
        (LSTM, ReplaceInput(0, token=1), "vector", "give vector"),
        (LSTM, ReplaceInput(0, vector=(1.0, math.inf)), "vector", "finite"),
    ],
)
def test_bad_interventions_name_the_field(config, intervention, field: str, words: str) -> None:
    params = init_params(config, 0)
    with pytest.raises(InterventionError) as caught:
        forward(params, config, np.zeros((4, 2)), interventions=[SetState(0, "h", 0, 0.0), intervention])
    assert caught.value.index == 1
    assert caught.value.field == field
    assert words in caught.value.message


def test_token_out_of_range_and_two_writes_of_one_number_are_refused() -> None:
    config = NetworkConfig(cell="gru", input_encoding="onehot", vocab_size=3, input_size=3, hidden_size=2)
    params = init_params(config, 0)
    with pytest.raises(InterventionError, match="token = 3 is outside 0 .. 2"):
        forward(params, config, np.array([0, 1]), interventions=[ReplaceInput(1, token=3)])
    with pytest.raises(InterventionError, match="same number as intervention 0") as caught:
        forward(params, config, np.array([0, 1]),
                interventions=[Clamp(1, "z", 0, 0.5), Clamp(1, "z", 0, 0.25)])
    assert caught.value.index == 1
