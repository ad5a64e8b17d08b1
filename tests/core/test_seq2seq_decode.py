"""Seq2Seq forward behaviour: parameter names, the hand-over, padding, teacher forcing, greedy and beam
decoding."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core import activations
from core.network import InputError
from core.seq2seq import Seq2SeqConfig, beam_decode, forward, greedy_decode, init_params, parameter_shapes


def config(**kw) -> Seq2SeqConfig:
    base = {"cell": "lstm", "src_vocab_size": 7, "tgt_vocab_size": 8, "embedding_size": 4, "hidden_size": 5,
            "max_length": 6}
    base.update(kw)
    return Seq2SeqConfig(**base)


SOURCE = np.array([[3, 4, 5, 6, 1], [2, 2, 6, 0, 0], [5, 1, 0, 0, 0]]).T  # (S=5, B=3), right-padded


def test_parameter_names_follow_pytorch():
    names = parameter_shapes(config(bidirectional=True, num_layers=2, attention="additive", attention_size=3,
                                    decoder_hidden_size=6))
    for expected in ["encoder_embedding.weight", "encoder.weight_ih_l0", "encoder.weight_hh_l1_reverse",
                     "bridge.weight", "bridge.bias", "bridge_cell.weight", "decoder_embedding.weight",
                     "decoder.weight_ih_l0", "decoder.bias_hh_l1", "attention.query.weight",
                     "attention.key.weight",
                     "attention.energy.weight", "attention.combine.weight", "output.weight", "output.bias"]:
        assert expected in names
    assert names["bridge.weight"] == (6, 10)  # [h_fwd; h_rev] (2H = 10) -> H_dec = 6
    assert names["attention.combine.weight"] == (6, 10 + 6)
    # K == H_dec: identity hand-over, no bridge
    assert not any(n.startswith("bridge") for n in parameter_shapes(config()))
    assert not any(n.startswith("bridge") for n in parameter_shapes(config(bidirectional=True)))
    assert "decoder.weight_ih_l0_reverse" not in names  # the decoder is unidirectional


def test_init_is_seeded():
    a, b = init_params(config(attention="general"), 3), init_params(config(attention="general"), 3)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    other = init_params(config(attention="general"), 4)
    assert not np.array_equal(a["output.weight"], other["output.weight"])


def test_context_vector_is_the_decoder_initial_state():
    cfg = config(cell="gru", num_layers=2)
    trace = greedy_decode(init_params(cfg, 0), cfg, SOURCE)
    for layer in range(2):
        h_final = trace.encoder.layers[layer][0].final_state()[0]
        np.testing.assert_array_equal(trace.context[layer], h_final)  # identity hand-over
        np.testing.assert_array_equal(trace.decoder.layers[layer][0].h0, trace.context[layer])
    # each sequence's context is its own last real step
    lengths = trace.source_lengths
    top_h = trace.encoder.layers[1][0].h
    np.testing.assert_array_equal(trace.context[1], top_h[lengths - 1, np.arange(3)])


def test_bidirectional_bridge_formula():
    cfg = config(bidirectional=True, decoder_hidden_size=6)
    params = init_params(cfg, 1)
    trace = greedy_decode(params, cfg, SOURCE)
    fwd, rev = trace.encoder.layers[0]
    joined = np.concatenate([fwd.final_state()[0], rev.final_state()[0]], -1)
    expected = np.tanh(joined @ params["bridge.weight"].T + params["bridge.bias"])
    np.testing.assert_allclose(trace.context[0], expected, rtol=1e-14)
    joined_c = np.concatenate([fwd.final_state()[1], rev.final_state()[1]], -1)
    expected_c = joined_c @ params["bridge_cell.weight"].T + params["bridge_cell.bias"]
    np.testing.assert_allclose(trace.context_c[0], expected_c, rtol=1e-14)


@pytest.mark.parametrize("attention", ["none", "additive"])
def test_padding_does_not_change_a_sequence(attention):
    cfg = config(attention=attention)
    params = init_params(cfg, 2)
    batch = greedy_decode(params, cfg, SOURCE, max_length=4)
    alone = greedy_decode(params, cfg, SOURCE[:2, 2], max_length=4)
    n = alone.num_steps
    np.testing.assert_allclose(batch.logits[:n, 2], alone.logits[:, 0], rtol=1e-12, atol=1e-14)
    if attention != "none":
        np.testing.assert_allclose(batch.attention_matrix(2), alone.attention_matrix(0), rtol=1e-12,
                                   atol=1e-14)
        assert (batch.attention.weights[:, 2, 2:] == 0).all()


def test_greedy_stops_at_end_or_the_cap():
    cfg = config(attention="dot")
    params = init_params(cfg, 0)
    params["output.bias"][cfg.end_id] = 50.0  # END wins at once
    trace = greedy_decode(params, cfg, SOURCE)
    assert trace.num_steps == 1 and [trace.output_ids(b) for b in range(3)] == [[cfg.end_id]] * 3
    params["output.bias"][cfg.end_id] = -50.0  # END never wins
    trace = greedy_decode(params, cfg, SOURCE, max_length=4)
    assert trace.num_steps == 4 and list(trace.output_lengths) == [4, 4, 4]
    assert cfg.end_id not in trace.tokens


@pytest.mark.parametrize("seed", range(4))
def test_greedy_feeds_back_its_own_choices(seed):
    cfg = config(cell="gru", attention="general", tgt_vocab_size=5, max_length=8)
    params = init_params(cfg, seed)
    trace = greedy_decode(params, cfg, SOURCE)
    V = cfg.tgt_vocab_size
    assert (trace.fed_tokens[0] == cfg.start_id).all()
    for b in range(3):
        n = int(trace.output_lengths[b])
        out = trace.output_ids(b)
        assert cfg.end_id not in out[:-1]
        assert out[-1] == cfg.end_id or n == cfg.max_length  # unfinished only at the cap
        np.testing.assert_array_equal(trace.fed_tokens[1:n, b], out[: n - 1])
        allowed = [k for k in range(V) if k not in (cfg.pad_id, cfg.start_id)]
        best = np.array(allowed)[trace.logits[:n, b][:, allowed].argmax(-1)]
        np.testing.assert_array_equal(out, best)
        assert (trace.tokens[n:, b] == cfg.pad_id).all()
    np.testing.assert_allclose(trace.topk_probs[..., 0], trace.probs.max(-1), rtol=0, atol=0)
    assert (np.diff(trace.topk_probs, axis=-1) <= 0).all()
    # running the decoder on its own choices under teacher forcing gives the same numbers
    targets = np.where(trace.output_mask, trace.tokens, cfg.pad_id)
    forced = forward(params, cfg, SOURCE, targets)
    np.testing.assert_allclose(forced.logits, trace.logits, rtol=1e-12, atol=1e-14)


def test_teacher_forcing_ratio_is_seeded():
    cfg = config(cell="rnn", attention="additive")
    params = init_params(cfg, 0)
    targets = np.array([[3, 4, 5, 2], [6, 7, 2, 0], [3, 2, 0, 0]]).T
    full = forward(params, cfg, SOURCE, targets, teacher_forcing=1.0)
    np.testing.assert_array_equal(full.fed_tokens[1:], targets[:-1])
    a = forward(params, cfg, SOURCE, targets, teacher_forcing=0.5, seed=7)
    b = forward(params, cfg, SOURCE, targets, teacher_forcing=0.5, seed=7)
    np.testing.assert_array_equal(a.fed_tokens, b.fed_tokens)
    fed, forced = a.fed_tokens, a.teacher_forced
    np.testing.assert_array_equal(fed[1:][forced[1:]], targets[:-1][forced[1:]])
    np.testing.assert_array_equal(fed[1:][~forced[1:]], a.tokens[:-1][~forced[1:]])
    none = forward(params, cfg, SOURCE, targets, teacher_forcing=0.0)
    free = greedy_decode(params, cfg, SOURCE, max_length=4)
    np.testing.assert_allclose(none.logits[:, 0], free.logits[:, 0], rtol=1e-12)


def test_bad_inputs_are_refused():
    cfg = config()
    params = init_params(cfg, 0)
    with pytest.raises(InputError, match="padding"):
        greedy_decode(params, cfg, np.array([3, 0, 4]))
    with pytest.raises(InputError):
        greedy_decode(params, cfg, np.array([3, 9]))
    with pytest.raises(InputError, match="target"):
        forward(params, cfg, SOURCE, np.array([[3, 9, 2]]).T)
    with pytest.raises(ValueError, match="missing"):
        greedy_decode({k: v for k, v in params.items() if k != "output.bias"}, cfg, SOURCE)


def test_beam_width_one_is_greedy():
    cfg = config(cell="gru", attention="dot", max_length=7)
    for seed in range(3):
        params = init_params(cfg, seed)
        greedy, beam = greedy_decode(params, cfg, SOURCE), beam_decode(params, cfg, SOURCE, width=1)
        assert [greedy.output_ids(b) for b in range(3)] == [beam.output_ids(b) for b in range(3)]


def sequence_log_prob(params, cfg, source, tokens) -> float:
    trace = forward(params, cfg, source, np.array(tokens))
    logp = activations.log_softmax(trace.logits[:, 0])
    return float(logp[np.arange(len(tokens)), tokens].sum())


def test_wide_beam_finds_the_most_likely_output():
    """With a beam wider than every prefix set, beam search is exhaustive: compare with brute force."""
    cfg = config(cell="gru", attention="general", tgt_vocab_size=5, max_length=3)  # emits END, 3 or 4
    source = SOURCE[:, 0]
    for seed in range(3):
        params = init_params(cfg, seed)
        params["output.bias"][cfg.end_id] += 1.0  # make finished and unfinished outputs compete
        candidates = [list(p) + [cfg.end_id] for n in range(3) for p in itertools.product([3, 4], repeat=n)]
        candidates += [list(p) for p in itertools.product([2, 3, 4], repeat=3) if cfg.end_id not in p]
        scores = {tuple(c): sequence_log_prob(params, cfg, source, c) for c in candidates}
        best = max(scores, key=scores.get)
        trace = beam_decode(params, cfg, source, width=9)
        for hypothesis in trace.beams[0].hypotheses:
            assert np.isfinite(hypothesis.score)
            assert not {cfg.pad_id, cfg.start_id} & set(hypothesis.tokens)
        found = trace.beams[0].best
        assert tuple(found.tokens) == best
        assert found.score == pytest.approx(scores[best], abs=1e-12)
        assert trace.output_ids(0) == list(best)


def test_beam_trace_records_candidates_and_scores():
    cfg = config(attention="additive", attention_size=3, max_length=6)
    params = init_params(cfg, 5)
    width = 3
    trace = beam_decode(params, cfg, SOURCE, width=width)
    assert trace.mode == "beam" and len(trace.beams) == 3
    for b, search in enumerate(trace.beams):
        assert search.width == width and search.steps
        assert len(search.steps[0].beams) == 1 and search.steps[0].beams[0] == []
        for step in search.steps:
            assert (np.diff(step.scores) <= 0).all()  # ranked best first
            expected = step.beam_scores[step.parents] + step.log_probs
            np.testing.assert_allclose(step.scores, expected, rtol=1e-14)
            assert (step.log_probs <= 0).all()
            assert step.fates.count("kept") <= width
            assert set(step.fates) <= {"kept", "finished", "dropped"}
            finished = [t for t, f in zip(step.tokens, step.fates, strict=True) if f == "finished"]
            assert all(t == cfg.end_id for t in finished)
        for before, after in itertools.pairwise(search.steps):
            kept = [search_step_tokens(before, i) for i, f in enumerate(before.fates) if f == "kept"]
            assert after.beams == kept
        scores = [h.score for h in search.hypotheses]
        assert scores == sorted(scores, reverse=True)
        # the traced decoder run is the chosen hypothesis, and its log-probabilities add up to the beam score
        tokens = search.best.tokens
        assert trace.output_ids(b) == tokens
        logp = activations.log_softmax(trace.logits[: len(tokens), b])
        assert logp[np.arange(len(tokens)), tokens].sum() == pytest.approx(search.best.score, abs=1e-10)


def search_step_tokens(step, i) -> list[int]:
    return step.beams[step.parents[i]] + [int(step.tokens[i])]


def test_decoder_step_frame():
    cfg = config(attention="general")
    trace = greedy_decode(init_params(cfg, 0), cfg, SOURCE, max_length=3)
    frame = trace.decoder_step(1, 2)
    assert frame["fed_token"] == trace.fed_tokens[1, 2]
    assert frame["output_token"] == trace.tokens[1, 2]
    assert frame["attention_weights"].shape == (2,)
    assert set(frame["layers"][0][0]) >= {"i", "f", "g", "o", "c", "h"}
    with pytest.raises(IndexError):
        trace.decoder_step(3)


def test_float32_follows_float64():
    cfg = config(bidirectional=True, decoder_hidden_size=4, attention="additive", attention_size=3)
    cfg32 = Seq2SeqConfig.from_dict({**cfg.to_dict(), "dtype": "float32"})
    params = init_params(cfg, 0)
    targets = np.array([[3, 4, 2], [5, 2, 0], [6, 6, 2]]).T
    wide, narrow = forward(params, cfg, SOURCE, targets), forward(params, cfg32, SOURCE, targets)
    assert narrow.logits.dtype == np.float32 and narrow.attention.weights.dtype == np.float32
    np.testing.assert_allclose(narrow.logits, wide.logits, rtol=1e-4, atol=1e-5)
    assert beam_decode(params, cfg32, SOURCE, width=2).logits.dtype == np.float32
