"""Parameter names, shapes and PyTorch's default initialisation.

Recurrent weights use PyTorch's state_dict names and shapes (G = number of gate chunks: 1, 4 or 3):

    weight_ih_l{k}[_reverse]  (G*H, input size of layer k)
    weight_hh_l{k}[_reverse]  (G*H, H)
    bias_ih_l{k}[_reverse]    (G*H,)
    bias_hh_l{k}[_reverse]    (G*H,)

plus ``embedding.weight`` (V, input_size) for embedded tokens and ``output.weight`` (O, D*H), ``output.bias`` (O,)
for the output layer y_t = W_hy h_t + b_y.

Initialisation matches PyTorch's defaults: every recurrent tensor ~ U(-1/sqrt(H), 1/sqrt(H)); nn.Linear weight and
bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); nn.Embedding ~ N(0, 1). Draws come from one numpy Generator seeded
explicitly, in the order the names are listed, so the same seed gives the same weights on any machine.
"""

from __future__ import annotations

import math

import numpy as np

from core.config import NetworkConfig

Params = dict[str, np.ndarray]


def suffix(layer: int, reverse: bool) -> str:
    return f"_l{layer}" + ("_reverse" if reverse else "")


def recurrent_names(layer: int, reverse: bool) -> tuple[str, str, str, str]:
    s = suffix(layer, reverse)
    return (f"weight_ih{s}", f"weight_hh{s}", f"bias_ih{s}", f"bias_hh{s}")


def parameter_shapes(config: NetworkConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor the configuration needs, in state_dict order, with its shape."""
    H = config.hidden_size
    G = len(config.gates)
    shapes: dict[str, tuple[int, ...]] = {}
    if config.input_encoding == "embedding":
        assert config.vocab_size is not None
        shapes["embedding.weight"] = (config.vocab_size, config.input_size)
    for layer in range(config.num_layers):
        for reverse in (False, True)[: config.num_directions]:
            w_ih, w_hh, b_ih, b_hh = recurrent_names(layer, reverse)
            shapes[w_ih] = (G * H, config.layer_input_size(layer))
            shapes[w_hh] = (G * H, H)
            shapes[b_ih] = (G * H,)
            shapes[b_hh] = (G * H,)
    if config.output_size is not None:
        shapes["output.weight"] = (config.output_size, config.top_size)
        shapes["output.bias"] = (config.output_size,)
    return shapes


def init_params(config: NetworkConfig, seed: int) -> Params:
    """Draw every parameter from PyTorch's default distributions with ``np.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    dtype = config.np_dtype
    params: Params = {}
    k_rec = 1.0 / math.sqrt(config.hidden_size)
    k_out = 1.0 / math.sqrt(config.top_size)
    for name, shape in parameter_shapes(config).items():
        if name == "embedding.weight":
            values = rng.standard_normal(shape)
        else:
            k = k_out if name.startswith("output.") else k_rec
            values = _uniform(rng, -k, k, shape)
        params[name] = values.astype(dtype, copy=False)
    return params


def _uniform(rng: np.random.Generator, low: float, high: float, shape: tuple[int, ...]) -> np.ndarray:
    """``rng.uniform(low, high, shape)``, number for number: NumPy draws it as low + (high - low) * u from
    ``rng.random()``; the in-place form skips the broadcasting machinery (a third faster for a model's
    weights, which a seeded trace draws on every request)."""
    values = rng.random(shape)
    values *= high - low
    values += low
    return values


def cast_params(params: Params, config: NetworkConfig) -> Params:
    dtype = config.np_dtype
    return {k: np.ascontiguousarray(v, dtype=dtype) for k, v in params.items()}


def check_params(params: Params, config: NetworkConfig) -> None:
    """Raise ValueError naming every missing, unexpected or mis-shaped tensor."""
    expected = parameter_shapes(config)
    problems = []
    for name, shape in expected.items():
        if name not in params:
            problems.append(f"missing tensor {name!r} (expected shape {shape})")
        elif tuple(params[name].shape) != shape:
            problems.append(f"tensor {name!r} has shape {tuple(params[name].shape)}, expected {shape}")
    for name in params:
        if name not in expected:
            problems.append(f"unexpected tensor {name!r} with shape {tuple(params[name].shape)}")
    if problems:
        raise ValueError("; ".join(problems))
