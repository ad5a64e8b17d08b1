"""Beam search: keep the ``width`` likeliest partial outputs instead of only the single likeliest token.

A hypothesis y_1..y_n scores the sum of its log-probabilities, score = sum_t log p(y_t | y_<t, source) (no
length normalisation). At each step every live hypothesis is extended by every token:

    candidate(parent, w) = score(parent) + log softmax(logits_t(parent))[w]

(PAD and START excluded, as in greedy decoding, so width 1 is greedy decoding). The candidates are ranked best
first; walking down the ranking, a candidate ending in END becomes a finished hypothesis, any other is kept as
a live beam until ``width`` beams are kept; the rest are dropped. Only the best 2 * width candidates can
matter (each parent has a single END extension, so they always hold ``width`` non-END ones), and those are
what the trace records per step, with their fate.

Search stops when ``width`` hypotheses have finished, when the best finished score is at least the best live
score (log-probabilities are <= 0, so no live beam can still overtake it), or after ``max_length`` steps; the
live beams left then join the result as unfinished. Each source sequence is searched on its own, its beams
forming the batch of the decoder step. The returned trace re-runs the decoder along the best hypothesis, so
every gate, state and attention weight shown belongs to the output actually chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core import activations
from core.params import Params
from core.seq2seq import decoder
from core.seq2seq.attention import Memory
from core.seq2seq.config import Seq2SeqConfig
from core.seq2seq.model import as_batch, encode, forward, output_step, padded_lengths, prepared
from core.seq2seq.params import side
from core.seq2seq.trace import Seq2SeqTrace

FATES = ("kept", "finished", "dropped")


@dataclass
class BeamStep:
    """One step of the search: the live beams going in and the ranked candidate extensions coming out."""

    beams: list[list[int]]  # the live hypotheses' tokens so far (START left out)
    beam_scores: np.ndarray  # (n,) their scores
    parents: np.ndarray  # (m,) index into ``beams`` of each candidate, best candidate first
    tokens: np.ndarray  # (m,) the token each candidate appends
    log_probs: np.ndarray  # (m,) log p(token | parent) at this step
    scores: np.ndarray  # (m,) parent score + log_prob
    fates: list[str]  # (m,) one of FATES


@dataclass
class Hypothesis:
    tokens: list[int]  # END included when finished
    score: float
    finished: bool


@dataclass
class BeamSearch:
    width: int
    steps: list[BeamStep]
    hypotheses: list[Hypothesis]  # best first

    @property
    def best(self) -> Hypothesis:
        return self.hypotheses[0]


def _repeat_memory(memory: Memory | None, rows: np.ndarray) -> Memory | None:
    if memory is None:
        return None
    return Memory(memory.keys[:, rows], memory.mask[:, rows], memory.projected[:, rows])


def search(params: Params, config: Seq2SeqConfig, source: np.ndarray, width: int, max_length: int
           ) -> BeamSearch:
    """Beam search for one source sequence (S,) of real tokens; ``params`` already checked and cast."""
    encoded = encode(params, config, source, None)
    dec_params, dec_config = side(params, "decoder"), config.decoder_config()
    state = decoder.initial_state(encoded.h0, encoded.c0)
    live = [Hypothesis([], 0.0, False)]
    finished: list[Hypothesis] = []
    steps: list[BeamStep] = []
    V = config.tgt_vocab_size
    for _ in range(max_length):
        n = len(live)
        fed = np.array([h.tokens[-1] if h.tokens else config.start_id for h in live], np.int64)
        run = decoder.start(dec_params, dec_config, 1, n)
        state = decoder.step(run, 0, fed, state)
        memory = _repeat_memory(encoded.memory, np.zeros(n, np.int64))
        logits, _ = output_step(params, config, memory, state[-1][0])
        log_probs = activations.log_softmax(logits)
        beam_scores = np.array([h.score for h in live])
        totals = beam_scores[:, None] + log_probs
        totals[:, [config.pad_id, config.start_id]] = -np.inf  # input-only tokens, as in greedy decoding
        totals = totals.reshape(-1)
        ranked = np.argsort(-totals, kind="stable")[: 2 * width]
        ranked = ranked[np.isfinite(totals[ranked])]  # a small vocabulary may offer fewer real candidates
        parents, tokens = np.divmod(ranked, V)
        fates: list[str] = []
        kept: list[int] = []
        next_live: list[Hypothesis] = []
        for p, w, total in zip(parents, tokens, totals[ranked], strict=True):
            extended = Hypothesis(live[p].tokens + [int(w)], float(total), False)
            if len(next_live) == width:
                fates.append("dropped")
            elif w == config.end_id:
                finished.append(replace(extended, finished=True))
                fates.append("finished")
            else:
                next_live.append(extended)
                kept.append(p)
                fates.append("kept")
        steps.append(BeamStep([h.tokens for h in live], beam_scores, parents, tokens,
                              log_probs[parents, tokens], totals[ranked], fates))
        rows = np.array(kept, np.int64)
        state = [(h[rows], None if c is None else c[rows]) for h, c in state]
        live = next_live
        best_finished = max((h.score for h in finished), default=-np.inf)
        if len(finished) >= width or not live or best_finished >= max(h.score for h in live):
            break
    ranked_all = sorted(finished + live, key=lambda h: -h.score)
    return BeamSearch(width, steps, ranked_all)


def beam_decode(params: Params, config: Seq2SeqConfig, source: np.ndarray, *, width: int = 3,
                source_lengths: np.ndarray | None = None, max_length: int | None = None,
                top_k: int = 5) -> Seq2SeqTrace:
    """Beam search every source sequence, then trace the decoder along each best hypothesis."""
    if width < 1:
        raise ValueError("beam width must be at least 1")
    cap = config.max_length if max_length is None else max_length
    if cap < 1:
        raise ValueError("max_length must be at least 1")
    params = prepared(params, config)
    src = as_batch(source, "source")
    if source_lengths is None:
        lens = padded_lengths(src, config.pad_id, "source")
    else:
        lens = np.asarray(source_lengths, dtype=np.int64).reshape(-1)
    searches = [search(params, config, src[: lens[b], b], width, cap) for b in range(src.shape[1])]
    T = max(len(s.best.tokens) for s in searches)
    chosen = np.full((T, len(searches)), config.pad_id, np.int64)
    for b, s in enumerate(searches):
        chosen[: len(s.best.tokens), b] = s.best.tokens
    trace = forward(params, config, src, chosen, source_lengths=lens, teacher_forcing=1.0, top_k=top_k)
    return replace(trace, mode="beam", tokens=chosen, targets=None, beams=searches,
                   teacher_forced=np.zeros_like(trace.teacher_forced))
