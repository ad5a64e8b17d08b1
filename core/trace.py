"""A Trace: everything a network computed for a batch of sequences, as preallocated (T, B, ...) arrays.

Layer k, direction d (0 forward, 1 reverse) is ``trace.layers[k][d]``, a :class:`~core.layer.LayerTrace` whose
quantities (each gate's pre-activation and activation, candidate, c_t, h_t, h_{t-1}, ...) are views of the record.
``trace.sequence(b)`` narrows to one sequence of the batch without copying; ``trace.at(t)`` gathers one timestep.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from core.config import NetworkConfig
from core.interventions import Intervention
from core.layer import LayerTrace

SHAPES = ("many_to_many", "many_to_one", "one_to_one", "one_to_many")


@dataclass
class Trace:
    config: NetworkConfig
    shape: str
    inputs: np.ndarray  # (T, B, input_size): what layer 0 reads (after one-hot / embedding)
    tokens: np.ndarray | None  # (T, B) token ids, when the input is tokens
    lengths: np.ndarray  # (B,) number of real timesteps per sequence
    layers: list[list[LayerTrace]]
    top: np.ndarray  # (T, B, D*H) the top layer's hidden state, directions concatenated
    logits: np.ndarray | None  # (T, B, O) y_t = W_hy h_t + b_y
    probs: np.ndarray | None  # (T, B, O) softmax(y_t) when the output activation is softmax
    output_mask: np.ndarray  # (T, B) True where the shape produces an output
    extra: dict[str, Any] = field(default_factory=dict)
    #: The what-if interventions (core.interventions) this run applied, in the order given.
    interventions: tuple[Intervention, ...] = ()

    @property
    def num_steps(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def batch_size(self) -> int:
        return int(self.inputs.shape[1])

    @property
    def mask(self) -> np.ndarray:
        """(T, B) True where a sequence has an element."""
        return np.arange(self.num_steps)[:, None] < self.lengths[None, :]

    @property
    def outputs(self) -> np.ndarray | None:
        """What the output layer emits: probabilities for softmax, y_t for identity."""
        return self.probs if self.probs is not None else self.logits

    def diverged_at(self) -> int | None:
        """The first timestep at which any recorded number is non-finite (a relu RNN can explode), else None."""
        if self._surely_finite():
            return None
        bad = np.zeros(self.num_steps, bool)
        for directions in self.layers:
            for lt in directions:
                for arr in lt.record.values():
                    bad |= ~np.isfinite(arr).all(axis=tuple(range(1, arr.ndim)))
        if self.logits is not None:
            bad |= ~np.isfinite(self.logits).all(axis=(1, 2))
        hits = np.flatnonzero(bad)
        return int(hits[0]) if hits.size else None

    def record_buffers(self) -> list[np.ndarray]:
        """The arrays holding every layer's record, each once: a cell's record arrays are views into one block
        (and may be views into one another, as the LSTM's act and c are into its rows)."""
        arrays = [arr for row in self.layers for lt in row for arr in lt.record.values()]
        return list({id(base): base for base in (a if a.base is None else a.base for a in arrays)}.values())

    def _surely_finite(self) -> bool:
        """True when every recorded number is finite, checked cheaply: the sum of each underlying buffer is
        finite. A sum that overflows although every term is finite only sends diverged_at the long way."""
        buffers = self.record_buffers() + ([] if self.logits is None else [self.logits])
        with np.errstate(over="ignore", invalid="ignore"):
            return all(np.isfinite(np.sum(b)) for b in buffers)

    def sequence(self, b: int) -> Trace:
        """The trace of sequence ``b`` alone (views with a batch axis of 1), trimmed to its length."""
        if not 0 <= b < self.batch_size:
            raise IndexError(f"sequence {b} out of range for a batch of {self.batch_size}")
        n = int(self.lengths[b])

        def cut(a: np.ndarray) -> np.ndarray:
            return a[:n, b : b + 1]

        def cut_optional(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else cut(a)

        layers = [
            [
                LayerTrace(
                    lt.layer,
                    lt.reverse,
                    lt.kernel,
                    lt.x[:n, b : b + 1],
                    {k: v[:n, b : b + 1] for k, v in lt.record.items()},
                    lt.h0[b : b + 1],
                    None if lt.c0 is None else lt.c0[b : b + 1],
                    None,
                    lt.edits,
                )
                for lt in directions
            ]
            for directions in self.layers
        ]
        return replace(
            self,
            inputs=cut(self.inputs),
            tokens=cut_optional(self.tokens),
            lengths=np.array([n]),
            layers=layers,
            top=cut(self.top),
            logits=cut_optional(self.logits),
            probs=cut_optional(self.probs),
            output_mask=cut(self.output_mask),
        )

    def quantity(self, layer: int, direction: int, name: str, b: int = 0) -> np.ndarray:
        """One recorded quantity of one sequence as a (T, H) array."""
        return self.layers[layer][direction].quantities()[name][:, b]

    def at(self, t: int, b: int = 0) -> dict[str, Any]:
        """Every number of timestep ``t`` of sequence ``b``, for one frame of the animation."""
        if not 0 <= t < self.num_steps:
            raise IndexError(f"timestep {t} out of range for a sequence of {self.num_steps}")
        frame: dict[str, Any] = {"t": t, "x": self.inputs[t, b]}
        if self.tokens is not None:
            frame["token"] = int(self.tokens[t, b])
        frame["layers"] = [
            [{name: arr[t, b] for name, arr in lt.quantities().items()} for lt in directions]
            for directions in self.layers
        ]
        if self.logits is not None:
            frame["y"] = self.logits[t, b]
        if self.probs is not None:
            frame["probs"] = self.probs[t, b]
        frame["has_output"] = bool(self.output_mask[t, b])
        return frame
