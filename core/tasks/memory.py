"""Long-term dependencies: the adding problem and copy-memory, with an adjustable lag.

Adding problem (many-to-one regression). Each step reads two numbers (u_t, m_t): u_t ~ U(0, 1) and a marker
m_t that is 1 at exactly two steps, one in the first half of the sequence and one in the second, and 0
elsewhere. After the last of T = lag steps the network must output

    y = sum_t m_t u_t        (the sum of the two marked values; MSE loss)

Always answering 1 scores MSE = Var(u_a + u_b) = 1/6; a model that beats that has carried the first marked
value across up to ``lag`` steps.

Copy memory (many-to-many classification). The first K steps show symbols s_1..s_K from an alphabet of A, then
``lag`` blank steps follow, the last of them replaced by a GO marker, and K more blank steps during which the
network must output s_1..s_K. Each symbol is recalled K + lag steps after it was shown. Only the recall steps
are scored; guessing scores 1/A.

A vanilla RNN's dL/dh_t shrinks (or blows up) geometrically with the distance to the loss, so as the lag grows
it stops learning these tasks within a fixed budget, while the LSTM's additive cell state (and the GRU's
update gate) let the error signal through.
"""

from __future__ import annotations

import numpy as np

from core.config import NetworkConfig
from core.tasks.base import Batch, NetworkAdapter, Sample, Task, Vocab, token_model_config


class AddingTask(Task):
    name = "adding"
    title = "The adding problem"
    description = (
        "Long-term dependency, many-to-one: add the two numbers whose marker is 1. One marker is in the "
        "first half of the sequence, so the network must remember a value for up to `lag` steps."
    )
    shape = "many_to_one"
    metric = "mse"
    goal = "min"
    target = 0.01
    default_training = {
        "steps": 1500,
        "batch_size": 32,
        "lr": 0.01,
        "eval_every": 50,
        "eval_size": 256,
        "clip_norm": 1.0,
    }

    def __init__(self, lag: int = 10) -> None:
        if lag < 2:
            raise ValueError("the adding problem needs a lag of at least 2 steps")
        self.lag = lag

    def options(self) -> dict[str, int]:
        return {"lag": self.lag}

    def default_config(self) -> NetworkConfig:
        return NetworkConfig(cell="lstm", input_size=2, hidden_size=16, output_size=1)

    def adapter(self, config: NetworkConfig) -> NetworkAdapter:
        return NetworkAdapter(config, "mse", where="last", shape="many_to_one")

    def sample_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        T, half = self.lag, self.lag // 2
        values = rng.uniform(0.0, 1.0, (T, batch_size))
        first = rng.integers(0, half, batch_size)
        second = rng.integers(half, T, batch_size)
        markers = np.zeros((T, batch_size))
        cols = np.arange(batch_size)
        markers[first, cols] = 1.0
        markers[second, cols] = 1.0
        targets = np.zeros((T, batch_size, 1))
        targets[-1, :, 0] = (values * markers).sum(0)
        return Batch(np.stack([values, markers], -1), targets)

    def samples(self) -> list[Sample]:
        batch = self.sample_batch(np.random.default_rng(3), 3)
        return [
            Sample(f"sum = {batch.targets[-1, b, 0]:.3f}", batch.inputs[:, b], target=batch.targets[-1, b, 0])
            for b in range(3)
        ]


BLANK, GO = "_", ">"


class CopyMemoryTask(Task):
    name = "copy"
    vocab: Vocab
    title = "Copy memory"
    description = (
        "Long-term dependency, many-to-many: remember K symbols, wait through `lag` blank steps, and "
        "repeat the symbols after the GO marker (>). Only the recall steps are scored."
    )
    shape = "many_to_many"
    metric = "accuracy"
    goal = "max"
    target = 0.98
    default_training = {
        "steps": 2000,
        "batch_size": 32,
        "lr": 0.02,
        "eval_every": 50,
        "eval_size": 256,
        "clip_norm": 1.0,
    }

    def __init__(self, lag: int = 10, symbols: int = 3, alphabet: int = 4) -> None:
        if lag < 1 or symbols < 1 or not 2 <= alphabet <= 26:
            raise ValueError("copy memory needs lag >= 1, symbols >= 1 and an alphabet of 2 to 26 letters")
        self.lag, self.symbols, self.alphabet = lag, symbols, alphabet
        self.vocab = Vocab([BLANK, *"abcdefghijklmnopqrstuvwxyz"[:alphabet], GO])

    def options(self) -> dict[str, int]:
        return {"lag": self.lag, "symbols": self.symbols, "alphabet": self.alphabet}

    @property
    def length(self) -> int:
        return 2 * self.symbols + self.lag

    def default_config(self) -> NetworkConfig:
        return token_model_config(self.vocab, "lstm", 24)

    def adapter(self, config: NetworkConfig) -> NetworkAdapter:
        return NetworkAdapter(config, "cross_entropy")

    def sample_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        K, recall = self.symbols, self.symbols + self.lag
        shown = rng.integers(1, self.alphabet + 1, (K, batch_size))
        inputs = np.zeros((self.length, batch_size), dtype=np.int64)  # blanks
        inputs[:K] = shown
        inputs[recall - 1] = self.vocab.index[GO]
        targets = np.zeros_like(inputs)
        targets[recall:] = shown
        weights = np.zeros(inputs.shape, dtype=bool)
        weights[recall:] = True
        return Batch(inputs, targets, weights=weights)

    def samples(self) -> list[Sample]:
        batch = self.sample_batch(np.random.default_rng(5), 3)
        return [
            Sample(
                self.vocab.decode(batch.inputs[: self.symbols, b]),
                batch.inputs[:, b],
                self.vocab.decode(batch.inputs[:, b]),
                self.vocab.decode(batch.targets[-self.symbols :, b]),
            )
            for b in range(3)
        ]
