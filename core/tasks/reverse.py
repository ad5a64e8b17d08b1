"""Sequence reversal with an encoder-decoder: read a string of letters, write it back to front.

    source  c a f e b        target  b e f a c <end>

The output has the input's length but its first token depends on the *last* input, so an encoder-decoder
without attention must squeeze the whole string into its final state (the context vector), and the longer the
string the harder that gets. With attention, decoder step t can look straight at source position S + 1 - t:
the attention matrix shows an anti-diagonal once the model has learned.

Strings are drawn uniformly: a length in [min_length, max_length], then each letter from the first ``letters``
of the alphabet.
"""

from __future__ import annotations

import string

import numpy as np

from core.seq2seq.adapter import END, PAD, START, Seq2SeqTask
from core.seq2seq.config import Seq2SeqConfig
from core.tasks.base import Batch, Sample, Vocab


class ReverseTask(Seq2SeqTask):
    name = "reverse"
    title = "Reverse a sequence"
    description = ("Encoder-decoder: read a string of letters and write it back to front. Attention "
                   "learns to look at the source from the end to the start.")
    target = 0.95
    teacher_forcing = 1.0
    default_training = {"steps": 400, "batch_size": 32, "lr": 0.005, "eval_every": 25, "eval_size": 200}

    def __init__(self, letters: int = 8, min_length: int = 3, max_length: int = 7) -> None:
        if not 2 <= letters <= 26:
            raise ValueError("letters must be between 2 and 26")
        if not 1 <= min_length <= max_length <= 30:
            raise ValueError("lengths must satisfy 1 <= min_length <= max_length <= 30")
        self.letters, self.min_length, self.max_length = letters, min_length, max_length
        alphabet = list(string.ascii_lowercase[:letters])
        self.vocab = Vocab([PAD, *alphabet], joiner="")
        self.target_vocab = Vocab([PAD, START, END, *alphabet], joiner="")

    def options(self) -> dict[str, int]:
        return {"letters": self.letters, "min_length": self.min_length, "max_length": self.max_length}

    def default_config(self) -> Seq2SeqConfig:
        return Seq2SeqConfig(cell="gru", src_vocab_size=len(self.vocab),
                             tgt_vocab_size=len(self.target_vocab),
                             embedding_size=12, hidden_size=32, attention="dot",
                             max_length=self.max_length + 1)

    def pair(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        return self.vocab.encode(text), self.target_vocab.encode(text[::-1])

    def sample_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        lengths = rng.integers(self.min_length, self.max_length + 1, batch_size)
        letters = self.vocab.tokens[1:]
        texts = ["".join(letters[int(i)] for i in rng.integers(0, self.letters, n)) for n in lengths]
        return self.make_batch([self.pair(t) for t in texts], int(rng.integers(2**31)))

    def reference(self, text: str) -> str | None:
        return text[::-1]

    def samples(self) -> list[Sample]:
        alphabet = "".join(self.vocab.tokens[1:])
        picks = [alphabet[: self.min_length], alphabet[: self.max_length][::-1],
                 (alphabet[1] + alphabet[0]) * (self.max_length // 2), alphabet[-1] * self.min_length]
        return [self.sample(text, text[::-1]) for text in picks]
