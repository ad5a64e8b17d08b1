"""Heatmaps over time (units down, timesteps across, input tokens labelling the time axis) and the line of one
selected unit across time.

Sigmoid gates are drawn on the sequential scale 0..1 (white: closed, dark purple: open), whatever this input's
range; signed quantities (h, c, candidates, sums) on a diverging scale symmetric around 0 and clipped to their
data. The legend beside each heatmap gives its range. The line chart maps value v at step t to

    x = LEFT + (t + 0.5) * CELL_W,    y = top + (vmax - v) / (2 vmax) * plot_h

on a symmetric axis [-vmax, vmax] so zero sits in the middle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.web.colors import GATE_SCALE, Scale, SequentialScale, text_colour
from app.web.simulation import Simulation

CELL_W = 22
CELL_H = 14
LEFT = 58
TOP = 20
CHART_H = 160

TITLES = {
    "h": "Hidden state h_t",
    "c": "Cell state c_t",
    "i": "Input gate i_t",
    "f": "Forget gate f_t",
    "g": "Candidate g_t",
    "o": "Output gate o_t",
    "r": "Reset gate r_t",
    "z": "Update gate z_t",
    "n": "Candidate n_t",
    "pre": "Pre-activation (weighted sum)",
}
ORDER = {"lstm": ("h", "c", "f", "i", "g", "o"), "gru": ("h", "z", "r", "n"), "rnn": ("h", "pre")}
GATES = frozenset("ifozr")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4")
MARKERS = ("circle", "square", "diamond", "triangle", "circle", "square")


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    fill: str
    title: str
    dash: tuple[float, float, float, str] | None


@dataclass
class Heatmap:
    key: str
    title: str
    width: float
    height: float
    columns: list[tuple[int, float, list[Cell]]]  # (t, x, cells of that step)
    row_labels: list[tuple[int, float]]  # (unit, y)
    col_labels: list[tuple[float, str]]
    scale: Scale | SequentialScale
    values: np.ndarray  # (T, units drawn) for the data table
    first: int = 0  # the unit number of values' first column (a wide model is drawn a page at a time)
    cell_w: float = CELL_W
    cell_h: float = CELL_H

    @property
    def cursor_y(self) -> float:
        return TOP - 2

    @property
    def cursor_h(self) -> float:
        return self.values.shape[1] * CELL_H + 4

    @property
    def label_y(self) -> float:
        return self.height - 4


@dataclass
class Series:
    key: str
    title: str
    points: str  # SVG polyline points
    dash: str
    marks: list[tuple[float, float, str]]  # (x, y, title)
    marker: str


@dataclass
class UnitChart:
    unit: int
    width: float
    height: float
    series: list[Series]
    vmax: float
    zero_y: float
    top_y: float
    bottom_y: float
    col_labels: list[tuple[float, str]]


def heatmap(key: str, values: np.ndarray, labels: tuple[str, ...], first: int = 0) -> Heatmap:
    """values (T, units) of units ``first`` on -> a grid of CELL_W x CELL_H cells, one column per timestep."""
    T, H = values.shape
    scale: Scale | SequentialScale = GATE_SCALE if key in GATES else Scale.for_values(values.ravel())
    columns: list[tuple[int, float, list[Cell]]] = []
    for t in range(T):
        x = LEFT + t * CELL_W
        cells = []
        for j in range(H):
            v = float(values[t, j])
            y = TOP + j * CELL_H
            fill = scale.colour(v)
            dash = (x + 6, x + CELL_W - 6, y + CELL_H / 2, text_colour(fill)) if v < 0 else None
            cells.append(Cell(x, y, fill, f"{key}[{first + j}] at t={t} ({labels[t]}): {v:.4f}", dash))
        columns.append((t, x, cells))
    return Heatmap(
        key,
        TITLES[key],
        LEFT + T * CELL_W + 4,
        TOP + H * CELL_H + 22,
        columns,
        [(first + j, TOP + j * CELL_H + CELL_H / 2 + 4) for j in range(H)],
        [(LEFT + (t + 0.5) * CELL_W, labels[t]) for t in range(T)],
        scale,
        values,
        first,
    )


def heatmaps(sim: Simulation) -> list[Heatmap]:
    q = sim.trace.layers[sim.state.layer][sim.state.dir].quantities()
    w = sim.units
    return [heatmap(key, q[key][:, 0, w.first : w.stop], sim.labels, w.first) for key in ORDER[sim.config.cell]]


def unit_chart(sim: Simulation, unit: int) -> UnitChart:
    """Every quantity of one unit as a line over time, on one symmetric axis."""
    q = sim.trace.layers[sim.state.layer][sim.state.dir].quantities()
    keys = ORDER[sim.config.cell]
    T = sim.steps
    data = {k: q[k][:, 0, unit].astype(float) for k in keys}
    vmax = Scale.for_values(np.concatenate(list(data.values()))).vmax
    top, plot_h = TOP, CHART_H
    zero_y = top + plot_h / 2

    def to_y(v: float) -> float:
        return top + (vmax - v) / (2 * vmax) * plot_h

    series = []
    for n, k in enumerate(keys):
        pts = [(LEFT + (t + 0.5) * CELL_W, to_y(float(v))) for t, v in enumerate(data[k])]
        series.append(
            Series(
                k,
                TITLES[k],
                " ".join(f"{x:.1f},{y:.1f}" for x, y in pts),
                DASHES[n % len(DASHES)],
                [(x, y, f"{k}[{unit}] at t={t}: {data[k][t]:.4f}") for t, (x, y) in enumerate(pts)],
                MARKERS[n % len(MARKERS)],
            )
        )
    return UnitChart(
        unit,
        LEFT + T * CELL_W + 4,
        top + plot_h + 24,
        series,
        vmax,
        zero_y,
        top,
        top + plot_h,
        [(LEFT + (t + 0.5) * CELL_W, sim.labels[t]) for t in range(T)],
    )
