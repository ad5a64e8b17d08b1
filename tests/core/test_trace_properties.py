"""Properties every trace must have, checked on networks hypothesis draws (sizes, cells, seeds, padding).

    sigmoid gates lie in [0, 1], tanh quantities in [-1, 1]; relu states are >= 0
    the same seed gives the same trace bit for bit, different seeds differ
    every recorded array is (T, B, H) or (T, B, G*H)
    trace.at(t) and trace.sequence(b) show the same numbers as the full arrays
    a padded sequence b of a batch gives the numbers of running that sequence alone
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import NetworkConfig
from core.network import forward
from core.params import init_params
from core.trace import Trace

KERNELS = [("rnn", "tanh"), ("rnn", "sigmoid"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
FAST = settings(max_examples=25, deadline=None)

#: Quantities squashed by a sigmoid or a tanh, per kernel (the relu RNN's h is only bounded below).
SIGMOID = {("rnn", "sigmoid"): ("h",), ("lstm", "tanh"): ("i", "f", "o"), ("gru", "tanh"): ("r", "z")}
TANH = {("rnn", "tanh"): ("h",), ("lstm", "tanh"): ("g", "tanh_c", "h"), ("gru", "tanh"): ("n", "h")}


@dataclass
class Run:
    config: NetworkConfig
    seed: int
    inputs: np.ndarray
    lengths: np.ndarray | None

    def trace(self, seed: int | None = None, **kwargs) -> Trace:
        params = init_params(self.config, self.seed if seed is None else seed)
        return forward(params, self.config, self.inputs, lengths=self.lengths, **kwargs)


@st.composite
def runs(draw, kernels=KERNELS, max_steps: int = 6, padded: bool | None = None) -> Run:
    cell, nonlinearity = draw(st.sampled_from(kernels))
    config = NetworkConfig(
        cell=cell, nonlinearity=nonlinearity,
        input_size=draw(st.integers(1, 4)), hidden_size=draw(st.integers(1, 5)),
        num_layers=draw(st.integers(1, 3)), bidirectional=draw(st.booleans()),
        output_size=draw(st.none() | st.integers(1, 4)),
        output_activation=draw(st.sampled_from(["identity", "softmax"])),
    )
    seed = draw(st.integers(0, 2**32 - 1))
    steps, batch = draw(st.integers(1, max_steps)), draw(st.integers(1, 4))
    # Scales up to 100 drive the gates into saturation, where range bugs would show.
    scale = draw(st.sampled_from([0.1, 1.0, 10.0, 100.0]))
    inputs = scale * np.random.default_rng(seed).standard_normal((steps, batch, config.input_size))
    use_lengths = draw(st.booleans()) if padded is None else padded
    lengths = None
    if use_lengths:
        lengths = np.array(draw(st.lists(st.integers(1, steps), min_size=batch, max_size=batch)))
    return Run(config, seed, inputs, lengths)


def kernel_of(config: NetworkConfig) -> tuple[str, str]:
    return config.cell, config.nonlinearity


@FAST
@given(runs())
def test_gates_and_states_stay_in_their_ranges(run: Run) -> None:
    trace = run.trace()
    kernel = kernel_of(run.config)
    for row in trace.layers:
        for lt in row:
            q = lt.quantities()
            for name in SIGMOID.get(kernel, ()):
                assert ((q[name] >= 0) & (q[name] <= 1)).all(), name
            for name in TANH.get(kernel, ()):
                assert (np.abs(q[name]) <= 1).all(), name
            if kernel == ("rnn", "relu"):
                assert (q["h"] >= 0).all()
    if trace.probs is not None:
        np.testing.assert_allclose(trace.probs.sum(-1), 1.0, rtol=1e-12)


@FAST
@given(runs())
def test_same_seed_same_trace_and_other_seed_differs(run: Run) -> None:
    first, again, other = run.trace(), run.trace(), run.trace(seed=run.seed + 1)
    for a_row, b_row, c_row in zip(first.layers, again.layers, other.layers, strict=True):
        for a, b, c in zip(a_row, b_row, c_row, strict=True):
            for key in a.record:
                np.testing.assert_array_equal(a.record[key], b.record[key], err_msg=key)
            assert not np.array_equal(a.record["pre"], c.record["pre"]), "another seed draws other weights"
    if first.logits is not None:
        np.testing.assert_array_equal(first.logits, again.logits)


@FAST
@given(runs())
def test_every_recorded_array_has_the_configured_shape(run: Run) -> None:
    trace = run.trace()
    config = run.config
    T, B = run.inputs.shape[:2]
    H, G, D = config.hidden_size, len(config.gates), config.num_directions
    assert (trace.num_steps, trace.batch_size) == (T, B)
    assert len(trace.layers) == config.num_layers
    for layer, row in enumerate(trace.layers):
        assert len(row) == D
        for d, lt in enumerate(row):
            assert (lt.layer, lt.reverse) == (layer, d == 1)
            assert lt.x.shape == (T, B, config.layer_input_size(layer))
            assert lt.record["pre"].shape == (T, B, G * H)
            if "act" in lt.record:
                assert lt.record["act"].shape == (T, B, G * H)
            for name, value in lt.quantities().items():
                assert value.shape == (T, B, H), name
            assert {g for g in config.gates if config.cell != "rnn"} <= set(lt.quantities())
    assert trace.top.shape == (T, B, D * H)
    if config.output_size is None:
        assert trace.logits is None and trace.probs is None
    else:
        assert trace.logits.shape == (T, B, config.output_size)
        assert (trace.probs is not None) == (config.output_activation == "softmax")


@FAST
@given(runs(), st.data())
def test_at_and_sequence_are_the_full_arrays(run: Run, data) -> None:
    trace = run.trace()
    t = data.draw(st.integers(0, trace.num_steps - 1))
    b = data.draw(st.integers(0, trace.batch_size - 1))
    frame = trace.at(t, b)
    np.testing.assert_array_equal(frame["x"], trace.inputs[t, b])
    assert frame["has_output"] == bool(trace.output_mask[t, b])
    if trace.logits is not None:
        np.testing.assert_array_equal(frame["y"], trace.logits[t, b])
    if trace.probs is not None:
        np.testing.assert_array_equal(frame["probs"], trace.probs[t, b])

    alone = trace.sequence(b)
    n = int(trace.lengths[b])
    assert alone.num_steps == n and alone.batch_size == 1
    np.testing.assert_array_equal(alone.top[:, 0], trace.top[:n, b])
    for layer, row in enumerate(trace.layers):
        for d, lt in enumerate(row):
            full = lt.quantities()
            assert set(frame["layers"][layer][d]) == set(full)
            for name, value in full.items():
                np.testing.assert_array_equal(frame["layers"][layer][d][name], value[t, b], err_msg=name)
                np.testing.assert_array_equal(alone.quantity(layer, d, name), value[:n, b], err_msg=name)
                np.testing.assert_array_equal(trace.quantity(layer, d, name, b), value[:, b], err_msg=name)


@FAST
@given(runs(padded=True), st.data())
def test_padded_sequence_matches_running_it_alone(run: Run, data) -> None:
    config = run.config
    batch = run.inputs.shape[1]
    state_shape = (config.num_layers * config.num_directions, batch, config.hidden_size)
    rng = np.random.default_rng(run.seed)
    h0 = rng.standard_normal(state_shape)
    c0 = rng.standard_normal(state_shape) if config.has_cell_state else None
    params = init_params(config, run.seed)
    together = forward(params, config, run.inputs, h0=h0, c0=c0, lengths=run.lengths)

    b = data.draw(st.integers(0, batch - 1))
    n = int(run.lengths[b])
    alone = forward(params, config, run.inputs[:n, b : b + 1], h0=h0[:, b : b + 1],
                    c0=None if c0 is None else c0[:, b : b + 1])
    close = {"rtol": 1e-12, "atol": 1e-13}
    for row_t, row_a in zip(together.layers, alone.layers, strict=True):
        for lt_t, lt_a in zip(row_t, row_a, strict=True):
            q_t, q_a = lt_t.quantities(), lt_a.quantities()
            for name in q_a:
                np.testing.assert_allclose(q_t[name][:n, b], q_a[name][:, 0], **close, err_msg=name)
            h_t, c_t = lt_t.final_state()
            h_a, c_a = lt_a.final_state()
            np.testing.assert_allclose(h_t[b], h_a[0], **close, err_msg="final h")
            if c_t is not None:
                np.testing.assert_allclose(c_t[b], c_a[0], **close, err_msg="final c")
    if together.logits is not None:
        np.testing.assert_allclose(together.logits[:n, b], alone.logits[:, 0], **close)


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: "_".join(k))
@pytest.mark.parametrize("shape", ["many_to_many", "many_to_one", "one_to_one"])
def test_a_single_timestep_works(kernel, shape) -> None:
    cell, nonlinearity = kernel
    config = NetworkConfig(cell=cell, nonlinearity=nonlinearity, input_size=2, hidden_size=3, num_layers=2,
                           bidirectional=True, output_size=2)
    inputs = np.random.default_rng(0).standard_normal((1, 3, 2))
    trace = forward(init_params(config, 0), config, inputs, shape=shape)
    assert trace.top.shape == (1, 3, 6)
    assert trace.output_mask.all()
    assert trace.diverged_at() is None
    forward_dir, reverse_dir = trace.layers[0]
    # With one step, both directions see the same input and the same zero initial state.
    np.testing.assert_array_equal(forward_dir.h_prev, reverse_dir.h_prev)


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: "_".join(k))
def test_long_sequence_equals_its_two_halves_chained(kernel) -> None:
    """T = 2000 runs, stays finite, and equals the first half followed by the second from its final state."""
    cell, nonlinearity = kernel
    config = NetworkConfig(cell=cell, nonlinearity=nonlinearity, input_size=2, hidden_size=3, num_layers=2,
                           output_size=2)
    params = init_params(config, 1)
    inputs = np.random.default_rng(1).standard_normal((2000, 2, 2))
    whole = forward(params, config, inputs)
    assert whole.diverged_at() is None
    assert np.isfinite(whole.logits).all()

    first = forward(params, config, inputs[:1000])
    states = [row[0].final_state() for row in first.layers]
    h_mid = np.stack([h for h, _ in states])
    c_mid = np.stack([c for _, c in states]) if config.has_cell_state else None
    second = forward(params, config, inputs[1000:], h0=h_mid, c0=c_mid)
    for layer in range(config.num_layers):
        np.testing.assert_allclose(second.layers[layer][0].h, whole.layers[layer][0].h[1000:], rtol=1e-12,
                                   atol=1e-13)
