"""One-to-many generation: read one input, then keep stepping on what the network itself produced.

At t = 0 layer 0 reads the given first input x_0 (a token or a vector); later inputs follow ``feedback``:

    'output'  x_{t+1} = the network's own output at t:
                token models   the emitted token k_t, one-hot or embedded like any input token
                               greedy:  k_t = argmax_k y_t[k]
                               sampled: k_t ~ softmax(y_t / temperature),  the first k with
                                        cumsum(p)_k > u,  u ~ U[0, 1) from np.random.default_rng(seed)
                vector models  the output layer's emission (y_t, or softmax(y_t));
                               needs output_size == input_size
    'repeat'  x_{t+1} = x_0 (the "same input at every step" variant of one-to-many)
    'zeros'   x_{t+1} = 0  (vector models only; a token model has no zero token)

Each timestep runs through the stacked layers with the same cell kernels as core.network.forward:

    pre_t^(k) = x_t^(k) W_ih^(k)T + input_bias,   then kernel.step finishes h_t^(k) (and c_t^(k))
    x_t^(k+1) = h_t^(k),   y_t = W_hy h_t^top + b_y

so the Trace is exactly what forward() records for the fed inputs (tokens: the fed tokens;
extra['generated']: what was emitted at each step). A token model stops after the step that emits
``stop_token``, and any model stops at the first step whose output is not finite (a relu RNN can blow up; a
token model records NO_TOKEN = -1 there). The arrays are trimmed to the steps run and extra['stop'] says why:
'steps', 'stop_token' or 'diverged'. Bidirectional layers cannot generate: their reverse direction starts from
the last element, which does not exist until generation ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from core import activations
from core.cells import Kernel, kernel_for
from core.cells.kernel import Record, Workspace
from core.config import NetworkConfig
from core.layer import LayerTrace, project_inputs
from core.network import InputError, initial_states
from core.params import Params, cast_params, check_params, recurrent_names
from core.trace import Trace

FEEDBACKS = ("output", "repeat", "zeros")
#: What extra['generated'] holds for a token model at a step whose output was not finite.
NO_TOKEN = -1


@dataclass
class _LayerStepper:
    """One layer's weights, record and running state, advanced one timestep at a time."""

    kernel: Kernel
    x: np.ndarray  # (T, 1, input size) this layer's inputs
    record: Record
    W_ih: np.ndarray
    W_hhT: np.ndarray
    b_hh: np.ndarray
    bias: np.ndarray
    work: Workspace
    h: np.ndarray  # (1, H) h_{t-1}
    c: np.ndarray | None

    def step(self, t: int) -> np.ndarray:
        project_inputs(self.record["pre"][t : t + 1], self.x[t : t + 1], self.W_ih, self.bias)
        self.h, self.c = self.kernel.step(self.record, t, self.h, self.c, self.W_hhT, self.b_hh, self.work)
        return self.h


def choose_token(logits: np.ndarray, *, sample: bool, temperature: float, rng: np.random.Generator) -> int:
    """argmax_k y[k]; or, sampling, a draw from softmax(y / temperature): its inverse CDF at u ~ U[0, 1)."""
    if not sample:
        return int(np.argmax(logits))
    p = activations.softmax(np.asarray(logits, dtype=np.float64) / temperature)
    cumulative = np.cumsum(p)
    k = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return min(k, len(p) - 1)


def generate(
    params: Params,
    config: NetworkConfig,
    first_input: Any,
    steps: int,
    *,
    feedback: str = "output",
    temperature: float = 1.0,
    sample: bool = False,
    seed: int | None = None,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    stop_token: int | None = None,
) -> Trace:
    """Generate up to ``steps`` timesteps from ``first_input`` (a token id, or input_size numbers).

    Returns a Trace with shape 'one_to_many', batch 1, an output at every step; see the module docstring.
    ``sample``, ``temperature`` and ``seed`` choose the emitted token, so they matter for token models only.
    """
    tokens_in = config.input_encoding != "vector"
    _check_request(config, steps, feedback, temperature, stop_token, tokens_in)
    check_params(params, config)
    params = cast_params(params, config)
    dtype = config.np_dtype
    x = np.zeros((steps, 1, config.input_size), dtype)
    tokens = np.zeros((steps, 1), np.int64) if tokens_in else None
    if tokens is not None:
        tokens[0, 0] = _first_token(config, first_input)
        x[0, 0] = _token_vector(params, config, int(tokens[0, 0]))
    else:
        x[0, 0] = _first_vector(config, first_input)
    h0_all, c0_all = initial_states(config, 1, h0, c0)
    kernel = kernel_for(config.cell, config.nonlinearity)
    layers = _layer_steppers(params, config, kernel, x, h0_all, c0_all)

    W_hy, b_y = params["output.weight"], params["output.bias"]
    logits = np.zeros((steps, 1, W_hy.shape[0]), dtype)
    probs = np.zeros_like(logits) if config.output_activation == "softmax" else None
    emitted = np.zeros(steps, np.int64) if tokens_in else np.zeros((steps, W_hy.shape[0]), dtype)
    rng = np.random.default_rng(seed)
    stop, n = "steps", steps
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            top = layers[0].step(t)
            for stepper in layers[1:]:
                top = stepper.step(t)
            logits[t] = top @ W_hy.T + b_y
            if probs is not None:
                probs[t] = activations.softmax(logits[t])
            finite = bool(np.isfinite(logits[t]).all())
            if tokens is None:
                emitted[t] = (probs if probs is not None else logits)[t, 0]
            elif finite:
                emitted[t] = choose_token(logits[t, 0], sample=sample, temperature=temperature, rng=rng)
            else:
                emitted[t] = NO_TOKEN
            if not finite:
                stop, n = "diverged", t + 1
                break
            if tokens is not None and emitted[t] == stop_token:
                stop, n = "stop_token", t + 1
                break
            if t + 1 < steps:
                _feed(params, config, feedback, x, tokens, emitted, t + 1)

    layer_traces = [
        [LayerTrace(k, False, kernel, s.x[:n], {name: a[:n] for name, a in s.record.items()},
                    h0_all[k], None if c0_all is None else c0_all[k])]
        for k, s in enumerate(layers)
    ]
    return Trace(
        config, "one_to_many", x[:n], None if tokens is None else tokens[:n], np.array([n]), layer_traces,
        layer_traces[-1][0].h, logits[:n], None if probs is None else probs[:n], np.ones((n, 1), bool),
        extra={"generated": emitted[:n], "feedback": feedback, "stop": stop},
    )


def _check_request(config: NetworkConfig, steps: int, feedback: str, temperature: float,
                   stop_token: int | None, tokens_in: bool) -> None:
    if config.bidirectional:
        raise InputError("a bidirectional network cannot generate: its reverse direction reads the sequence "
                         "from its last element, which does not exist until generation has finished", "config")
    if config.output_size is None:
        raise InputError("generation needs an output layer (output_size) to emit something at every step", "config")
    if not isinstance(steps, int | np.integer) or isinstance(steps, bool) or steps < 1:
        raise InputError(f"steps must be a positive integer, got {steps!r}", "steps")
    if feedback not in FEEDBACKS:
        raise InputError(f"feedback must be one of {FEEDBACKS}, got {feedback!r}", "feedback")
    if not (isinstance(temperature, int | float) and math.isfinite(temperature) and temperature > 0):
        raise InputError(f"temperature must be a finite number above 0, got {temperature!r}", "temperature")
    if tokens_in:
        if feedback == "zeros":
            raise InputError("feedback 'zeros' needs vector inputs: a token model has no zero token "
                             "(use 'output' or 'repeat')", "feedback")
        if feedback == "output" and config.output_size != config.vocab_size:
            raise InputError(f"feeding back emitted tokens needs output_size == vocab_size "
                             f"({config.output_size} != {config.vocab_size})", "feedback")
        if stop_token is not None and not (
            isinstance(stop_token, int | np.integer) and 0 <= stop_token < config.output_size
        ):
            raise InputError(f"stop_token must be a token id in [0, {config.output_size - 1}], "
                             f"got {stop_token!r}", "stop_token")
    else:
        if stop_token is not None:
            raise InputError("stop_token applies to token models only; this network reads vectors", "stop_token")
        if feedback == "output" and config.output_size != config.input_size:
            raise InputError(f"feeding back vector outputs needs output_size == input_size "
                             f"({config.output_size} != {config.input_size})", "feedback")


def _first_token(config: NetworkConfig, first_input: Any) -> int:
    value = np.asarray(first_input)
    assert config.vocab_size is not None
    if value.shape != () or not np.issubdtype(value.dtype, np.integer):
        raise InputError(f"a token model starts from one token id (an integer), got {first_input!r}", "first_input")
    if not 0 <= int(value) < config.vocab_size:
        raise InputError(f"token ids must lie in [0, {config.vocab_size - 1}], got {int(value)}", "first_input")
    return int(value)


def _first_vector(config: NetworkConfig, first_input: Any) -> np.ndarray:
    value = np.asarray(first_input)
    if value.shape != (config.input_size,) or not (
        np.issubdtype(value.dtype, np.integer) or np.issubdtype(value.dtype, np.floating)
    ):
        raise InputError(f"the first input must be {config.input_size} real numbers, got shape {value.shape} "
                         f"of {value.dtype}", "first_input")
    if not np.isfinite(value).all():
        raise InputError("the first input must be finite numbers", "first_input")
    return value


def _token_vector(params: Params, config: NetworkConfig, token: int) -> np.ndarray:
    """What layer 0 reads for ``token``: a one-hot row or the token's embedding row."""
    if config.input_encoding == "embedding":
        row: np.ndarray = params["embedding.weight"][token]
        return row
    vector = np.zeros(config.input_size, config.np_dtype)
    vector[token] = 1.0
    return vector


def _feed(params: Params, config: NetworkConfig, feedback: str, x: np.ndarray, tokens: np.ndarray | None,
          emitted: np.ndarray, t: int) -> None:
    """Write input t (and token t) from the feedback rule."""
    if feedback == "repeat":
        x[t] = x[0]
        if tokens is not None:
            tokens[t] = tokens[0]
    elif feedback == "zeros":
        x[t] = 0.0
    elif tokens is not None:
        tokens[t, 0] = emitted[t - 1]
        x[t, 0] = _token_vector(params, config, int(emitted[t - 1]))
    else:
        x[t, 0] = emitted[t - 1]


def _layer_steppers(params: Params, config: NetworkConfig, kernel: Kernel, x: np.ndarray,
                    h0_all: np.ndarray, c0_all: np.ndarray | None) -> list[_LayerStepper]:
    """One stepper per layer; layer k > 0 reads layer k-1's recorded h, as in forward()."""
    steps = x.shape[0]
    H = config.hidden_size
    layers: list[_LayerStepper] = []
    layer_input = x
    for k in range(config.num_layers):
        W_ih, W_hh, b_ih, b_hh = (params[name] for name in recurrent_names(k, False))
        record = kernel.allocate(steps, 1, H, config.np_dtype)
        layers.append(_LayerStepper(
            kernel, layer_input, record, W_ih, np.ascontiguousarray(W_hh.T), b_hh,
            kernel.input_bias(b_ih, b_hh), kernel.workspace(1, H, config.np_dtype),
            h0_all[k], None if c0_all is None else c0_all[k],
        ))
        layer_input = record["h"]
    return layers
