"""Seq2Seq models in the training loop: the adapter core.train drives, and the common ground of Seq2Seq tasks.

A Seq2Seq :class:`~core.tasks.base.Batch` holds ``inputs`` (S, B) source ids right-padded with PAD,
``lengths`` (B,) and ``targets`` (T, B) target ids, each ending with END, then PAD. ``extra["seed"]`` seeds
the teacher-forcing coins of that batch, so a run is reproducible without any counter hidden in the adapter.

Metrics, over the non-PAD target positions (N of them) and the B sequences:

    token_accuracy    = (1/N) sum [argmax logits_t == target_t]    teacher-forced: what the loss sees
    sequence_accuracy = (1/B) sum [greedy output == target]        free-running, END included: what users see
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.params import Params
from core.seq2seq import model
from core.seq2seq.config import Seq2SeqConfig
from core.seq2seq.params import init_params
from core.tasks.base import Batch, Sample, Task, Vocab

PAD, START, END = "<pad>", "<start>", "<end>"


def token_accuracy(logits: np.ndarray, targets: np.ndarray, pad_id: int) -> float:
    counted = targets != pad_id
    return float(((logits.argmax(-1) == targets) & counted).sum()) / max(int(counted.sum()), 1)


def sequence_accuracy(params: Params, config: Seq2SeqConfig, batch: Batch) -> float:
    """Share of sequences whose greedy decoding reproduces the target exactly, END included."""
    targets = np.asarray(batch.targets)
    trace = model.greedy_decode(params, config, batch.inputs, source_lengths=batch.lengths,
                                max_length=targets.shape[0])
    right = 0
    for b in range(targets.shape[1]):
        wanted = [int(i) for i in targets[:, b] if i != config.pad_id]
        right += trace.output_ids(b) == wanted
    return right / int(targets.shape[1])


class Seq2SeqAdapter:
    """Cross-entropy under teacher forcing (ratio ``teacher_forcing``) for :mod:`core.train`."""

    def __init__(self, config: Seq2SeqConfig, teacher_forcing: float = 1.0) -> None:
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ValueError(f"teacher_forcing must be in [0, 1], got {teacher_forcing}")
        self.config, self.teacher_forcing = config, teacher_forcing

    def loss_and_gradients(self, params: Params, batch: Batch) -> tuple[float, dict[str, np.ndarray],
                                                                         dict[str, float]]:
        loss, trace, grads = model.loss_and_gradients(
            params, self.config, batch.inputs, batch.targets, source_lengths=batch.lengths,
            teacher_forcing=self.teacher_forcing, seed=int(batch.extra.get("seed", 0)))
        accuracy = token_accuracy(trace.logits, np.asarray(batch.targets), self.config.pad_id)
        return loss, grads, {"loss": loss, "token_accuracy": accuracy}

    def evaluate(self, params: Params, batch: Batch) -> dict[str, float]:
        """Loss and token accuracy under full teacher forcing, and greedy sequence accuracy."""
        loss, trace, _ = model.loss_and_gradients(params, self.config, batch.inputs, batch.targets,
                                                  source_lengths=batch.lengths)
        accuracy = token_accuracy(trace.logits, np.asarray(batch.targets), self.config.pad_id)
        return {"loss": loss, "token_accuracy": accuracy,
                "sequence_accuracy": sequence_accuracy(params, self.config, batch)}


def pad_columns(sequences: list[np.ndarray], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Sequences as the columns of a (T, B) array, right-padded; and their lengths."""
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    out = np.full((int(lengths.max()), len(sequences)), pad_id, dtype=np.int64)
    for b, s in enumerate(sequences):
        out[: len(s), b] = s
    return out, lengths


class Seq2SeqTask(Task):
    """A task whose examples are (source ids, target ids) pairs; subclasses provide pairs and vocabularies.

    ``vocab`` encodes the source (PAD = 0), ``target_vocab`` the target (PAD, START, END = 0, 1, 2).
    """

    shape = "many_to_many"
    metric = "sequence_accuracy"
    goal = "max"
    vocab: Vocab
    target_vocab: Vocab
    teacher_forcing: float = 1.0

    def adapter(self, config: Seq2SeqConfig) -> Seq2SeqAdapter:
        return Seq2SeqAdapter(config, self.teacher_forcing)

    def init_params(self, config: Seq2SeqConfig, seed: int) -> Params:
        return init_params(config, seed)

    def make_batch(self, pairs: list[tuple[np.ndarray, np.ndarray]], seed: int) -> Batch:
        end = self.target_vocab.index[END]
        assert self.vocab is not None
        inputs, lengths = pad_columns([src for src, _ in pairs], self.vocab.index[PAD])
        targets, _ = pad_columns([np.append(tgt, end) for _, tgt in pairs], self.target_vocab.index[PAD])
        return Batch(inputs, targets, lengths, extra={"seed": seed})

    def reference(self, text: str) -> str | None:
        """The target this task wants for a typed source (what teacher forcing feeds), or None when the task
        does not know it."""
        return None

    def sample(self, source_text: str, target_text: str, label: str | None = None) -> Sample:
        assert self.vocab is not None
        return Sample(label or source_text, self.vocab.encode(source_text), source_text, target_text)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(model="seq2seq", target_vocab=self.target_vocab.to_dict())
        return d
