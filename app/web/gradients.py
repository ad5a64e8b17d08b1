"""Gradients through time: how much of the loss's gradient reaches each earlier hidden state, RNN vs LSTM vs
GRU.

The loss is a recall task read only at the last step, so every bit of gradient at an earlier step had to
travel back through the recurrence:

    text:     L = -log p_T(x_1)       (at the last step, name the first character; cross-entropy)
    numbers:  L = (y_T - x_1)^2       (at the last step, output the first number; MSE)

For each cell (same input, sizes and seed) app.service.run_gradients (core.bptt) gives dL/dh_t; the chart
plots ||dL/dh_t||_2 over t on a log scale, y = top + (log10 hi - log10 v) / (log10 hi - log10 lo) * height,
with lo and hi whole powers of ten around the data. A norm of exactly zero cannot sit on a log axis: it is
drawn on the bottom edge and listed as 0."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from app.limits import Limits
from app.schemas.requests import GradientRequest
from app.service import run_gradients
from app.web.simulation import Simulation, api_request, simulate

LEFT = 64
TOP = 16
STEP_W = 34
PLOT_H = 200
MARK = 4  # half the side of a square marker
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
    loss: float
    norms: list[float]
    points: str
    marks: list[tuple[float, float, str, float, float]]  # (x, y, title, left, top of a square mark)


@dataclass
class GradientChart:
    width: float
    height: float
    lines: list[Line]
    ticks: list[tuple[float, str]]  # (y, label) at powers of ten
    col_labels: list[tuple[float, str]]
    bottom: float
    loss_text: str


def gradient_request(sim: Simulation) -> dict:
    """The POST /api/v1/gradients body of the recall loss (the page runs exactly this through app.service)."""
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
    results = []
    for cell in ("rnn", "lstm", "gru"):
        other = simulate(replace(sim.state, cell=cell), limits=limits)
        loss, norms = recall_loss(other, limits)
        results.append((cell, loss, [float(v) for v in norms]))
    positive = [v for _, _, ns in results for v in ns if v > 0 and math.isfinite(v)]
    lo_exp = math.floor(math.log10(min(positive))) if positive else -1
    hi_exp = math.ceil(math.log10(max(positive))) if positive else 0
    hi_exp = max(hi_exp, lo_exp + 1)
    T = sim.steps

    def to_y(v: float) -> float:
        if not (v > 0 and math.isfinite(v)):
            return TOP + PLOT_H
        return TOP + (hi_exp - math.log10(v)) / (hi_exp - lo_exp) * PLOT_H

    lines = []
    for cell, loss, curve in results:
        colour, dash, marker = CELL_STYLES[cell]
        pts = [(LEFT + (t + 0.5) * STEP_W, to_y(v)) for t, v in enumerate(curve)]
        lines.append(
            Line(
                cell,
                cell_title(cell, sim.state.act),
                colour,
                dash,
                marker,
                loss,
                curve,
                " ".join(f"{x:.1f},{y:.1f}" for x, y in pts),
                [
                    (
                        x,
                        y,
                        f"{cell_title(cell, sim.state.act)}: ||dL/dh|| at t={t} is {curve[t]:.3e}",
                        x - MARK,
                        y - MARK,
                    )
                    for t, (x, y) in enumerate(pts)
                ],
            )
        )
    ticks = [(TOP + (hi_exp - e) / (hi_exp - lo_exp) * PLOT_H, f"1e{e}") for e in range(lo_exp, hi_exp + 1)]
    if sim.vocab is not None:
        loss_text = (
            f"L = −log p_T(“{sim.labels[0]}”): at the last step the network must name the first "
            "character (cross-entropy)."
        )
    else:
        loss_text = (
            f"L = (y_T − {sim.labels[0]})²: at the last step the network must output the first number (MSE)."
        )
    return GradientChart(
        LEFT + T * STEP_W + 10,
        TOP + PLOT_H + 26,
        lines,
        ticks,
        [(LEFT + (t + 0.5) * STEP_W, sim.labels[t]) for t in range(T)],
        TOP + PLOT_H,
        loss_text,
    )
