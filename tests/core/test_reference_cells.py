"""The tuned kernels agree with the plain cells of core.cells.reference, forward and backward.

Hypothesis draws the sizes (input I, hidden H, batch B, steps T), the inputs, initial states and weights; the
kernels run them as the simulator does (core.layer.run_layer / backward_layer for one layer and direction,
core.network.forward / core.bptt.backward for stacked bidirectional networks) and the reference runs every
sequence of the batch alone, one step and one equation at a time. Every recorded quantity (each gate's
pre-activation and activation, the GRU's hn, c and tanh c, h) and every gradient (per step: the input and
hidden projections', dL/dh_t and dL/dc_t; summed: the weights', the initial states', the inputs') must agree
to float64 roundoff. T runs past H, so both of the kernels' W_hh layouts (copied with the sigmoid's 1/2
folded in, or read in place) are exercised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from core.bptt import backward
from core.cells import kernel_for
from core.cells import reference as ref
from core.config import NetworkConfig
from core.layer import backward_layer, run_layer
from core.network import forward
from core.params import init_params, recurrent_names

KERNELS = [("rnn", "tanh"), ("rnn", "sigmoid"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
TOL = {"rtol": 1e-11, "atol": 1e-12}
SETTINGS = settings(max_examples=40, deadline=None)


def close(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    np.testing.assert_allclose(actual, expected, **TOL, err_msg=what)


def floats(shape: tuple[int, ...], bound: float = 1.0) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=st.floats(-bound, bound, allow_subnormal=False))


@dataclass
class LayerCase:
    cell: str
    nonlinearity: str
    reverse: bool
    x: np.ndarray  # (T, B, I)
    W_ih: np.ndarray
    W_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray
    h0: np.ndarray  # (B, H)
    c0: np.ndarray | None
    dh_out: np.ndarray  # (T, B, H) gradient arriving from outside the recurrence
    dh_last: np.ndarray  # (B, H) gradient at the final state
    dc_last: np.ndarray | None

    def weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.W_ih, self.W_hh, self.b_ih, self.b_hh


@st.composite
def layer_cases(draw: st.DrawFn) -> LayerCase:
    cell, nonlinearity = draw(st.sampled_from(KERNELS))
    I, H = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    B, T = draw(st.integers(1, 3)), draw(st.integers(1, 8))
    GH = GATES[cell] * H
    # Weights up to 2 in size saturate some gates; larger relu products grow fast but stay well within range.
    w = draw(st.sampled_from([0.5, 2.0]))
    lstm = cell == "lstm"
    return LayerCase(
        cell, nonlinearity, draw(st.booleans()), draw(floats((T, B, I), 2.0)),
        draw(floats((GH, I), w)), draw(floats((GH, H), w)), draw(floats((GH,), w)), draw(floats((GH,), w)),
        draw(floats((B, H))), draw(floats((B, H))) if lstm else None,
        draw(floats((T, B, H))), draw(floats((B, H))), draw(floats((B, H))) if lstm else None,
    )


def reference_run(case: LayerCase, b: int) -> list[ref.Step]:
    c0 = None if case.c0 is None else case.c0[b]
    return ref.run_sequence(case.cell, list(case.x[:, b]), case.h0[b], c0, *case.weights(),
                            nonlinearity=case.nonlinearity, reverse=case.reverse)


@SETTINGS
@given(layer_cases())
def test_every_recorded_quantity_is_the_reference_cells(case: LayerCase) -> None:
    kernel = kernel_for(case.cell, case.nonlinearity)
    lt = run_layer(kernel, case.x, *case.weights(), case.h0, case.c0, reverse=case.reverse)
    recorded = lt.quantities()
    for b in range(case.x.shape[1]):
        steps = reference_run(case, b)
        assert set(steps[0]) <= set(recorded), "the reference names every quantity as the trace does"
        for t, step in enumerate(steps):
            for name, value in step.items():
                close(recorded[name][t, b], value, f"{case.cell} {name} t={t} b={b}")


@SETTINGS
@given(layer_cases())
def test_backprop_through_time_is_the_reference_cells(case: LayerCase) -> None:
    kernel = kernel_for(case.cell, case.nonlinearity)
    lt = run_layer(kernel, case.x, *case.weights(), case.h0, case.c0, reverse=case.reverse)
    grads = backward_layer(lt, case.W_hh, case.dh_out, case.dh_last, case.dc_last)
    for b in range(case.x.shape[1]):
        c0 = None if case.c0 is None else case.c0[b]
        dc_last = None if case.dc_last is None else case.dc_last[b]
        expected = ref.backprop_sequence(
            case.cell, list(case.x[:, b]), case.h0[b], c0, case.W_ih, case.W_hh, reference_run(case, b),
            list(case.dh_out[:, b]), case.nonlinearity, case.reverse, case.dh_last[b], dc_last,
        )
        for t, step in enumerate(expected.steps):
            # The kernel's gradients of the input and hidden projections are the biases' gradients.
            close(grads.d_in[t, b], step["b_ih"], f"d input projection t={t} b={b}")
            close(grads.d_hid[t, b], step["b_hh"], f"d hidden projection t={t} b={b}")
            close(grads.dh[t, b], step["h"], f"dL/dh_t t={t} b={b}")
            if grads.dc is not None:
                close(grads.dc[t, b], step["c"], f"dL/dc_t t={t} b={b}")
        close(grads.dh0[b], expected.h0, "dL/dh0")
        if grads.dc0 is not None:
            assert expected.c0 is not None
            close(grads.dc0[b], expected.c0, "dL/dc0")


@dataclass
class NetworkCase:
    config: NetworkConfig
    params: dict[str, np.ndarray]
    x: np.ndarray  # (T, B, I)
    h0: np.ndarray  # (L * D, B, H)
    c0: np.ndarray | None
    d_top: np.ndarray  # (T, B, D * H)


@st.composite
def network_cases(draw: st.DrawFn) -> NetworkCase:
    cell, nonlinearity = draw(st.sampled_from(KERNELS))
    config = NetworkConfig(
        cell=cell, nonlinearity=nonlinearity, input_size=draw(st.integers(1, 3)),
        hidden_size=draw(st.integers(1, 4)), num_layers=draw(st.integers(1, 3)),
        bidirectional=draw(st.booleans()), output_size=2,
    )
    scale = draw(st.sampled_from([1.0, 3.0]))  # PyTorch's initial weights, and three times as large
    params = {k: scale * v for k, v in init_params(config, draw(st.integers(0, 2**32 - 1))).items()}
    T, B, H = draw(st.integers(1, 6)), draw(st.integers(1, 3)), config.hidden_size
    rows = config.num_layers * config.num_directions
    return NetworkCase(
        config, params, draw(floats((T, B, config.input_size), 2.0)), draw(floats((rows, B, H))),
        draw(floats((rows, B, H))) if cell == "lstm" else None,
        draw(floats((T, B, config.num_directions * H))),
    )


def reference_network(case: NetworkCase, b: int) -> tuple[list[list[list[ref.Step]]], dict[str, np.ndarray],
                                                          np.ndarray, np.ndarray, np.ndarray | None]:
    """Stack the reference cells as nn.RNN / nn.LSTM / nn.GRU do, for sequence b alone; then backprop.

    Layer k > 0 reads [h_t forward, h_t reverse] of the layer below. Returns the steps [layer][direction][t],
    the parameter gradients, dL/dx_t and dL/dh0 (dL/dc0) for this sequence."""
    config, D, H = case.config, case.config.num_directions, case.config.hidden_size
    xs = list(case.x[:, b])
    runs, inputs = [], []
    for layer in range(config.num_layers):
        inputs.append(xs)
        row = []
        for d in range(D):
            W_ih, W_hh, b_ih, b_hh = (case.params[n] for n in recurrent_names(layer, d == 1))
            c0 = None if case.c0 is None else case.c0[layer * D + d, b]
            row.append(ref.run_sequence(config.cell, xs, case.h0[layer * D + d, b], c0, W_ih, W_hh, b_ih, b_hh,
                                        config.nonlinearity, reverse=d == 1))
        runs.append(row)
        xs = [np.concatenate([row[d][t]["h"] for d in range(D)]) for t in range(len(xs))]

    grads: dict[str, np.ndarray] = {}
    dh0 = np.zeros((config.num_layers * D, H))
    dc0 = np.zeros_like(dh0) if config.cell == "lstm" else None
    d_out = list(case.d_top[:, b])
    for layer in reversed(range(config.num_layers)):
        d_in = [np.zeros_like(x) for x in inputs[layer]]
        for d in range(D):
            names = recurrent_names(layer, d == 1)
            W_ih, W_hh = case.params[names[0]], case.params[names[1]]
            c0 = None if case.c0 is None else case.c0[layer * D + d, b]
            g = ref.backprop_sequence(config.cell, inputs[layer], case.h0[layer * D + d, b], c0, W_ih, W_hh,
                                      runs[layer][d], [dy[d * H : (d + 1) * H] for dy in d_out],
                                      config.nonlinearity, reverse=d == 1)
            for name, value in zip(names, (g.W_ih, g.W_hh, g.b_ih, g.b_hh), strict=True):
                grads[name] = value
            for t, step in enumerate(g.steps):
                d_in[t] = d_in[t] + step["x"]
            dh0[layer * D + d] = g.h0
            if dc0 is not None and g.c0 is not None:
                dc0[layer * D + d] = g.c0
        d_out = d_in
    return runs, grads, np.array(d_out), dh0, dc0


@SETTINGS
@given(network_cases())
def test_stacked_bidirectional_networks_are_the_reference_cells_forward_and_backward(case: NetworkCase) -> None:
    config = case.config
    trace = forward(case.params, config, case.x, h0=case.h0, c0=case.c0)
    gradients = backward(case.params, trace, d_top=case.d_top)
    B = case.x.shape[1]
    expected_params = {name: np.zeros_like(value) for name, value in gradients.params.items()
                       if not name.startswith("output.")}
    for b in range(B):
        runs, grads, d_x, dh0, dc0 = reference_network(case, b)
        for layer, row in enumerate(runs):
            for d, steps in enumerate(row):
                recorded = trace.layers[layer][d].quantities()
                for t, step in enumerate(steps):
                    for name, value in step.items():
                        close(recorded[name][t, b], value, f"layer {layer} d={d} {name} t={t} b={b}")
        close(gradients.d_inputs[:, b], d_x, f"dL/dx b={b}")
        close(gradients.dh0[:, b], dh0, f"dL/dh0 b={b}")
        if gradients.dc0 is not None:
            assert dc0 is not None
            close(gradients.dc0[:, b], dc0, f"dL/dc0 b={b}")
        for name, value in grads.items():
            expected_params[name] += value  # the batch's gradient is the sum of its sequences'
    for name, value in expected_params.items():
        close(gradients.params[name], value, f"dL/d{name}")


@SETTINGS
@given(layer_cases(), st.data())
def test_a_padded_sequence_is_the_reference_run_on_its_own_length(case: LayerCase, data: st.DataObject) -> None:
    T, B, _ = case.x.shape
    lengths = np.array(data.draw(st.lists(st.integers(1, T), min_size=B, max_size=B)))
    mask = np.arange(T)[:, None] < lengths[None, :]
    kernel = kernel_for(case.cell, case.nonlinearity)
    lt = run_layer(kernel, case.x, *case.weights(), case.h0, case.c0, reverse=case.reverse, mask=mask)
    recorded = lt.quantities()
    for b, length in enumerate(lengths):
        c0 = None if case.c0 is None else case.c0[b]
        steps = ref.run_sequence(case.cell, list(case.x[:length, b]), case.h0[b], c0, *case.weights(),
                                 nonlinearity=case.nonlinearity, reverse=case.reverse)
        for t, step in enumerate(steps):
            for name, value in step.items():
                close(recorded[name][t, b], value, f"{case.cell} {name} t={t} b={b} length={length}")
