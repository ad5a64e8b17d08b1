"""Trained evidence for the syllabus's claim that gates carry memory further back than a vanilla RNN.

An evidence set is one long-dependency task trained three times, with a vanilla RNN, an LSTM and a GRU, by
the same recipe (optimizer, learning rate, clipping, batch size, step budget) from the same seed, so the
three see the same minibatches in the same order. Only the cell (and its width) differs.

The widths are chosen for similar parameter counts rather than the same hidden size. With input size I,
hidden size H and G gate blocks (1 RNN, 4 LSTM, 3 GRU) and one linear output, a network has

    P(H) = G (H I + H^2 + 2 H) + H + 1

weights: H = 32 gives the RNN P = 1185, H = 16 the LSTM 1297, H = 18 the GRU 1207 (I = 2). Matching
parameters rather than H gives the RNN twice the state width of the LSTM, so when it still fails the
failure cannot be put down to a smaller model: it is the recurrence it trains through.

The adding problem at lag 40 is long enough that the RNN stays at the predict-the-mean error (1/6) while
both gated cells solve it (bench/results/evidence.md), and short enough that a whole sequence fits the
simulator's views (at most 40 timesteps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CELLS = ("rnn", "lstm", "gru")
CELL_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


@dataclass(frozen=True)
class EvidenceSet:
    name: str
    task: str
    options: dict[str, Any]
    hidden_sizes: dict[str, int]
    settings: dict[str, Any] = field(default_factory=dict)
    curve_window: int = 50

    def preset_name(self, cell: str) -> str:
        return f"{self.name}-{cell}"

    @property
    def members(self) -> list[tuple[str, str]]:
        """(cell, preset name) in the order the views draw them."""
        return [(cell, self.preset_name(cell)) for cell in CELLS]

    def recipe(self, cell: str) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
        """(task, task options, training settings, model changes) of one member."""
        model = {"cell": cell, "hidden_size": self.hidden_sizes[cell]}
        return self.task, dict(self.options), dict(self.settings), model

    def member_meta(self, cell: str, task_title: str) -> dict[str, Any]:
        """What a member's preset metadata adds: its own title, and its place in the set. The RNN is the
        set's counter-example: it is trained to show the failure, not expected to reach the task's target."""
        lag = self.options.get("lag")
        return {
            "title": f"{task_title}{f' (lag {lag})' if lag else ''}: {CELL_NAMES[cell]}",
            "evidence": {"set": self.name, "cell": cell, "counter_example": cell == "rnn"},
        }


#: One recipe for all three cells: the task's Adam settings (lr 0.01, clip 1.0, batch 32), 3000 steps whatever
#: the held-out error (no early stop, so every member trains exactly as long), seed 0.
ADDING = EvidenceSet(
    "adding",
    "adding",
    {"lag": 40},
    {"rnn": 32, "lstm": 16, "gru": 18},
    {"steps": 3000, "stop_at_target": False, "seed": 0, "eval_every": 50, "eval_size": 512},
)

SETS: dict[str, EvidenceSet] = {ADDING.name: ADDING}
