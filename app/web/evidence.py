"""Trained evidence on the gradients and compare views: an evidence set's RNN, LSTM and GRU (core.evidence,
trained by one recipe from one seed) read the same sequence of their task, drawn from the view's seed.

Three pictures, each a view-model the templates only place (no arithmetic in templates):

* the gradient through time of the task's own loss, L = (y_T - s)^2 with s the true sum, as ||dL/dh_t|| over
  t on a log axis (core.bptt, via app.web.gradients.log_chart);
* the influence row, ||dy_T/dx_t|| over t for each model (core.influence, exact by BPTT): how far back the
  output looks. Each row is a strip of bars, one per step, with height and colour both on the same log
  scale shared by the three rows,

      u_t = clip((log10 v_t - lo) / (hi - lo), 0, 1),   bar height = u_t * ROW_H,   colour = sequential(u_t)

  with lo and hi whole powers of ten around the values (at most MAX_DECADES apart; smaller values are drawn
  at the floor and listed as they are);
* the training loss curves kept in the presets' metadata, mean minibatch loss against the training step,
  x = LEFT + step / last step * LOSS_W, on a log axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from app.lessons.trained import TrainedRun, input_label
from app.web.colors import SequentialScale
from app.web.gradients import LEFT, RIGHT_PAD, Curve, GradientChart, log_chart
from app.web.state import ViewState
from core import presets
from core.bptt import loss_and_gradients
from core.evidence import CELL_NAMES, SETS, EvidenceSet
from core.influence import influence_norms
from core.network import forward
from core.tasks import get_task

MAX_DECADES = 12
ROW_H = 36
ROW_GAP = 10
ROW_TOP = 8
STEP = 24  # px per timestep: a whole 40-step sequence fits a laptop screen
BAR_W = STEP - 6
LOSS_W = 600
LOSS_TICK = 500  # training steps between the loss chart's x labels


@dataclass(frozen=True)
class Member:
    """One trained model of the set on the shown sequence."""

    cell: str
    title: str
    run: TrainedRun  # a Simulation, so the simulator's own view-models (app.web.unrolled) draw it
    output: float  # y_T
    loss: float  # (y_T - s)^2
    grad_norms: list[float]  # ||dL/dh_t||
    influence: list[float]  # ||dy_T/dx_t||
    meta: dict


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    fill: str
    title: str


@dataclass(frozen=True)
class InfluenceRow:
    cell: str
    title: str
    label_y: float
    base_y: float  # the strip's floor line
    bars: list[Bar]
    values: list[float]


@dataclass(frozen=True)
class InfluenceView:
    width: float
    height: float
    rows: list[InfluenceRow]
    col_labels: list[tuple[float, str]]
    guides: list[tuple[float, str]]
    legend: list[tuple[str, str]]  # (css class of the colour, label) from the floor to the top of the scale
    lo_exp: int
    hi_exp: int
    table_rows: list[tuple[str, str]]


@dataclass(frozen=True)
class Evidence:
    name: str
    title: str
    seed: int
    target: float
    marked: list[int]  # the steps whose marker is 1
    members: list[Member]
    gradients: GradientChart
    influence: InfluenceView
    losses: GradientChart
    recipe: str

    @property
    def runs(self) -> list[TrainedRun]:
        return [m.run for m in self.members]

    @property
    def summary(self) -> str:
        return f"{self.title}: RNN, LSTM and GRU trained by one recipe, sequence {self.seed}"


def sequence(evidence: EvidenceSet, seed: int) -> tuple[np.ndarray, float]:
    """The task's sequence number ``seed``: inputs (T, I) and the target the last step must output."""
    task = get_task(evidence.task, **evidence.options)
    batch = task.sample_batch(np.random.default_rng(seed), 1)
    return batch.inputs[:, 0], float(batch.targets[-1, 0, 0])


def member(cell: str, name: str, x: np.ndarray, target: float, seed: int) -> Member:
    preset = presets.load_preset(name)
    config, meta = preset.config, preset.meta
    targets = np.zeros((x.shape[0], 1, 1))
    targets[-1, 0, 0] = target
    loss, _, grads = loss_and_gradients(
        preset.params, config, x, targets, loss="mse", where="last", shape=meta["shape"]
    )
    trace = forward(preset.params, config, x, shape=meta["shape"])
    assert trace.logits is not None
    labels = tuple(input_label(v, None) for v in x)
    state = ViewState(cell=cell, hidden=config.hidden_size, seed=seed)
    run = TrainedRun(
        state=state,
        config=config,
        params=preset.params,
        trace=trace,
        labels=labels,
        vocab=None,
        inputs=x,
        preset=name,
        title=meta.get("title", name),
        description=meta.get("description", ""),
        sample=seed,
        sample_label=f"sequence {seed}",
        target=f"{target:.3f}",
    )
    return Member(
        cell,
        CELL_NAMES[cell],
        run,
        float(trace.logits[-1, 0, 0]),
        float(loss),
        [float(v) for v in grads.dh_norms(0)[0][0]],
        [float(v) for v in influence_norms(preset.params, config, x, shape=meta["shape"])],
        meta,
    )


def step_x(t: int) -> float:
    return LEFT + (t + 0.5) * STEP


def step_labels(labels: tuple[str, ...], marked: list[int]) -> list[tuple[float, str]]:
    """Under the plot: every fifth step's number and every marked step's ✓ (a full label per step would
    overlap at this width; the table lists them all)."""
    return [
        (step_x(t), "✓" if t in marked else str(t)) for t in range(len(labels)) if t in marked or t % 5 == 0
    ]


def influence_view(members: list[Member], labels: tuple[str, ...], marked: list[int]) -> InfluenceView:
    values = [v for m in members for v in m.influence]
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    hi = math.ceil(math.log10(max(positive))) if positive else 0
    lo = max(math.floor(math.log10(min(positive))) if positive else hi - 1, hi - MAX_DECADES)
    lo = min(lo, hi - 1)
    scale = SequentialScale(float(lo), float(hi))
    rows = []
    for k, m in enumerate(members):
        top = ROW_TOP + k * (ROW_H + ROW_GAP)
        base = top + ROW_H
        bars = []
        for t, v in enumerate(m.influence):
            log_v = math.log10(v) if v > 0 and math.isfinite(v) else float(lo)
            u = min(1.0, max(0.0, (log_v - lo) / (hi - lo)))
            h = max(u * ROW_H, 1.0)  # a floor value still shows as a sliver
            bars.append(
                Bar(
                    step_x(t) - BAR_W / 2,
                    base - h,
                    BAR_W,
                    h,
                    scale.colour(log_v),
                    f"{m.title}: ||dy_T/dx_t|| at t={t} ({labels[t]}) is {v:.3e}",
                )
            )
        rows.append(InfluenceRow(m.cell, m.title, top + ROW_H / 2 + 4, base, bars, m.influence))
    height = ROW_TOP + len(members) * (ROW_H + ROW_GAP) + 16
    swatches = scale.legend()
    ends = {0: f"≤ 1e{lo}", len(swatches) - 1: f"1e{hi}"}
    legend = [(sw["css"], ends.get(k, "")) for k, sw in enumerate(swatches)]
    return InfluenceView(
        step_x(len(labels) - 1) + RIGHT_PAD,
        height,
        rows,
        step_labels(labels, marked),
        [(step_x(t), "marked") for t in marked],
        legend,
        lo,
        hi,
        [(str(t), label) for t, label in enumerate(labels)],
    )


def loss_chart(members: list[Member]) -> GradientChart:
    """The training loss curves of the three presets on one log axis (the steps are the same recipe's)."""
    curve = members[0].meta["curve"]
    steps = curve["steps"]
    last = steps[-1]
    xs = [LEFT + s / last * LOSS_W for s in steps]
    curves = [Curve(m.cell, m.title, None, list(m.meta["curve"]["loss"])) for m in members]
    ticks = [(LEFT + s / last * LOSS_W, str(s)) for s in range(0, last + 1, LOSS_TICK)]
    return log_chart(
        curves,
        xs,
        [f"step {s}" for s in steps],
        "training loss",
        ticks,
        f"Mean minibatch loss over each {curve['window']} training steps.",
        rows=[(str(s), "") for s in steps],
    )


def recipe_text(meta: dict) -> str:
    s = meta["settings"]
    return (
        f"{s['steps']} {s['optimizer'].capitalize()} steps, batch {s['batch_size']}, learning rate {s['lr']}, "
        f"gradient clipping at {s['clip_norm']}, seed {s['seed']}"
    )


def stamp(evidence: EvidenceSet) -> tuple:
    """The presets' file times: retrained presets are re-read."""
    return tuple((presets.PRESETS_DIR / f"{name}.npz").stat().st_mtime_ns for _, name in evidence.members)


def build(name: str, seed: int) -> Evidence:
    """The evidence set ``name`` on its task's sequence number ``seed``. KeyError for a set whose presets
    are not installed."""
    evidence = SETS[name]
    try:
        return _build(name, seed, stamp(evidence))
    except FileNotFoundError:
        raise KeyError(f"the presets of the evidence set {name!r} are not installed") from None


@lru_cache(maxsize=32)
def _build(name: str, seed: int, _stamp: tuple) -> Evidence:
    evidence = SETS[name]
    x, target = sequence(evidence, seed)
    marked = [int(t) for t in np.flatnonzero(x[:, 1] == 1.0)] if x.shape[1] == 2 else []
    members = [member(cell, preset, x, target, seed) for cell, preset in evidence.members]
    labels = members[0].run.labels
    xs = [step_x(t) for t in range(len(labels))]
    gradients = log_chart(
        [Curve(m.cell, m.title, m.loss, m.grad_norms) for m in members],
        xs,
        [f"t={t}" for t in range(len(labels))],
        "||dL/dh||",
        step_labels(labels, marked),
        f"L = (y_T − {target:.3f})²: at the last step the network must output the sum of the two marked "
        "numbers (MSE).",
        guides=[(step_x(t), "marked") for t in marked],
        rows=[(str(t), label) for t, label in enumerate(labels)],
    )
    lag = evidence.options.get("lag")
    title = get_task(evidence.task, **evidence.options).title
    return Evidence(
        name,
        f"{title} (lag {lag})" if lag else title,
        seed,
        target,
        marked,
        members,
        gradients,
        influence_view(members, labels, marked),
        loss_chart(members),
        recipe_text(members[0].meta),
    )
