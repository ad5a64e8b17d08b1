"""Everything an encoder-decoder run computed, for one batch of source sequences.

* ``encoder``: the encoder's core :class:`~core.trace.Trace` (every layer, direction, gate, c_t, h_t).
* ``encoder_final_h`` / ``encoder_final_c``: (L, B, K) the encoder's final state per layer, directions
  concatenated.
* ``context`` / ``context_c``: (L, B, H_dec) the context vector handed to the decoder (after the bridge, if
  any): the decoder's initial state.
* ``decoder``: a core Trace of the decoder's recurrence over T steps; its ``tokens`` are the fed-back tokens
  (START first) and ``top`` is the top layer's state s_t.
* ``attention``: per-step scores, weights (the T x S attention matrix), context vectors and attentional
  states.
* ``logits`` / ``probs`` (T, B, V); ``topk_tokens`` / ``topk_probs`` (T, B, k) the k likeliest next tokens.
* ``tokens`` (T, B): the output chosen at each step (argmax, or the best beam's token); ``output_lengths``
  (B,) how many of them count (up to and including END); ``output_mask`` (T, B).
* ``beams``: one :class:`~core.seq2seq.beam.BeamSearch` per sequence when decoded by beam search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.seq2seq.attention import AttentionRecord, Memory
from core.seq2seq.config import Seq2SeqConfig
from core.trace import Trace


@dataclass
class Seq2SeqTrace:
    config: Seq2SeqConfig
    mode: str  # "teacher_forcing", "greedy" or "beam"
    source: np.ndarray  # (S, B) source token ids
    source_lengths: np.ndarray  # (B,)
    encoder: Trace
    encoder_final_h: np.ndarray
    encoder_final_c: np.ndarray | None
    context: np.ndarray
    context_c: np.ndarray | None
    decoder: Trace
    teacher_forced: np.ndarray  # (T, B) True where the fed token was the previous target token
    attention: AttentionRecord | None
    memory: Memory | None
    logits: np.ndarray
    probs: np.ndarray
    topk_tokens: np.ndarray
    topk_probs: np.ndarray
    tokens: np.ndarray
    output_lengths: np.ndarray
    targets: np.ndarray | None = None
    beams: list[Any] | None = None

    @property
    def num_steps(self) -> int:
        return int(self.logits.shape[0])

    @property
    def batch_size(self) -> int:
        return int(self.logits.shape[1])

    @property
    def fed_tokens(self) -> np.ndarray:
        """(T, B) the token each decoder step read: START, then the fed-back (or teacher-forced) tokens."""
        assert self.decoder.tokens is not None
        return self.decoder.tokens

    @property
    def output_mask(self) -> np.ndarray:
        return np.arange(self.num_steps)[:, None] < self.output_lengths[None, :]

    def output_ids(self, b: int = 0) -> list[int]:
        """The tokens sequence ``b`` produced, END included when it was produced."""
        return [int(i) for i in self.tokens[: self.output_lengths[b], b]]

    def attention_matrix(self, b: int = 0) -> np.ndarray | None:
        """(target steps, source length) attention weights of sequence ``b``; rows sum to 1."""
        if self.attention is None:
            return None
        return self.attention.weights[: self.output_lengths[b], b, : self.source_lengths[b]]

    def decoder_step(self, t: int, b: int = 0) -> dict[str, Any]:
        """Every number of decoder step ``t`` of sequence ``b``, for one frame of the animation."""
        if not 0 <= t < self.num_steps:
            raise IndexError(f"decoder step {t} out of range for {self.num_steps} steps")
        frame = self.decoder.at(t, b)
        frame.update(
            fed_token=int(self.fed_tokens[t, b]),
            teacher_forced=bool(self.teacher_forced[t, b]),
            logits=self.logits[t, b],
            probs=self.probs[t, b],
            topk_tokens=self.topk_tokens[t, b],
            topk_probs=self.topk_probs[t, b],
            output_token=int(self.tokens[t, b]),
            has_output=bool(t < self.output_lengths[b]),
        )
        if self.attention is not None:
            n = int(self.source_lengths[b])
            frame.update(
                attention_scores=self.attention.scores[t, b, :n],
                attention_weights=self.attention.weights[t, b, :n],
                attention_context=self.attention.context[t, b],
                attentional_hidden=self.attention.hidden[t, b],
            )
        return frame
