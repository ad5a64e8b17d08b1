"""Attention on its own: the score functions against their formulas, padding, and central-difference
gradients."""

from __future__ import annotations

import numpy as np
import pytest
from numgrad import assert_gradient_matches, central_difference

from core.config import ConfigError
from core.seq2seq import Seq2SeqConfig, attention, init_params

KINDS = ["additive", "dot", "general"]


def setting(kind: str, seed: int = 0):
    """A config, its parameters, a padded memory of 5 source positions for 3 sequences, and 4 queries each."""
    hidden = 4
    config = Seq2SeqConfig(cell="gru", src_vocab_size=5, tgt_vocab_size=6, embedding_size=3,
                           hidden_size=hidden,
                           attention=kind, attention_size=3 if kind == "additive" else None)
    rng = np.random.default_rng(seed)
    params = {k: 2.0 * v for k, v in init_params(config, seed).items()}
    keys = rng.standard_normal((5, 3, config.memory_size))
    mask = np.arange(5)[:, None] < np.array([5, 2, 4])[None, :]
    queries = rng.standard_normal((4, 3, config.dec_hidden))
    return config, params, keys, mask, queries


@pytest.mark.parametrize("kind", KINDS)
def test_weights_are_a_distribution_over_real_positions(kind):
    config, params, keys, mask, queries = setting(kind)
    rec = attention.attend(params, config, attention.prepare(params, config, keys, mask), queries)
    assert rec.weights.shape == (4, 3, 5)
    np.testing.assert_allclose(rec.weights.sum(-1), 1.0, rtol=0, atol=1e-14)
    assert (rec.weights[:, ~mask.T] == 0).all()
    assert (rec.weights[:, mask.T] > 0).all()
    expected_context = np.einsum("tbs,sbk->tbk", rec.weights, keys)
    np.testing.assert_allclose(rec.context, expected_context, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
def test_scores_follow_the_formulas(kind):
    config, params, keys, mask, queries = setting(kind)
    rec = attention.attend(params, config, attention.prepare(params, config, keys, mask), queries)
    t, b, j = 2, 1, 1
    s, h = queries[t, b], keys[j, b]
    if kind == "dot":
        expected = s @ h
    elif kind == "general":
        expected = s @ params["attention.weight"] @ h
    else:
        inner = params["attention.query.weight"] @ s + params["attention.key.weight"] @ h
        expected = params["attention.energy.weight"][0] @ np.tanh(inner)
    assert rec.scores[t, b, j] == pytest.approx(expected, rel=1e-13)
    e = rec.scores[t, b, :2]
    np.testing.assert_allclose(rec.weights[t, b, :2], np.exp(e) / np.exp(e).sum(), rtol=1e-13)
    joined = np.concatenate([rec.context[t, b], s])
    combined = np.tanh(params["attention.combine.weight"] @ joined + params["attention.combine.bias"])
    np.testing.assert_allclose(rec.hidden[t, b], combined, rtol=1e-13)


def test_one_step_at_a_time_equals_all_steps_at_once():
    config, params, keys, mask, queries = setting("additive")
    memory = attention.prepare(params, config, keys, mask)
    together = attention.attend(params, config, memory, queries)
    for t in range(queries.shape[0]):
        alone = attention.attend(params, config, memory, queries[t : t + 1])
        np.testing.assert_allclose(alone.weights[0], together.weights[t], rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(alone.hidden[0], together.hidden[t], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_central_differences(kind):
    """L = sum(R * h~) for a fixed random R: every attention tensor, the queries and the keys."""
    config, params, keys, mask, queries = setting(kind, seed=3)
    weight = np.random.default_rng(9).standard_normal(queries.shape[:2] + (config.dec_hidden,))

    def loss() -> float:
        memory = attention.prepare(params, config, keys, mask)
        return float((attention.attend(params, config, memory, queries).hidden * weight).sum())

    memory = attention.prepare(params, config, keys, mask)
    rec = attention.attend(params, config, memory, queries)
    d_queries, d_keys, grads = attention.backward(params, config, memory, queries, rec, weight)
    attention_names = [n for n in params if n.startswith("attention.")]
    assert sorted(grads) == sorted(attention_names)
    for name in attention_names:
        assert_gradient_matches(name, central_difference(loss, params[name]), grads[name])
    assert_gradient_matches("queries", central_difference(loss, queries), d_queries)
    numerical_keys = central_difference(loss, keys)
    assert_gradient_matches("keys", numerical_keys, d_keys)
    assert (d_keys[~mask] == 0).all()


def test_dot_attention_needs_matching_sizes():
    with pytest.raises(ConfigError, match="dot attention"):
        Seq2SeqConfig(hidden_size=4, decoder_hidden_size=6, attention="dot")
    Seq2SeqConfig(hidden_size=3, bidirectional=True, decoder_hidden_size=6, attention="dot")
