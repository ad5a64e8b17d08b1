"""One-to-many generation: the trace is forward() on the fed inputs; feedback, sampling, stopping, errors."""

from __future__ import annotations

import numpy as np
import pytest

from core import activations
from core.config import NetworkConfig
from core.generate import NO_TOKEN, choose_token, generate
from core.network import InputError, forward
from core.params import init_params
from core.trace import Trace


def token_config(cell: str = "lstm", *, layers: int = 2, encoding: str = "embedding", vocab: int = 6,
                 nonlinearity: str = "tanh", dtype: str = "float64") -> NetworkConfig:
    return NetworkConfig(cell=cell, input_size=vocab if encoding == "onehot" else 4, hidden_size=5,
                         num_layers=layers, nonlinearity=nonlinearity, output_size=vocab,
                         output_activation="softmax", input_encoding=encoding, vocab_size=vocab, dtype=dtype)


def vector_config(cell: str = "gru", *, layers: int = 1, nonlinearity: str = "tanh", output_size: int = 3,
                  output_activation: str = "identity") -> NetworkConfig:
    return NetworkConfig(cell=cell, input_size=3, hidden_size=4, num_layers=layers, nonlinearity=nonlinearity,
                         output_size=output_size, output_activation=output_activation)


def initial_state(config: NetworkConfig, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = (config.num_layers, config.hidden_size)
    state = {"h0": rng.uniform(-1, 1, shape)}
    if config.cell == "lstm":
        state["c0"] = rng.uniform(-1, 1, shape)
    return state


def assert_trace_matches_forward(trace: Trace, params, config: NetworkConfig, atol: float, **state) -> None:
    """Run forward() on exactly what generate() fed in and compare every recorded array."""
    fed = trace.tokens if trace.tokens is not None else trace.inputs
    ref = forward(params, config, fed, **state)
    assert trace.shape == "one_to_many"
    np.testing.assert_array_equal(trace.lengths, [trace.num_steps])
    np.testing.assert_array_equal(trace.output_mask, ref.output_mask)
    np.testing.assert_allclose(trace.inputs, ref.inputs, rtol=0, atol=atol)
    for ours, theirs in zip(trace.layers, ref.layers, strict=True):
        (lt,), (rt,) = ours, theirs
        assert lt.layer == rt.layer and not lt.reverse and lt.kernel is rt.kernel
        np.testing.assert_allclose(lt.x, rt.x, rtol=0, atol=atol)
        np.testing.assert_allclose(lt.h0, rt.h0, rtol=0, atol=atol)
        assert sorted(lt.record) == sorted(rt.record)
        for name, value in lt.record.items():
            assert value.dtype == config.np_dtype
            np.testing.assert_allclose(value, rt.record[name], rtol=0, atol=atol, err_msg=name)
        for name, value in lt.quantities().items():
            np.testing.assert_allclose(value, rt.quantities()[name], rtol=0, atol=atol, err_msg=name)
    np.testing.assert_allclose(trace.top, ref.top, rtol=0, atol=atol)
    np.testing.assert_allclose(trace.logits, ref.logits, rtol=0, atol=atol)
    if ref.probs is None:
        assert trace.probs is None
    else:
        np.testing.assert_allclose(trace.probs, ref.probs, rtol=0, atol=atol)


# --- the trace is forward() on the fed inputs ---------------------------------------------------------------

TOKEN_CASES = [
    ("lstm", 1, "embedding", "tanh"),
    ("lstm", 3, "onehot", "tanh"),
    ("gru", 2, "embedding", "tanh"),
    ("gru", 1, "onehot", "tanh"),
    ("rnn", 2, "embedding", "relu"),
    ("rnn", 1, "onehot", "sigmoid"),
    ("rnn", 3, "embedding", "tanh"),
]


@pytest.mark.parametrize(("cell", "layers", "encoding", "nonlinearity"), TOKEN_CASES)
@pytest.mark.parametrize(("feedback", "sample"), [("output", False), ("output", True), ("repeat", True)])
def test_token_generation_is_forward_on_the_fed_tokens(cell, layers, encoding, nonlinearity, feedback,
                                                       sample):
    config = token_config(cell, layers=layers, encoding=encoding, nonlinearity=nonlinearity)
    params = init_params(config, seed=11)
    state = initial_state(config, seed=12)
    trace = generate(params, config, 3, 25, feedback=feedback, sample=sample, temperature=2.0, seed=5,
                     **state)
    assert trace.num_steps == 25 and trace.extra["stop"] == "steps"
    assert trace.extra["feedback"] == feedback
    assert_trace_matches_forward(trace, params, config, atol=1e-12, **state)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("feedback", ["output", "repeat", "zeros"])
@pytest.mark.parametrize("layers", [1, 2])
def test_vector_generation_is_forward_on_the_fed_vectors(cell, feedback, layers):
    config = vector_config(cell, layers=layers)
    params = init_params(config, seed=21)
    state = initial_state(config, seed=22)
    trace = generate(params, config, [0.5, -1.0, 2.0], 30, feedback=feedback, **state)
    assert trace.tokens is None and trace.num_steps == 30
    assert_trace_matches_forward(trace, params, config, atol=1e-12, **state)


def test_float32_generation_matches_float32_forward():
    config = token_config("lstm", dtype="float32")
    params = init_params(config, seed=1)
    trace = generate(params, config, 0, 20)
    assert trace.logits.dtype == np.float32 and trace.inputs.dtype == np.float32
    assert_trace_matches_forward(trace, params, config, atol=1e-6)


# --- what is fed back ---------------------------------------------------------------------------------------


def test_output_feedback_feeds_the_emitted_token():
    config = token_config("gru")
    params = init_params(config, seed=2)
    for sample in (False, True):
        trace = generate(params, config, 4, 40, sample=sample, seed=9)
        tokens, generated = trace.tokens[:, 0], trace.extra["generated"]
        assert tokens[0] == 4
        np.testing.assert_array_equal(tokens[1:], generated[:-1])
        if not sample:
            np.testing.assert_array_equal(generated, trace.logits[:, 0].argmax(-1))


def test_repeat_feedback_feeds_the_first_input_again():
    config = token_config("lstm")
    params = init_params(config, seed=2)
    trace = generate(params, config, 1, 12, feedback="repeat")
    np.testing.assert_array_equal(trace.tokens, np.ones((12, 1)))
    np.testing.assert_array_equal(trace.inputs, np.broadcast_to(params["embedding.weight"][1], (12, 1, 4)))
    np.testing.assert_array_equal(trace.extra["generated"], trace.logits[:, 0].argmax(-1))


def test_vector_feedback_feeds_the_emission():
    for activation in ("identity", "softmax"):
        config = vector_config("lstm", output_activation=activation)
        trace = generate(init_params(config, seed=3), config, np.array([1.0, 0.0, -1.0]), 15)
        emitted = trace.outputs[:, 0]
        np.testing.assert_array_equal(trace.extra["generated"], emitted)
        np.testing.assert_array_equal(trace.inputs[1:, 0], emitted[:-1])
        np.testing.assert_array_equal(trace.inputs[0, 0], [1.0, 0.0, -1.0])


def test_zeros_feedback_feeds_zeros_after_the_first_input():
    config = vector_config("rnn")
    trace = generate(init_params(config, seed=3), config, [1, 2, 3], 6, feedback="zeros")
    np.testing.assert_array_equal(trace.inputs[0, 0], [1.0, 2.0, 3.0])
    assert not trace.inputs[1:].any()


def test_one_step_reads_only_the_first_input():
    config = token_config("rnn", layers=1)
    params = init_params(config, seed=0)
    trace = generate(params, config, 2, 1)
    assert trace.num_steps == 1 and trace.extra["generated"].shape == (1,)
    assert_trace_matches_forward(trace, params, config, atol=1e-12)


# --- stopping -----------------------------------------------------------------------------------------------


def test_stop_token_ends_generation_after_it_is_emitted():
    config = token_config("lstm", vocab=8)
    params = init_params(config, seed=4)
    full = generate(params, config, 0, 30, sample=True, seed=3)
    generated = full.extra["generated"]
    stop_token = int(generated[5])
    first = int(np.flatnonzero(generated == stop_token)[0])
    stopped = generate(params, config, 0, 30, sample=True, seed=3, stop_token=stop_token)
    assert stopped.num_steps == first + 1 and stopped.extra["stop"] == "stop_token"
    assert stopped.extra["generated"][-1] == stop_token
    np.testing.assert_array_equal(stopped.extra["generated"], generated[: first + 1])
    np.testing.assert_array_equal(stopped.logits, full.logits[: first + 1])
    for name, value in stopped.layers[1][0].record.items():
        assert value.shape[0] == first + 1
        np.testing.assert_array_equal(value, full.layers[1][0].record[name][: first + 1])
    assert_trace_matches_forward(stopped, params, config, atol=1e-12)


def test_a_stop_token_never_emitted_runs_every_step():
    config = token_config("gru", vocab=8)
    params = init_params(config, seed=4)
    greedy = generate(params, config, 0, 20).extra["generated"]
    absent = next(k for k in range(8) if k not in greedy)
    trace = generate(params, config, 0, 20, stop_token=absent)
    assert trace.num_steps == 20 and trace.extra["stop"] == "steps"


def exploding_rnn(input_encoding: str) -> tuple[dict[str, np.ndarray], NetworkConfig]:
    tokens = input_encoding == "onehot"
    config = NetworkConfig(cell="rnn", nonlinearity="relu", input_size=2, hidden_size=2, output_size=2,
                           input_encoding=input_encoding, vocab_size=2 if tokens else None)
    params = {
        "weight_ih_l0": np.ones((2, 2)),
        "weight_hh_l0": 1e120 * np.eye(2),
        "bias_ih_l0": np.ones(2),
        "bias_hh_l0": np.zeros(2),
        "output.weight": np.eye(2),
        "output.bias": np.zeros(2),
    }
    return params, config


@pytest.mark.parametrize("encoding", ["vector", "onehot"])
def test_a_diverging_network_stops_at_the_first_non_finite_output(encoding):
    params, config = exploding_rnn(encoding)
    first = 0 if encoding == "onehot" else [1.0, 1.0]
    trace = generate(params, config, first, 50, feedback="repeat")
    # h grows by 1e120 a step: 1, 1e120, 1e240, then overflow at t = 3.
    assert trace.extra["stop"] == "diverged" and trace.num_steps == 4
    assert trace.diverged_at() == 3
    if encoding == "onehot":
        np.testing.assert_array_equal(trace.extra["generated"][-1], NO_TOKEN)
        assert (trace.extra["generated"][:-1] >= 0).all()
    else:
        assert not np.isfinite(trace.extra["generated"][-1]).all()


# --- sampling, temperature, seeds ---------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_sampled_tokens_follow_softmax_of_logits_over_temperature(temperature):
    logits = np.array([0.0, 1.0, 2.0, -1.0])
    rng = np.random.default_rng(0)
    draws = [choose_token(logits, sample=True, temperature=temperature, rng=rng) for _ in range(20000)]
    frequencies = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(frequencies, activations.softmax(logits / temperature), atol=0.015)


def test_greedy_choice_is_the_argmax_whatever_the_temperature():
    rng = np.random.default_rng(0)
    for temperature in (0.01, 1.0, 100.0):
        assert choose_token(np.array([0.3, 2.0, 1.9]), sample=False, temperature=temperature, rng=rng) == 1


def test_same_seed_same_trace_different_seed_different_tokens():
    config = token_config("lstm", vocab=10)
    params = init_params(config, seed=6)
    runs = [generate(params, config, 2, 40, sample=True, temperature=5.0, seed=s) for s in (1, 1, 2)]
    np.testing.assert_array_equal(runs[0].tokens, runs[1].tokens)
    np.testing.assert_array_equal(runs[0].layers[1][0].record["c"], runs[1].layers[1][0].record["c"])
    assert not np.array_equal(runs[0].tokens, runs[2].tokens)


def test_cold_sampling_is_greedy_and_hot_sampling_spreads_out():
    config = token_config("gru", vocab=10)
    params = init_params(config, seed=6)
    greedy = generate(params, config, 2, 60).extra["generated"]
    cold = generate(params, config, 2, 60, sample=True, temperature=1e-6, seed=0).extra["generated"]
    np.testing.assert_array_equal(cold, greedy)
    hot = generate(params, config, 2, 60, sample=True, temperature=1e6, seed=0).extra["generated"]
    # Near-uniform draws over 10 tokens: 60 of them hit far more distinct tokens than a greedy loop.
    assert len(np.unique(hot)) >= 8 > len(np.unique(greedy))


# --- refusals -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("steps", [0, -3, 2.5, True, "3", None])
def test_steps_must_be_a_positive_integer(steps):
    config = token_config()
    with pytest.raises(InputError, match="steps must be a positive integer"):
        generate(init_params(config, seed=0), config, 0, steps)


@pytest.mark.parametrize("temperature", [0, -1.0, float("inf"), float("nan"), "hot"])
def test_temperature_must_be_positive_and_finite(temperature):
    config = token_config()
    with pytest.raises(InputError, match="temperature must be a finite number above 0"):
        generate(init_params(config, seed=0), config, 0, 5, sample=True, temperature=temperature)


def test_bidirectional_networks_cannot_generate():
    config = NetworkConfig(cell="lstm", input_size=3, hidden_size=2, bidirectional=True, output_size=3)
    with pytest.raises(InputError, match="a bidirectional network cannot generate"):
        generate(init_params(config, seed=0), config, [0.0, 0.0, 0.0], 5)


@pytest.mark.parametrize(
    ("config", "first", "kwargs", "message"),
    [
        (token_config(), 0, {"feedback": "echo"}, r"feedback must be one of \('output', 'repeat', 'zeros'\)"),
        (token_config(), 0, {"feedback": "zeros"}, "feedback 'zeros' needs vector inputs"),
        (token_config(), 0, {"stop_token": 6}, r"stop_token must be a token id in \[0, 5\]"),
        (token_config(), 0, {"stop_token": 1.0}, "stop_token must be a token id"),
        (token_config(), 6, {}, r"token ids must lie in \[0, 5\], got 6"),
        (token_config(), 1.5, {}, "starts from one token id"),
        (token_config(), [1, 2], {}, "starts from one token id"),
        (vector_config(), [1.0, 2.0], {}, r"must be 3 real numbers, got shape \(2,\)"),
        (vector_config(), [1.0, np.nan, 0.0], {}, "must be finite"),
        (vector_config(), ["a", "b", "c"], {}, "must be 3 real numbers"),
        (vector_config(), [0.0, 0.0, 0.0], {"stop_token": 1}, "stop_token applies to token models only"),
        (vector_config(output_size=2), [0.0, 0.0, 0.0], {}, r"output_size == input_size \(2 != 3\)"),
        (NetworkConfig(cell="gru", input_size=3, hidden_size=2, input_encoding="embedding", vocab_size=5,
                       output_size=4), 0, {}, r"output_size == vocab_size \(4 != 5\)"),
        (NetworkConfig(cell="gru", input_size=3, hidden_size=2), [0.0, 0.0, 0.0], {"feedback": "repeat"},
         "needs an output layer"),
        (vector_config("lstm"), [0.0, 0.0, 0.0], {"h0": np.zeros((2, 4))}, r"h0 must have shape \(1, 1, 4\)"),
    ],
)
def test_requests_that_cannot_run_say_why(config, first, kwargs, message):
    with pytest.raises(InputError, match=message):
        generate(init_params(config, seed=0), config, first, 5, **kwargs)


def test_mismatched_output_is_fine_when_not_fed_back():
    config = vector_config(output_size=2)
    trace = generate(init_params(config, seed=0), config, [0.0, 1.0, 0.0], 4, feedback="repeat")
    assert trace.extra["generated"].shape == (4, 2)


# --- PyTorch ------------------------------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_greedy_generation_matches_a_pytorch_decoding_loop(cell):
    torch = pytest.importorskip("torch")
    config = token_config(cell, layers=2, vocab=7)
    params = init_params(config, seed=8)
    rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](4, 5, 2).double()
    rnn.load_state_dict({k: torch.from_numpy(v) for k, v in params.items() if "_l" in k})
    embedding = torch.from_numpy(params["embedding.weight"])
    W_hy, b_y = torch.from_numpy(params["output.weight"]), torch.from_numpy(params["output.bias"])

    token, state, tokens, logits = 3, None, [], []
    with torch.no_grad():
        for _ in range(15):
            top, state = rnn(embedding[token].reshape(1, 1, -1), state)
            y = top[0, 0] @ W_hy.T + b_y
            tokens.append(token)
            logits.append(y.numpy())
            token = int(y.argmax())
    trace = generate(params, config, 3, 15)
    np.testing.assert_array_equal(trace.tokens[:, 0], tokens)
    np.testing.assert_allclose(trace.logits[:, 0], np.array(logits), rtol=0, atol=1e-12)
