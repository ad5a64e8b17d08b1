"""Run a shipped, trained network preset (core.presets) on one of its task's ready-made samples, as a
``Simulation`` the simulator's own view-models (app.web.unrolled, app.web.cellview) can draw.

The untrained simulator shows what the equations do; a lesson about sentiment, the adding problem or a
forecast needs weights that have learnt the task, so these states come from presets instead of a seed:

    many-to-one   sentiment, adding:  p = softmax(W_hy h_T + b_y) or y = W_hy h_T + b_y, read at the last step
    many-to-many  sine:               y_t = W_hy h_t + b_y at every step (the next value of the series)
    one-to-one    points:             a single step; W_hh multiplies h_0 = 0, so the RNN is feed-forward
    one-to-many   melody:             x_{t+1} = the note emitted at t (core.generate with feedback='output')
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from app.web.simulation import Simulation
from app.web.state import ViewState
from core import presets
from core.config import NetworkConfig
from core.generate import generate
from core.network import forward
from core.tasks import get_task
from core.tasks.points import LABELS as POINT_LABELS
from core.tasks.sentiment import LABELS as SENTIMENT_LABELS

#: Names of the output units of the classifiers (the other presets name outputs by their vocabulary).
CLASS_NAMES = {"sentiment": SENTIMENT_LABELS, "points": POINT_LABELS}
NO_OUTPUT = "·"  # a step whose output the task does not read


class PresetError(LookupError):
    """No such network preset or sample; the message is shown on the page."""


@dataclass(frozen=True)
class TrainedRun(Simulation):
    """A Simulation of a preset: a many-to-one model's output is shown only where it is read."""

    preset: str = ""
    title: str = ""
    description: str = ""
    sample: int = 0
    sample_label: str = ""
    target: str = ""

    def output_label(self, t: int) -> str:
        if self.trace.shape == "many_to_one" and t != self.steps - 1:
            return NO_OUTPUT
        if self.trace.probs is not None and self.output_labels is not None:
            p = self.trace.probs[t, 0]
            k = int(np.argmax(p))
            return f"{self.output_labels[k]} {p[k]:.0%}"
        assert self.trace.logits is not None
        return f"{self.trace.logits[t, 0, 0]:.3g}"


def sample_name(sample) -> str:
    """How a task sample is named on the page: its text when that says more than its label (a sentiment
    phrase rather than just "positive"), else its label."""
    return sample.text if len(sample.text) > len(sample.label) else sample.label


@lru_cache(maxsize=32)
def sample_names(name: str) -> tuple[str, ...]:
    """The names of the ready-made samples of preset ``name``'s task."""
    meta = presets.load_preset(name).meta
    return tuple(sample_name(s) for s in get_task(meta["task"], **meta["task_options"]).samples())


def network_presets() -> list[str]:
    return [m["name"] for m in presets.list_presets() if m["kind"] == "network"]


def input_label(values: np.ndarray, vocab: tuple[str, ...] | None) -> str:
    """One step's input as text: its token, or its numbers (the adding problem's marker shown as ✓)."""
    if vocab is not None:
        return vocab[int(values)]
    row = np.atleast_1d(values)
    if row.shape[0] == 2 and row[1] in (0.0, 1.0):
        return f"{row[0]:.2f}{' ✓' if row[1] == 1.0 else ''}"
    return ", ".join(f"{v:.2f}" for v in row)


@lru_cache(maxsize=32)
def run_preset(name: str, sample: int) -> TrainedRun:
    """The preset ``name`` run on its task's sample number ``sample``, starting at step 0."""
    if name not in network_presets():
        raise PresetError(f"There is no trained network called “{name}”.")
    preset = presets.load_preset(name)
    config: NetworkConfig = preset.config
    meta = preset.meta
    task = get_task(meta["task"], **meta["task_options"])
    samples = task.samples()
    if not 0 <= sample < len(samples):
        raise PresetError(f"The “{name}” model has samples 0 to {len(samples) - 1}, not {sample}.")
    chosen = samples[sample]
    vocab_meta = meta.get("vocab")
    vocab = tuple(vocab_meta["tokens"]) if isinstance(vocab_meta, dict) else None
    if meta["shape"] == "one_to_many":
        steps = len(str(chosen.target).split()) + 1
        trace = generate(preset.params, config, int(chosen.inputs[0]), steps)
        fed = trace.tokens[:, 0] if trace.tokens is not None else trace.inputs[:, 0]
    else:
        trace = forward(preset.params, config, chosen.inputs, shape=meta["shape"])
        fed = chosen.inputs
    labels = tuple(input_label(v, vocab) for v in fed)
    names = CLASS_NAMES.get(name) or (
        vocab if vocab is not None and len(vocab) == config.output_size else None
    )
    target = (
        chosen.target
        if isinstance(chosen.target, str)
        else (f"{float(np.ravel(chosen.target)[-1]):.3f}" if chosen.target is not None else "")
    )
    state = ViewState(
        cell=config.cell,
        act=config.nonlinearity,
        hidden=config.hidden_size,
        layers=config.num_layers,
        bi=config.bidirectional,
    )
    return TrainedRun(
        state=state,
        config=config,
        params=preset.params,
        trace=trace,
        labels=labels,
        vocab=None,
        inputs=np.asarray(fed),
        output_labels=names,
        preset=name,
        title=meta.get("title", name),
        description=meta.get("description", ""),
        sample=sample,
        sample_label=sample_name(chosen),
        target=target,
    )


def at_step(run: TrainedRun, t: int, unit: int | None = None) -> TrainedRun:
    """The same run with the timestep (clamped into the sequence) and selected unit of a URL."""
    t = max(0, min(t, run.steps - 1))
    unit = unit if unit is not None and 0 <= unit < run.config.hidden_size else None
    return replace(run, state=replace(run.state, t=t, unit=unit))
