"""Gradients through time: how much of the loss's gradient reaches each earlier hidden state, RNN vs LSTM vs
GRU.

The loss is a recall task read only at the last step, so every bit of gradient at an earlier step had to
travel back through the recurrence:

    text:     L = -log p_T(x_1)       (at the last step, name the first character; cross-entropy)
    numbers:  L = (y_T - x_1)^2       (at the last step, output the first number; MSE)

For each cell (same input, sizes and seed) app.services.trace.run_gradients (core.bptt) gives dL/dh_t; the chart
plots ||dL/dh_t||_2 over t on a log scale, y = top + (log10 hi - log10 v) / (log10 hi - log10 lo) * height,
with lo and hi whole powers of ten around the data, labelled every decade or, over a wider range, every few
decades (at most MAX_TICKS labels). A norm of exactly zero cannot sit on a log axis: it is drawn on the bottom
edge and listed as 0. ``log_chart`` draws any such curves (app.web.evidence: trained models, loss curves)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from app.schemas.requests import GradientRequest
from app.services.limits import Limits
from app.services.trace import run_gradients
from app.web.simulation import Simulation, api_request, simulate

LEFT = 64
TOP = 16
STEP_W = 34
PLOT_H = 200
MARK = 4  # half the side of a square marker
RIGHT_PAD = STEP_W / 2 + 10  # from the last point to the chart's right edge
CELL_STYLES = {
    "rnn": ("#b35806", "", "circle"),
    "lstm": ("#2166ac", "7 3", "square"),
    "gru": ("#4d4d4d", "2 3", "diamond"),
}


@dataclass
class Line:
    cell: str
    title: str
    colour: str
    dash: str
    marker: str
    loss: float | None
    norms: list[float]  # the values drawn (gradient norms, or losses on a loss chart)
    points: str
    marks: list[tuple[float, float, str, float, float]]  # (x, y, title, left, top of a square mark)


@dataclass
class GradientChart:
    """Lines on a log axis: x is a timestep (or a training step), y = log10 of the value."""

    width: float
    height: float
    lines: list[Line]
    ticks: list[tuple[float, str]]  # (y, label) at powers of ten
    col_labels: list[tuple[float, str]]  # (x, label) under the plot
    bottom: float
    loss_text: str
    guides: list[tuple[float, str]] = field(default_factory=list)  # (x, what) vertical dashed lines
    rows: list[tuple[str, str]] = field(default_factory=list)  # the table's first two cells, one per point


@dataclass(frozen=True)
class Curve:
    """One cell's values to draw: its key (style), its name, its loss (None when not a gradient chart)."""

    cell: str
    title: str
    loss: float | None
    values: list[float]


MAX_TICKS = 9


def log_range(values: list[float]) -> tuple[int, int, int]:
    """(lo, hi, every): whole powers of ten around the positive finite values, and the tick spacing in
    decades that keeps at most MAX_TICKS labels (hi - lo is a multiple of it)."""
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    lo = math.floor(math.log10(min(positive))) if positive else -1
    hi = math.ceil(math.log10(max(positive))) if positive else 0
    hi = max(hi, lo + 1)
    every = math.ceil((hi - lo) / (MAX_TICKS - 1))
    return lo, lo + every * math.ceil((hi - lo) / every), every


def log_chart(
    curves: list[Curve],
    xs: list[float],
    point_names: list[str],
    value_name: str,
    col_labels: list[tuple[float, str]],
    loss_text: str = "",
    guides: list[tuple[float, str]] | None = None,
    rows: list[tuple[str, str]] | None = None,
) -> GradientChart:
    """Curves over the same points (x positions ``xs``, named e.g. 't=3') on one log axis."""
    lo_exp, hi_exp, every = log_range([v for c in curves for v in c.values])

    def to_y(v: float) -> float:
        if not (v > 0 and math.isfinite(v)):
            return TOP + PLOT_H
        return TOP + (hi_exp - math.log10(v)) / (hi_exp - lo_exp) * PLOT_H

    lines = []
    for curve in curves:
        colour, dash, marker = CELL_STYLES[curve.cell]
        pts = [(x, to_y(v)) for x, v in zip(xs, curve.values, strict=True)]
        marks = [
            (x, y, f"{curve.title}: {value_name} at {name} is {v:.3e}", x - MARK, y - MARK)
            for (x, y), name, v in zip(pts, point_names, curve.values, strict=True)
        ]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        lines.append(
            Line(curve.cell, curve.title, colour, dash, marker, curve.loss, curve.values, points, marks)
        )
    ticks = [
        (TOP + (hi_exp - e) / (hi_exp - lo_exp) * PLOT_H, f"1e{e}") for e in range(lo_exp, hi_exp + 1, every)
    ]
    return GradientChart(
        max(xs, default=LEFT) + RIGHT_PAD,
        TOP + PLOT_H + 26,
        lines,
        ticks,
        col_labels,
        TOP + PLOT_H,
        loss_text,
        guides or [],
        rows or [],
    )


def gradient_request(sim: Simulation) -> dict:
    """The POST /api/v1/gradients body of the recall loss (the page runs exactly this through app.services.trace)."""
    body = api_request(sim.state)
    if sim.vocab is not None:
        body.update(targets=[int(sim.inputs[0])], loss="cross_entropy")
    else:
        body.update(targets=[[float(sim.inputs[0, 0])]], loss="mse")
    body.update(where="last", include_jacobian=False)
    return body


def recall_loss(sim: Simulation, limits: Limits | None = None) -> tuple[float, np.ndarray]:
    """(loss, ||dL/dh_t|| over t) of the recall loss, for the layer and direction the state shows."""
    result = run_gradients(GradientRequest.model_validate(gradient_request(sim)), limits=limits)
    return result.loss, result.gradients.dh_norms(0)[sim.state.layer][sim.state.dir]


def cell_title(cell: str, act: str) -> str:
    return {"rnn": f"RNN ({act})", "lstm": "LSTM", "gru": "GRU"}[cell]


def build(sim: Simulation, limits: Limits | None = None) -> GradientChart:
    """The three cells' ||dL/dh_t|| curves, each run within the server's ``limits``."""
    curves = []
    for cell in ("rnn", "lstm", "gru"):
        other = simulate(replace(sim.state, cell=cell), limits=limits)
        loss, norms = recall_loss(other, limits)
        curves.append(Curve(cell, cell_title(cell, sim.state.act), loss, [float(v) for v in norms]))
    if sim.vocab is not None:
        loss_text = (
            f"L = −log p_T(“{sim.labels[0]}”): at the last step the network must name the first "
            "character (cross-entropy)."
        )
    else:
        loss_text = (
            f"L = (y_T − {sim.labels[0]})²: at the last step the network must output the first number (MSE)."
        )
    xs = [LEFT + (t + 0.5) * STEP_W for t in range(sim.steps)]
    labels = list(zip(xs, sim.labels, strict=True))
    return log_chart(
        curves,
        xs,
        [f"t={t}" for t in range(sim.steps)],
        "||dL/dh||",
        labels,
        loss_text,
        rows=[(str(t), label) for t, label in enumerate(sim.labels)],
    )
