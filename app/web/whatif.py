"""The what-if page's view-model: the run with the student's interventions beside a ghost of the original.

    original   the page's simulation (the model and input of the URL), as the other views show it
    intervened the same request with ``interventions`` (app.web.whatif_state.to_specs), run by the service
               exactly as POST /api/v1/trace runs it, so the page and the API cannot disagree

What is drawn, all geometry computed here (the template only places it):
  * a line chart per state of the chosen unit (h_t[j], and c_t[j] for an LSTM) over t: the original as a
    dashed grey ghost, the intervened run solid, the intervened step marked;
  * a bar per step of how far h moved, max_j |h'_t[j] - h_t[j]| over the chosen layer and direction;
  * the outputs per step: the original and the new top guess, changed ones marked in words and by a symbol;
  * the numbers of the current step t (the page's player moves t, and sim.js shows that step's readout):
    for each drawn state, s_t[j] in the original run, s'_t[j] in the what-if run and Δ = s'_t[j] - s_t[j],
    and the two top guesses at t.

Without ``iv`` in the URL the page opens on :func:`default_edit`: "forget everything here", the forget gate
of every unit (GRU: the update gate z, which keeps h_{t-1}; RNN: h itself) set to 0 at the step where that
changes the most top guesses, so its effect shows at once. ``iv=`` (empty) means no change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from pydantic import ValidationError

from app.errors import ApiError
from app.schemas.requests import TraceRequest
from app.services.limits import Limits
from app.services.trace import run_trace
from app.storage.models import ModelStore
from app.web.simulation import Simulation, api_request, show_char
from app.web.whatif_state import FORGET, GATES, Edit, format_iv, parse_iv, to_specs, token_text

LEFT, TOP, CELL_W, CHART_H, BAR_H = 58, 16, 30, 120, 60

GATE_TITLES = {
    "i": "input gate i",
    "f": "forget gate f",
    "g": "candidate g",
    "o": "output gate o",
    "r": "reset gate r",
    "z": "update gate z",
    "n": "candidate n",
    "h": "hidden state h",
    "c": "cell state c",
    "x": "input x",
}


@dataclass(frozen=True)
class Series:
    key: str  # 'ghost' (the original run) or 'intervened'
    title: str
    points: str  # SVG polyline points
    marks: tuple[tuple[float, float, str], ...]  # (x, y, title) per step


@dataclass(frozen=True)
class LineChart:
    key: str
    title: str
    width: float
    height: float
    series: tuple[Series, ...]
    ticks: tuple[tuple[float, str], ...]  # (y, text) on the value axis
    zero_y: float
    marker_x: float | None  # the intervened step
    marker_bottom: float
    label_y: float  # the step labels' baseline
    col_labels: tuple[tuple[float, str], ...]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    title: str


@dataclass(frozen=True)
class OutputRow:
    t: int
    input: str
    replaced: str | None  # the token read instead, where the input was replaced
    original: str
    intervened: str
    changed: bool
    moved: str  # max_j |Δh_t[j]| written out


@dataclass(frozen=True)
class StepValue:
    name: str  # e.g. 'h_5[3]'
    original: str
    intervened: str
    delta: str  # s'_t[j] - s_t[j], signed
    changed: bool


@dataclass(frozen=True)
class StepReadout:
    """What the current step's panel says at step t; the player shows one of these at a time."""

    t: int
    input: str
    replaced: str | None
    values: tuple[StepValue, ...]
    original: str  # the top guesses, as the outputs table writes them
    intervened: str
    changed: bool
    intervened_here: bool  # one of the edits is at this step


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class WhatIf:
    edits: tuple[Edit, ...]
    iv: str
    described: tuple[str, ...]
    unit: int
    layer: int
    direction: int
    charts: tuple[LineChart, ...]
    bars: tuple[Bar, ...]
    bars_width: float
    bars_height: float
    bars_max: float
    bar_width: float
    bars_label_y: float
    rows: tuple[OutputRow, ...]
    readouts: tuple[StepReadout, ...]
    changed_steps: tuple[int, ...]
    first_changed: int | None
    # The form: one edit chosen (the first), its target, unit, step and value.
    targets: tuple[Choice, ...]
    units: tuple[Choice, ...]
    steps: tuple[Choice, ...]
    tokens: tuple[Choice, ...]
    value: str
    reads_numbers: bool


def describe(edit: Edit, sim: Simulation) -> str:
    """'f_5[3] := 0 (forget gate f, unit 3) at step 5 “s”', in words a student reads aloud."""
    at = f"at step {edit.t}" + (f" “{sim.labels[edit.t]}”" if edit.t < sim.steps else "")
    where = ""
    if sim.config.num_layers > 1 or sim.config.bidirectional:
        where = f", layer {edit.layer + 1}" + (", right to left" if edit.direction else "")
    if edit.target == "x":
        return f"x_{edit.t} := “{edit.token}” (the input read instead) {at}"
    unit = "every unit" if edit.unit is None else f"unit {edit.unit}"
    index = "" if edit.unit is None else f"[{edit.unit}]"
    return f"{edit.target}_{edit.t}{index} := {edit.value:g} ({GATE_TITLES[edit.target]}, {unit}{where}) {at}"


def run_edits(
    sim: Simulation, edits: tuple[Edit, ...], store: ModelStore | None, limits: Limits
) -> tuple[Simulation | None, list[str]]:
    """The simulation with ``edits`` applied (None when there are none usable), and messages for the rest."""
    specs, errors = to_specs(edits, sim.config.input_encoding == "vector")
    if not specs:
        return None, errors
    body = {**api_request(sim.state, store), "interventions": specs}
    try:
        result = run_trace(TraceRequest.model_validate(body), store=store, limits=limits)
    except ApiError as exc:
        k = exc.loc[2] if len(exc.loc) > 2 and isinstance(exc.loc[2], int) else None
        which = f"What-if change {k + 1}" if k is not None else "The what-if changes"
        return None, [*errors, f"{which} cannot be applied: {exc.message}."]
    except ValidationError as exc:
        return None, [*errors, f"The what-if changes cannot be applied: {exc.errors()[0]['msg']}."]
    return replace(sim, trace=result.trace), errors


#: Default what-ifs already found, by model key (a page's default takes one short run per step to find).
_DEFAULTS: dict[tuple, Edit] = {}


def default_edit(sim: Simulation, store: ModelStore | None, limits: Limits) -> Edit:
    """Forget everything here: the forget gate of every unit (GRU z, RNN h) set to 0 at the step, away from
    the ends, where it changes the most top guesses (ties: the step nearest the middle)."""
    key = sim.state.model_key()
    if key in _DEFAULTS:
        return _DEFAULTS[key]
    target, middle = FORGET[sim.config.cell], sim.steps // 2
    best: tuple[tuple[int, int], Edit] | None = None
    original = sim.trace.logits
    for t in range(1, max(sim.steps - 1, 1)):
        edit = Edit(target, t, None, value=0.0)
        new, _ = run_edits(sim, (edit,), store, limits)
        if new is None or new.trace.logits is None or original is None:
            continue
        changed = int((new.trace.logits[:, 0].argmax(-1) != original[:, 0].argmax(-1)).sum())
        score = (changed, -abs(t - middle))
        if best is None or score > best[0]:
            best = (score, edit)
    found = best[1] if best is not None else Edit(target, middle, None, value=0.0)
    if len(_DEFAULTS) > 64:
        _DEFAULTS.clear()
    _DEFAULTS[key] = found
    return found


def _ticks(vmax: float, to_y) -> tuple[tuple[float, str], ...]:
    return tuple((to_y(v), f"{v:.2g}") for v in (vmax, 0.0, -vmax))


def line_chart(
    key: str, old: np.ndarray, new: np.ndarray, labels: tuple[str, ...], t_mark: int | None
) -> LineChart:
    """One unit's state over t, the original (ghost) and the intervened run on one symmetric axis."""
    T = len(old)
    finite = np.concatenate([old[np.isfinite(old)], new[np.isfinite(new)], [1e-6]])
    vmax = float(np.abs(finite).max())

    def to_y(v: float) -> float:
        return TOP + (vmax - v) / (2 * vmax) * CHART_H

    def series(name: str, title: str, values: np.ndarray) -> Series:
        # A diverged number (a relu RNN can overflow) is drawn at the edge of the axis, never as NaN.
        drawn = np.clip(np.nan_to_num(values, nan=0.0, posinf=vmax, neginf=-vmax), -vmax, vmax)
        pts = [(LEFT + (t + 0.5) * CELL_W, to_y(float(v))) for t, v in enumerate(drawn)]
        return Series(
            name,
            title,
            " ".join(f"{x:.1f},{y:.1f}" for x, y in pts),
            tuple((x, y, f"{title}, {key}_{t} = {values[t]:.4f}") for t, (x, y) in enumerate(pts)),
        )

    return LineChart(
        key,
        GATE_TITLES[key],
        LEFT + T * CELL_W + 4,
        TOP + CHART_H + 22,
        (series("ghost", "original", old), series("intervened", "what-if", new)),
        _ticks(vmax, to_y),
        to_y(0.0),
        None if t_mark is None else LEFT + (t_mark + 0.5) * CELL_W,
        TOP + CHART_H + 4,
        TOP + CHART_H + 18,
        tuple((LEFT + (t + 0.5) * CELL_W, labels[t]) for t in range(T)),
    )


def step_values(t: int, unit: int, states: dict[str, tuple[np.ndarray, np.ndarray]]) -> tuple[StepValue, ...]:
    """The drawn states of ``unit`` at step t in both runs, and how far the what-if moved them."""
    values = []
    for key, (old, new) in states.items():
        a, b = float(old[t]), float(new[t])
        values.append(StepValue(f"{key}_{t}[{unit}]", f"{a:.4f}", f"{b:.4f}", f"{b - a:+.4f}", a != b))
    return tuple(values)


def _choices(pairs, selected) -> tuple[Choice, ...]:
    return tuple(Choice(str(v), label, str(v) == str(selected)) for v, label in pairs)


def build(
    sim: Simulation, raw_iv: str | None, store: ModelStore | None, limits: Limits
) -> tuple[WhatIf, list[str]]:
    """The page for ``raw_iv`` (the URL's ``iv``; None: the default what-if) and messages for what it could
    not use (an unusable list falls back to no change: the two runs are then the same)."""
    if raw_iv is None:
        edits: tuple[Edit, ...] = (default_edit(sim, store, limits),)
        errors: list[str] = []
    else:
        edits, errors = parse_iv(raw_iv)
    new, problems = run_edits(sim, edits, store, limits) if edits else (None, [])
    errors += problems
    if new is None:
        edits, new = (), sim
    first = edits[0] if edits else Edit(FORGET[sim.config.cell], sim.steps // 2, None, value=0.0)
    layer, direction = (first.layer, first.direction) if first.target != "x" else (0, 0)
    H = sim.config.hidden_size
    old_layer, new_layer = sim.trace.layers[layer][direction], new.trace.layers[layer][direction]
    with np.errstate(invalid="ignore"):
        per_unit = np.nan_to_num(np.abs(new_layer.h[:, 0] - old_layer.h[:, 0])).sum(axis=0)
    # The unit drawn: the one changed, else the one that moved most.
    unit = first.unit if first.unit is not None and first.unit < H else int(per_unit.argmax())
    t_mark = first.t if edits else None
    states = {
        key: (
            old_layer.quantities((key,))[key][:, 0, unit].astype(float),
            new_layer.quantities((key,))[key][:, 0, unit].astype(float),
        )
        for key in (("h", "c") if sim.config.has_cell_state else ("h",))
    }
    charts = tuple(line_chart(key, old, new, sim.labels, t_mark) for key, (old, new) in states.items())
    with np.errstate(invalid="ignore"):
        moved = np.abs(new_layer.h[:, 0] - old_layer.h[:, 0]).max(axis=-1)
    moved = np.where(np.isfinite(moved), moved, 0.0)
    top = float(max(moved.max(), 1e-12))
    bars = tuple(
        Bar(
            LEFT + t * CELL_W + 4,
            TOP + BAR_H * (1 - m / top),
            BAR_H * m / top,
            f"step {t} “{sim.labels[t]}”: h moved by up to {m:.4f}",
        )
        for t, m in enumerate(moved)
    )
    rows = []
    changed = []
    for t in range(sim.steps):
        before, after = sim.output_label(t), new.output_label(t)
        is_changed = _top(sim, t) != _top(new, t)
        if is_changed:
            changed.append(t)
        replaced = new.labels[t] if new.labels[t] != sim.labels[t] else None
        rows.append(OutputRow(t, sim.labels[t], replaced, before, after, is_changed, f"{moved[t]:.3f}"))
    edited_steps = {e.t for e in edits}
    readouts = tuple(
        StepReadout(
            r.t, r.input, r.replaced, step_values(r.t, unit, states), r.original, r.intervened, r.changed,
            r.t in edited_steps,
        )
        for r in rows
    )
    differs = np.flatnonzero(moved > 0)
    targets = [(g, GATE_TITLES[g]) for g in sim.config.gates if g in GATES] + [("h", GATE_TITLES["h"])]
    if sim.config.has_cell_state:
        targets.append(("c", GATE_TITLES["c"]))
    targets.append(("x", "input token" if sim.vocab is not None else "input numbers"))
    vocab = sim.vocab or ()
    token_value = first.token if first.target == "x" else ""
    return (
        WhatIf(
            edits,
            format_iv(edits),
            tuple(describe(e, sim) for e in edits),
            unit,
            layer,
            direction,
            charts,
            bars,
            LEFT + sim.steps * CELL_W + 4,
            TOP + BAR_H + 22,
            top,
            CELL_W - 8,
            TOP + BAR_H + 18,
            tuple(rows),
            readouts,
            tuple(changed),
            int(differs[0]) if differs.size else None,
            _choices(targets, first.target),
            _choices(((j, f"unit {j}") for j in range(H)), "all" if first.unit is None else first.unit),
            _choices(((t, f"{t} “{label}”") for t, label in enumerate(sim.labels)), first.t),
            _choices(((token_text(v, k), show_char(v)) for k, v in enumerate(vocab)), token_value),
            "" if first.value is None else f"{first.value:g}",
            sim.vocab is None,
        ),
        errors,
    )


def _top(sim: Simulation, t: int) -> int | str | None:
    """The top guess at step t (a linear output: its value as the page writes it)."""
    if sim.trace.logits is None:
        return None
    if sim.trace.probs is None:
        return sim.output_label(t)
    y = sim.trace.logits[t, 0]
    return int(y.argmax()) if np.isfinite(y).all() else None
