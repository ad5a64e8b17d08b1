"""What the loop adds: the same network with its memory cut, beside the recurrent one, on the same input.

The feed-forward twin runs every timestep as a sequence of its own, h_{t-1} = 0 (and c_{t-1} = 0), so its guess
at step t sees x_t alone:

    h_t^ff = cell(x_t, 0, 0),    y_t^ff = W_hy h_t^ff + b_y

It is one call of the core with a batch of T one-step sequences, the same weights and the same output layer.
Where the two rows of guesses differ, the difference is what the recurrent state carried from earlier steps.
The rolled drawing the notes start from (one cell with its loop) is described here too, so the template only
places it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.web.simulation import Simulation, show_char
from core.network import forward


@dataclass(frozen=True)
class Guess:
    text: str  # 'e 41%' or the value of a forecast
    same_as_loop: bool  # whether the recurrent network's top guess at this step is the same


def without_loop(sim: Simulation) -> np.ndarray:
    """The feed-forward twin's outputs, (T, V) probabilities or (T, O) values."""
    inputs = np.asarray(sim.inputs)
    batch = inputs.reshape(1, -1) if inputs.ndim == 1 else inputs.reshape(1, inputs.shape[0], -1)
    trace = forward(sim.params, sim.config, batch)
    out = trace.probs if trace.probs is not None else trace.logits
    assert out is not None
    return np.asarray(out[0])


def guesses(sim: Simulation) -> tuple[Guess, ...] | None:
    """The twin's top guess at every step (None for a network without an output layer)."""
    loop = sim.trace.probs if sim.trace.probs is not None else sim.trace.logits
    if loop is None:
        return None
    twin = without_loop(sim)
    if sim.trace.probs is not None and sim.output_labels is not None:
        best = twin.argmax(axis=1)
        loop_best = loop[:, 0].argmax(axis=1)
        return tuple(
            Guess(f"{show_char(sim.output_labels[int(k)])} {twin[t, k]:.0%}", bool(k == loop_best[t]))
            for t, k in enumerate(best)
        )
    return tuple(Guess(f"{twin[t, 0]:.3g}", bool(np.isclose(twin[t, 0], loop[t, 0, 0]))) for t in range(len(twin)))


@dataclass(frozen=True)
class Rolled:
    """One cell with its loop (the RNN as the notes first draw it) and the same cell without it."""

    cell_name: str
    width: float = 420.0
    height: float = 210.0
    # Fixed geometry in SVG units: x_t enters below, y_t leaves above, h loops from the right side back in.
    box: tuple[float, float, float, float] = (60.0, 80.0, 110.0, 56.0)
    twin_box: tuple[float, float, float, float] = (270.0, 80.0, 110.0, 56.0)

    @property
    def loop_path(self) -> str:
        """h_t leaves the right side and comes back in at the bottom as h_{t-1} of the next step."""
        x, y, w, h = self.box
        return f"M{x + w:g},{y + h / 2:g} H{x + w + 28:g} V{y + h + 22:g} H{x + w * 0.8:g} V{y + h + 3:g}"

    def stem(self, box: tuple[float, float, float, float], below: bool) -> tuple[float, float, float, float]:
        x, y, w, h = box
        cx = x + w / 2
        return (cx, y + h + 40, cx, y + h + 3) if below else (cx, y - 3, cx, y - 40)
