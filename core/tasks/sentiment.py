"""Many-to-one: read a short phrase word by word and say, after the last word, whether it is positive or
negative.

The phrases were written for Unrolled. Many pairs share most of their words and differ in one or two ("look
for rainbows" / "look for trouble"), so a model cannot score well by counting words that only ever appear on
one side; it has to carry what it read through the sequence to the last step, where the only output is read:

    p(class | w_1..w_T) = softmax(W_hy h_T + b_y)

Phrases are padded to a common length in a batch; ``lengths`` tells the network where each one really ends.

Typed phrases are read in lower case, and a word the phrases never use is read as ``<unk>``. So that
``<unk>`` means "some word" rather than an untrained embedding, training batches replace each word by it
with probability UNK_RATE (word dropout); the held-out set is read as written.
"""

from __future__ import annotations

import re

import numpy as np

from core.config import NetworkConfig
from core.tasks.base import Batch, NetworkAdapter, Sample, Task, Vocab

POSITIVE = (
    "When it rains, look for rainbows.",
    "When it's dark, look for stars.",
    "The bread was warm and the soup was good.",
    "We laughed all the way home.",
    "She finally found her keys.",
    "The garden is full of flowers.",
    "That was a kind thing to do.",
    "The train was right on time.",
    "He fixed the bike in ten minutes.",
    "What a bright and lovely morning.",
    "The test was easier than I feared.",
    "Our team won the last game.",
    "The little dog wagged its tail.",
    "I slept well and woke up happy.",
    "The new song is really good.",
    "They helped us carry the boxes.",
    "The sun came out after lunch.",
    "My sister sent me a funny letter.",
    "The room smells of fresh coffee.",
    "It is not bad at all.",
    "The lesson was clear and fun.",
    "We found a quiet place to read.",
    "The cake turned out perfect.",
    "Everyone came to the party.",
)

NEGATIVE = (
    "When it rains, look for trouble.",
    "When it's dark, fear the night.",
    "The bread was cold and the soup was bad.",
    "We argued all the way home.",
    "She lost her keys again.",
    "The garden is full of weeds.",
    "That was a cruel thing to do.",
    "The train was late again.",
    "He broke the bike in ten minutes.",
    "What a grey and gloomy morning.",
    "The test was harder than I feared.",
    "Our team lost the last game.",
    "The little dog bit my hand.",
    "I slept badly and woke up tired.",
    "The new song is really bad.",
    "They left us to carry the boxes.",
    "The rain came back after lunch.",
    "My sister sent me an angry letter.",
    "The room smells of old smoke.",
    "It is not good at all.",
    "The lesson was dull and long.",
    "We could not find a quiet place.",
    "The cake turned out burnt.",
    "Nobody came to the party.",
)

LABELS = ("negative", "positive")
PAD = "<pad>"
UNK = "<unk>"
UNK_RATE = 0.1


def words(phrase: str) -> list[str]:
    """Lower-case words, with commas and full stops as tokens of their own ("it's" stays one word)."""
    return re.findall(r"[a-z']+|[.,!?]", phrase.lower())


class SentimentTask(Task):
    name = "sentiment"
    vocab: Vocab
    title = "Sentiment of short phrases"
    description = (
        "Many-to-one: read a phrase word by word; after the last word, say whether it is positive or "
        "negative. Pairs of phrases differ in only one or two words."
    )
    shape = "many_to_one"
    metric = "accuracy"
    goal = "max"
    target = 1.0
    output_labels = LABELS
    default_training = {"steps": 300, "batch_size": 16, "lr": 0.02, "eval_every": 20, "eval_size": 48}

    def __init__(self) -> None:
        self.phrases = [(p, 1) for p in POSITIVE] + [(p, 0) for p in NEGATIVE]
        tokens = sorted({w for phrase, _ in self.phrases for w in words(phrase)})
        self.vocab = Vocab([PAD, UNK, *tokens], joiner=" ", fold_case=True, unknown=UNK)
        self.encoded = [self.vocab.encode(words(p)) for p, _ in self.phrases]
        self.labels = np.array([label for _, label in self.phrases], dtype=np.int64)

    def default_config(self) -> NetworkConfig:
        return NetworkConfig(
            cell="lstm",
            input_size=12,
            hidden_size=20,
            output_size=2,
            output_activation="softmax",
            input_encoding="embedding",
            vocab_size=len(self.vocab),
        )

    def adapter(self, config: NetworkConfig) -> NetworkAdapter:
        return NetworkAdapter(config, "cross_entropy", where="last", shape="many_to_one")

    def batch_of(self, indices: np.ndarray) -> Batch:
        seqs = [self.encoded[i] for i in indices]
        lengths = np.array([len(s) for s in seqs], dtype=np.int64)
        inputs = np.zeros((int(lengths.max()), len(seqs)), dtype=np.int64)  # padded with <pad> = 0
        for b, s in enumerate(seqs):
            inputs[: len(s), b] = s
        targets = np.zeros_like(inputs)
        targets[lengths - 1, np.arange(len(seqs))] = self.labels[indices]
        return Batch(inputs, targets, lengths)

    def sample_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        batch = self.batch_of(rng.integers(0, len(self.phrases), batch_size))
        dropped = (rng.random(batch.inputs.shape) < UNK_RATE) & (batch.inputs != self.vocab.index[PAD])
        batch.inputs[dropped] = self.vocab.index[UNK]
        return batch

    def eval_batch(self, rng: np.random.Generator, size: int) -> Batch:
        """Every phrase once: the set is small enough to measure exactly."""
        return self.batch_of(np.arange(len(self.phrases)))

    def samples(self) -> list[Sample]:
        picks = [0, 1, len(POSITIVE), len(POSITIVE) + 19, 19]
        return [
            Sample(LABELS[self.labels[i]], self.encoded[i], self.phrases[i][0], LABELS[self.labels[i]])
            for i in picks
        ]
