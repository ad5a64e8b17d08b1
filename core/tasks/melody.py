"""One-to-many: continue a melody from its first note alone.

Five short tunes were written for Unrolled, each opening on a different note, so the first note says which
tune to play. Training is teacher-forced next-note prediction (many-to-many, x_t = note_t, target note_{t+1});
the skill that matters is free-running generation, where the network hears only the first note and then its
own output:

    k_0 = first note,   k_{t+1} = argmax softmax(y_t)   fed back as the next input

``evaluate`` reports both: ``accuracy`` (teacher-forced) and ``generated`` (the share of notes the
free-running network gets right, over every tune). Notes are scientific pitch names, C4 = middle C.
"""

from __future__ import annotations

import numpy as np

from core.config import NetworkConfig
from core.params import Params
from core.tasks.base import Batch, NetworkAdapter, Sample, Task, Vocab, token_model_config
from core.tasks.continuation import continue_tokens

NOTES = ("C4", "D4", "E4", "F4", "G4", "A4", "B4", "C5")

TUNES = {
    "stepping stones": "E4 G4 A4 G4 E4 D4 C4 D4 E4 E4 D4 C4 D4 E4 G4 E4",
    "kite string": "C4 E4 G4 C5 B4 G4 A4 F4 D4 G4 F4 E4 D4 C4 E4 C4",
    "slow river": "G4 F4 E4 F4 G4 C5 A4 G4 F4 D4 E4 C4 D4 F4 E4 C4",
    "market day": "A4 B4 C5 A4 G4 E4 F4 G4 E4 D4 C4 D4 E4 F4 D4 C4",
    "night bells": "D4 F4 A4 F4 E4 G4 B4 G4 C5 G4 E4 C4 D4 E4 D4 C4",
}


class MelodyAdapter(NetworkAdapter):
    """Teacher-forced training; evaluation adds ``generated``, the free-running accuracy from the first
    note."""

    def __init__(self, config: NetworkConfig, tunes: np.ndarray) -> None:
        super().__init__(config, "cross_entropy")
        self.tunes = tunes  # (n_tunes, length) note ids

    def evaluate(self, params: Params, batch: Batch) -> dict[str, float]:
        metrics = super().evaluate(params, batch)
        hits = 0
        for tune in self.tunes:
            notes, _ = continue_tokens(params, self.config, tune[:1], len(tune) - 1)
            hits += int((notes == tune[1:]).sum())
        metrics["generated"] = hits / (self.tunes.shape[0] * (self.tunes.shape[1] - 1))
        return metrics


class MelodyTask(Task):
    name = "melody"
    vocab: Vocab
    title = "Continue a melody from one note"
    description = (
        "One-to-many: hear the first note of a tune and play the rest, feeding each note the network "
        "plays back in as its next input. Each of the five tunes opens on a different note."
    )
    shape = "one_to_many"
    metric = "generated"
    goal = "max"
    target = 1.0
    default_training = {"steps": 800, "batch_size": 8, "lr": 0.02, "eval_every": 25, "eval_size": 5}

    def __init__(self) -> None:
        self.vocab = Vocab(list(NOTES), joiner=" ")
        self.names = list(TUNES)
        self.tunes = np.stack([self.vocab.encode(TUNES[name]) for name in self.names])

    def default_config(self) -> NetworkConfig:
        return token_model_config(self.vocab, "lstm", 24)

    def adapter(self, config: NetworkConfig) -> MelodyAdapter:
        return MelodyAdapter(config, self.tunes)

    def batch_of(self, indices: np.ndarray) -> Batch:
        tunes = self.tunes[indices].T  # (length, B)
        return Batch(tunes[:-1], tunes[1:])

    def sample_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        return self.batch_of(rng.integers(0, len(self.tunes), batch_size))

    def eval_batch(self, rng: np.random.Generator, size: int) -> Batch:
        """Every tune once."""
        return self.batch_of(np.arange(len(self.tunes)))

    def play(
        self,
        params: Params,
        config: NetworkConfig,
        first_note: str,
        steps: int = 15,
        *,
        temperature: float = 1.0,
        sample: bool = False,
        seed: int | None = None,
    ) -> str:
        """The notes the network plays after ``first_note``."""
        notes, _ = continue_tokens(
            params,
            config,
            self.vocab.encode([first_note]),
            steps,
            temperature=temperature,
            sample=sample,
            seed=seed,
        )
        return self.vocab.decode(notes)

    def samples(self) -> list[Sample]:
        return [
            Sample(name, tune[:1], self.vocab.decode(tune[:1]), self.vocab.decode(tune[1:]))
            for name, tune in zip(self.names, self.tunes, strict=True)
        ]
