"""An encoder-decoder's weights from a file: read its configuration off the tensors, then check and cast them.

The tensors carry the names of core.seq2seq.params (``encoder.weight_ih_l0``, ``encoder_embedding.weight``,
``decoder.weight_hh_l0``, ``attention.query.weight``, ``output.weight``, ...), as a model downloaded from
Unrolled has them. What the shapes show:

    encoder.weight_hh_l0 (G*H, H)          cell (G = 1 rnn, 4 lstm, 3 gru) and encoder hidden size H
    encoder.weight_ih_l{k}[_reverse]       the number of layers, and bidirectional when a _reverse exists
    encoder_embedding.weight (V_src, E)    source vocabulary and embedding size
    decoder_embedding.weight (V_tgt, E)    target vocabulary
    decoder.weight_hh_l0 (G*H_dec, H_dec)  decoder hidden size
    attention.query.weight (A, H_dec)      additive attention of width A; attention.weight: general;
                                           attention.combine.weight alone: dot; none of them: no attention

What they cannot show (nonlinearity of an RNN cell, reserved token ids, decoding length, dtype) comes from
``overrides``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from core.config import ConfigError
from core.params import Params
from core.seq2seq.config import Seq2SeqConfig
from core.seq2seq.params import cast_params, parameter_shapes
from core.weights_io import WeightsError, cast_finite, cell_of, check_tensors, shape_problems

_ENCODER_LAYER = re.compile(r"^encoder\.weight_ih_l(?P<layer>\d+)(?:_reverse)?$")


def is_seq2seq(tensors: Mapping[str, Any]) -> bool:
    """Whether the tensors are an encoder-decoder's (both embeddings under their Seq2Seq names)."""
    return "encoder_embedding.weight" in tensors and "decoder_embedding.weight" in tensors


def infer_config(tensors: Mapping[str, np.ndarray], **overrides: Any) -> Seq2SeqConfig:
    """The Seq2SeqConfig the tensors' shapes describe; ``overrides`` set the fields shapes cannot show."""

    def shape(name: str) -> tuple[int, ...]:
        if name not in tensors or np.ndim(tensors[name]) != 2:
            raise WeightsError(f"cannot read the encoder-decoder: it needs a 2-D tensor {name!r}")
        return tuple(np.shape(tensors[name]))

    w_hh = shape("encoder.weight_hh_l0")
    cell, hidden = cell_of("encoder.weight_hh_l0", w_hh), w_hh[1]
    src_vocab, embedding = shape("encoder_embedding.weight")
    tgt_vocab, _ = shape("decoder_embedding.weight")
    dec_hidden = shape("decoder.weight_hh_l0")[1]
    bidirectional = any(name.startswith("encoder.") and name.endswith("_reverse") for name in tensors)
    fields: dict[str, Any] = {
        "cell": cell,
        "src_vocab_size": src_vocab,
        "tgt_vocab_size": tgt_vocab,
        "embedding_size": embedding,
        "hidden_size": hidden,
        "num_layers": 1 + max(int(m["layer"]) for m in map(_ENCODER_LAYER.match, tensors) if m),
        "bidirectional": bidirectional,
        # Left at None when it is the default (the encoder's output width), so one model has one config.
        "decoder_hidden_size": None if dec_hidden == hidden * (2 if bidirectional else 1) else dec_hidden,
    }
    if "attention.query.weight" in tensors:
        width = shape("attention.query.weight")[0]
        fields.update(attention="additive", attention_size=None if width == dec_hidden else width)
    elif "attention.weight" in tensors:
        fields["attention"] = "general"
    elif "attention.combine.weight" in tensors:
        fields["attention"] = "dot"
    fields.update(overrides)
    try:
        return Seq2SeqConfig(**fields)
    except (ConfigError, TypeError) as exc:
        raise WeightsError(f"the tensors describe no valid encoder-decoder: {exc}") from None


def params_for_config(tensors: Mapping[str, np.ndarray], config: Seq2SeqConfig) -> Params:
    """Check every tensor against ``config`` (naming each missing, unexpected or mis-shaped one), cast it."""
    check_tensors(tensors)
    problems = shape_problems(tensors, parameter_shapes(config), repr)
    if problems:
        raise WeightsError("the weights do not fit the encoder-decoder: " + "; ".join(problems))
    return cast_finite(lambda: cast_params(dict(tensors), config), config.dtype, str)
