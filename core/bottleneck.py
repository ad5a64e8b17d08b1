"""The fixed context vector's bottleneck, measured: one translation task trained with and without attention.

Both presets train the same encoder-decoder (a GRU, E = 16, H = 32: the same size, the same recipe, the same
seed and so the same minibatches in the same order); only ``attention`` differs, "dot" or "none". Without
attention the decoder's only view of the source is its first state s_0 = h_S, 32 numbers whatever the length;
with attention every decoder step also reads c_t = sum_j a_tj h_j over all S encoder states.

Accuracy by source length S, on sentences drawn afresh from the task (``by_length``), greedy decoding:

    sequence accuracy(S) = share of the sentences of S words whose whole output (END included) is right
    word accuracy(S)     = share of the target positions t (END included) where the output y_t is right

The no-attention preset is this set's counter-example: it is trained to show the failure, so its stated
target is not expected of it (tests/core/test_presets.py reads ``evidence.counter_example``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.params import Params
from core.seq2seq import model
from core.seq2seq.config import Seq2SeqConfig

TASK = "sentences"
OPTIONS: dict[str, Any] = {}
SETTINGS: dict[str, Any] = {"steps": 2500, "stop_at_target": False, "seed": 0}
#: preset name -> attention
MEMBERS = {"sentences-attention": "dot", "sentences-no-attention": "none"}
#: Source lengths are reported in these bands (inclusive), short to long.
BANDS = ((3, 6), (7, 10), (11, 14), (15, 19))


@dataclass(frozen=True)
class Band:
    lo: int
    hi: int
    sentences: int
    sequence_accuracy: float
    word_accuracy: float

    @property
    def label(self) -> str:
        return f"{self.lo}–{self.hi} words"

    def to_dict(self) -> dict[str, Any]:
        return {"lo": self.lo, "hi": self.hi, "sentences": self.sentences,
                "sequence_accuracy": round(self.sequence_accuracy, 4),
                "word_accuracy": round(self.word_accuracy, 4)}


def recipe(attention: str) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(task, task options, training settings, model changes) of one member."""
    return TASK, dict(OPTIONS), dict(SETTINGS), {"attention": attention}


def member_meta(name: str, task_title: str) -> dict[str, Any]:
    """What a member's preset metadata adds: its title and its place in the pair."""
    attention = MEMBERS[name]
    shown = "without attention" if attention == "none" else "with attention"
    return {"title": f"{task_title}: {shown}",
            "evidence": {"set": "bottleneck", "attention": attention, "counter_example": attention == "none"}}


def fresh_pairs(task: Any, seed: int, per_band: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``per_band`` (source ids, target ids) pairs of every length band, drawn from the task with ``seed``;
    sentences are drawn until each band has its share (the grammar sets the length, not the draw)."""
    rng = np.random.default_rng(seed)
    wanted = dict.fromkeys(BANDS, per_band)
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    while any(wanted.values()):
        words = task.sentence(rng)
        band = next(b for b in BANDS if b[0] <= len(words) <= b[1])
        if wanted[band]:
            wanted[band] -= 1
            pairs.append(task.pair(words))
    return pairs


#: Sentences per band the presets' metadata is measured on: a short band holds few distinct sentence shapes,
#: so 100 sentences give a no-attention score anywhere from 27% to 47%; 400 keep it within a few points.
PER_BAND = 400
SEED = 20261203


def by_length(params: Params, config: Seq2SeqConfig, task: Any, seed: int = SEED, per_band: int = PER_BAND
              ) -> list[Band]:
    """Greedy sequence and word accuracy of the model on fresh sentences, per length band."""
    pairs = fresh_pairs(task, seed, per_band)
    batch = task.make_batch(pairs, 0)
    targets = np.asarray(batch.targets)
    trace = model.greedy_decode(params, config, batch.inputs, source_lengths=batch.lengths,
                                max_length=targets.shape[0])
    right: dict[tuple[int, int], list[int]] = {band: [0, 0, 0, 0] for band in BANDS}  # seqs, n, words, n
    for b, (source, _) in enumerate(pairs):
        band = next(x for x in BANDS if x[0] <= len(source) <= x[1])
        wanted = [int(i) for i in targets[:, b] if i != config.pad_id]
        got = trace.output_ids(b)
        tally = right[band]
        tally[0] += got == wanted
        tally[1] += 1
        tally[2] += sum(1 for t, w in enumerate(wanted) if t < len(got) and got[t] == w)
        tally[3] += len(wanted)
    return [Band(lo, hi, t[1], t[0] / t[1], t[2] / t[3]) for (lo, hi), t in right.items()]


def measured(config: Seq2SeqConfig, params: Params) -> list[dict[str, Any]]:
    """:func:`by_length` of weights as a saved preset gives them back (float32), as preset metadata."""
    from core.presets import stored_params
    from core.tasks import get_task

    task = get_task(TASK, **OPTIONS)
    return [band.to_dict() for band in by_length(stored_params(params, config), config, task)]
