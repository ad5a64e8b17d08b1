"""Seq2Seq parameter names, shapes and initialisation (PyTorch-like names, G = gate chunks of the cell):

    encoder_embedding.weight             (V_src, E)
    encoder.weight_ih_l{k}[_reverse] ... (G*H, input of layer k)    as nn.RNN / nn.LSTM / nn.GRU
    bridge.weight, bridge.bias           (H_dec, K), (H_dec,)       only when K != H_dec (core.seq2seq.bridge)
    bridge_cell.weight, bridge_cell.bias (H_dec, K), (H_dec,)       the LSTM's cell-state bridge, same rule
    decoder_embedding.weight             (V_tgt, E)
    decoder.weight_ih_l{k} ...           (G*H_dec, input of layer k)
    attention.query.weight               (A, H_dec)                 additive:  W_q
    attention.key.weight                 (A, K)                     additive:  W_k
    attention.energy.weight              (1, A)                     additive:  v^T
    attention.weight                     (H_dec, K)                 general:   W
    attention.combine.weight, .bias      (H_dec, K + H_dec), (H_dec,)  any attention: W_c, b_c
    output.weight, output.bias           (V_tgt, H_dec), (V_tgt,)

Initialisation follows PyTorch's defaults (embeddings ~ N(0, 1); recurrent tensors ~ U(-1/sqrt(H), 1/sqrt(H))
with H the side's hidden size; linear maps ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))), drawn in the order listed
from one ``np.random.default_rng(seed)``.

The encoder and the decoder run through core.network / core.layer with their plain names (``weight_ih_l0``,
``embedding.weight``): :func:`side` strips the prefix, :func:`prefixed` puts it back on gradients.
"""

from __future__ import annotations

import math

import numpy as np

from core.params import Params
from core.params import parameter_shapes as network_shapes
from core.seq2seq.config import Seq2SeqConfig


def _side_shapes(config: Seq2SeqConfig, side: str) -> dict[str, tuple[int, ...]]:
    net = config.encoder_config() if side == "encoder" else config.decoder_config()
    shapes = {}
    for name, shape in network_shapes(net).items():
        shapes[f"{side}_embedding.weight" if name == "embedding.weight" else f"{side}.{name}"] = shape
    return shapes


def parameter_shapes(config: Seq2SeqConfig) -> dict[str, tuple[int, ...]]:
    K, Hd, V = config.memory_size, config.dec_hidden, config.tgt_vocab_size
    shapes = _side_shapes(config, "encoder")
    if config.has_bridge:
        shapes.update({"bridge.weight": (Hd, K), "bridge.bias": (Hd,)})
        if config.has_cell_state:
            shapes.update({"bridge_cell.weight": (Hd, K), "bridge_cell.bias": (Hd,)})
    shapes.update(_side_shapes(config, "decoder"))
    if config.attention == "additive":
        A = config.attention_width
        shapes.update({"attention.query.weight": (A, Hd), "attention.key.weight": (A, K),
                       "attention.energy.weight": (1, A)})
    elif config.attention == "general":
        shapes["attention.weight"] = (Hd, K)
    if config.attention != "none":
        shapes.update({"attention.combine.weight": (Hd, K + Hd), "attention.combine.bias": (Hd,)})
    shapes.update({"output.weight": (V, Hd), "output.bias": (V,)})
    return shapes


def _linear_bound(name: str, shapes: dict[str, tuple[int, ...]]) -> float:
    weight = name.rsplit(".", 1)[0] + ".weight"
    return 1.0 / math.sqrt(shapes[weight][1])


def init_params(config: Seq2SeqConfig, seed: int) -> Params:
    rng = np.random.default_rng(seed)
    shapes = parameter_shapes(config)
    params: Params = {}
    for name, shape in shapes.items():
        if name.endswith("_embedding.weight"):
            values = rng.standard_normal(shape)
        elif name.startswith("encoder."):
            bound = 1.0 / math.sqrt(config.hidden_size)
            values = rng.uniform(-bound, bound, shape)
        elif name.startswith("decoder."):
            bound = 1.0 / math.sqrt(config.dec_hidden)
            values = rng.uniform(-bound, bound, shape)
        else:
            bound = _linear_bound(name, shapes)
            values = rng.uniform(-bound, bound, shape)
        params[name] = values.astype(config.np_dtype)
    return params


def check_params(params: Params, config: Seq2SeqConfig) -> None:
    """Raise ValueError naming every missing, unexpected or mis-shaped tensor."""
    expected = parameter_shapes(config)
    problems = [f"missing tensor {n!r} (expected shape {s})" for n, s in expected.items() if n not in params]
    problems += [f"tensor {n!r} has shape {tuple(params[n].shape)}, expected {s}"
                 for n, s in expected.items() if n in params and tuple(params[n].shape) != s]
    problems += [f"unexpected tensor {n!r}" for n in params if n not in expected]
    if problems:
        raise ValueError("; ".join(problems))


def cast_params(params: Params, config: Seq2SeqConfig) -> Params:
    return {k: np.ascontiguousarray(v, dtype=config.np_dtype) for k, v in params.items()}


def side(params: Params, which: str) -> Params:
    """One side's tensors under core.network's names (``embedding.weight``, ``weight_ih_l0``, ...)."""
    out: Params = {}
    for name, value in params.items():
        if name == f"{which}_embedding.weight":
            out["embedding.weight"] = value
        elif name.startswith(f"{which}."):
            out[name[len(which) + 1 :]] = value
    return out


def prefixed(grads: dict[str, np.ndarray], which: str) -> dict[str, np.ndarray]:
    """The inverse of :func:`side` for a gradient dict."""
    def name(n: str) -> str:
        return f"{which}_embedding.weight" if n == "embedding.weight" else f"{which}.{n}"

    return {name(n): g for n, g in grads.items()}
