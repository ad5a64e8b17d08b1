"""An encoder-decoder's weights saved to a file give back its configuration and tensors (core.seq2seq.weights)."""

from __future__ import annotations

import numpy as np
import pytest

from core.seq2seq.config import Seq2SeqConfig
from core.seq2seq.params import init_params
from core.seq2seq.weights import infer_config, is_seq2seq, params_for_config
from core.weights_io import WeightsError, load_weights, weights_to_bytes

CONFIGS = [
    Seq2SeqConfig(cell="gru", src_vocab_size=9, tgt_vocab_size=7, embedding_size=4, hidden_size=5),
    Seq2SeqConfig(cell="lstm", src_vocab_size=6, tgt_vocab_size=8, embedding_size=3, hidden_size=4,
                  num_layers=2, bidirectional=True, attention="additive", attention_size=6),
    Seq2SeqConfig(cell="lstm", src_vocab_size=6, tgt_vocab_size=5, embedding_size=3, hidden_size=4,
                  decoder_hidden_size=7, attention="general"),
    Seq2SeqConfig(cell="rnn", src_vocab_size=5, tgt_vocab_size=5, embedding_size=2, hidden_size=3,
                  bidirectional=True, attention="dot"),
    Seq2SeqConfig(cell="gru", src_vocab_size=5, tgt_vocab_size=6, embedding_size=2, hidden_size=3,
                  num_layers=3, attention="additive"),
]


@pytest.mark.parametrize("format", ["npz", "safetensors"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.cell}-L{c.num_layers}-{c.attention}")
def test_saved_weights_give_back_the_config_and_the_tensors(config: Seq2SeqConfig, format: str) -> None:
    params = init_params(config, seed=3)
    tensors = load_weights(weights_to_bytes(params, format))
    assert is_seq2seq(tensors)
    inferred = infer_config(tensors)
    assert inferred == config
    loaded = params_for_config(tensors, inferred)
    assert set(loaded) == set(params)
    for name, value in params.items():
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)


def test_what_shapes_cannot_show_comes_from_overrides() -> None:
    config = Seq2SeqConfig(cell="rnn", src_vocab_size=5, tgt_vocab_size=6, embedding_size=2, hidden_size=3,
                           nonlinearity="relu", max_length=9, dtype="float32")
    tensors = init_params(config, seed=0)
    assert infer_config(tensors, nonlinearity="relu", max_length=9, dtype="float32") == config
    with pytest.raises(WeightsError, match="no valid encoder-decoder"):
        infer_config(tensors, start_id=99)


def test_a_network_is_not_an_encoder_decoder_and_bad_tensors_are_named() -> None:
    config = CONFIGS[1]
    tensors = dict(init_params(config, seed=0))
    assert not is_seq2seq({"weight_ih_l0": tensors["encoder.weight_ih_l0"]})
    tensors["attention.key.weight"] = tensors["attention.key.weight"][:, :-1]
    tensors["extra.weight"] = np.zeros(2)
    del tensors["output.bias"]
    with pytest.raises(WeightsError) as error:
        params_for_config(tensors, infer_config(tensors))
    message = str(error.value)
    assert "missing tensor 'output.bias'" in message
    assert "'attention.key.weight' has shape (6, 7), expected (6, 8)" in message
    assert "unexpected tensor 'extra.weight'" in message
    del tensors["encoder.weight_hh_l0"]
    with pytest.raises(WeightsError, match="needs a 2-D tensor 'encoder.weight_hh_l0'"):
        infer_config(tensors)
