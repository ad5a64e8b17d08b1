"""The inside of one cell at one timestep: the canonical diagram for the chosen unit (app.web.cell_diagram), the
timestep's sub-steps told with its numbers (app.web.substeps), and every vector of the step for the table.

The sub-step shown comes from the URL (``s``, 1-based; none: the last, the whole step done); the page marks the
elements of earlier sub-steps as done, the current one's as being computed, later ones as still to come, and the
browser moves between sub-steps by switching those marks (static/js/sim.js), without a request."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.web import cell_diagram, substeps, weights_view
from app.web.cell_diagram import CellDiagram
from app.web.colors import GATE_SCALE, UNIT_SCALE, Scale, SequentialScale, sign_glyph
from app.web.simulation import Simulation
from app.web.substeps import SubStep
from app.web.whatif_state import FORGET, Edit, format_edit, quote_iv

GATES = {"i", "f", "o", "r", "z"}  # sigmoid outputs: the sequential 0..1 scale


@dataclass(frozen=True)
class Value:
    value: float
    text: str
    css: str
    glyph: str
    label: str


@dataclass(frozen=True)
class Vector:
    key: str
    symbol: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class CellView:
    t: int
    token: str
    where: str  # 'layer 1, left to right'
    unit: int
    cell: str
    substep: int  # the one shown, 1..len(steps)
    steps: tuple[SubStep, ...]
    diagram: CellDiagram
    vectors: tuple[Vector, ...]  # every vector of the step (inputs first), for the table
    hidden_size: int
    weights: tuple[weights_view.WeightMap, ...]
    weights_query: str  # the query of the model and layer whose weights the maps show
    whatif_href: str  # the what-if page on this step and unit, its forget gate (GRU z, RNN h) set to 0 ('': none)
    weights_path: str = "/fragment/weights.png"  # the route that draws the weight images of weights_query

    def mark(self, step: int) -> str:
        """The class of sub-step ``step``'s elements: done, being computed now, or still to come."""
        return "sub-done" if step < self.substep else ("sub-now" if step == self.substep else "sub-todo")


def vector(key: str, symbol: str, values: np.ndarray, scale: Scale | SequentialScale) -> Vector:
    return Vector(
        key,
        symbol,
        tuple(
            Value(float(v), f"{float(v):.3f}", scale.css_class(float(v)), sign_glyph(float(v)),
                  f"{symbol}[{j}] = {float(v):.6f}")
            for j, v in enumerate(values)
        ),
    )


def step_vectors(sim: Simulation) -> tuple[Vector, ...]:
    """h_{t-1} (and c_{t-1}), then every recorded quantity of the step, each on its honest scale."""
    state = sim.state
    q = sim.trace.layers[state.layer][state.dir].quantities()
    t = state.t
    order = ["h_prev", "c_prev"] + [n for n in q if n not in ("h_prev", "c_prev")]
    out = []
    for name in order:
        if name not in q:
            continue
        values = q[name][t, 0]
        if name in GATES:
            scale: Scale | SequentialScale = GATE_SCALE
        elif name in ("g", "n", "tanh_c", "h", "h_prev") and sim.config.nonlinearity != "relu":
            scale = UNIT_SCALE
        else:
            scale = Scale.for_values(q[name].ravel())
        symbol = {"h_prev": "h_{t-1}", "c_prev": "c_{t-1}", "tanh_c": "tanh(c_t)"}.get(name, f"{name}_t")
        out.append(vector(name, symbol, values, scale))
    return tuple(out)


@dataclass(frozen=True)
class Links:
    """Where a cell view's weight images and what-if link point, for a page other than the simulator's (the
    Seq2Seq page's cells have their own state in the URL)."""

    weights_path: str
    weights_query: str
    whatif_href: str = ""


def build(sim: Simulation, links: Links | None = None) -> CellView:
    state, cfg = sim.state, sim.config
    if links is None:
        links = Links("/fragment/weights.png", weights_query(sim), whatif_href(sim))
    direction = ", right to left" if state.dir else (", left to right" if cfg.bidirectional else "")
    return CellView(
        state.t,
        sim.labels[state.t],
        f"layer {state.layer + 1}{direction}",
        state.unit if state.unit is not None else 0,
        cfg.cell,
        substeps.shown_substep(sim),
        tuple(substeps.build(sim)),
        cell_diagram.build(sim),
        step_vectors(sim),
        cfg.hidden_size,
        weights_view.build(sim),
        links.weights_query,
        links.whatif_href,
        links.weights_path,
    )


def whatif_href(sim: Simulation) -> str:
    """/whatif on this model and input with "forget here" at the shown step, unit, layer and direction."""
    state = sim.state
    edit = Edit(FORGET[sim.config.cell], state.t, state.unit or 0, state.layer, state.dir, 0.0)
    rest = state.query(t=0, s=None, unit=None, layer=0, dir=0, panel="", hl="")
    return f"/whatif?{rest + '&' if rest else ''}iv={quote_iv(format_edit(edit))}"


def weights_query(sim: Simulation) -> str:
    """The query that names this model and layer (not the step): the weight images' URLs, cached across steps."""
    return sim.state.query(t=0, s=None, unit=None, panel="")
