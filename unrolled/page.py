"""A trace as one standalone HTML file: the simulator's own picture of the unrolled network (app.web.unrolled's
view-model drawn by the pages' SVG macro), its colour legends, every number of each step, and a step slider.

Everything the page needs is inside it (the pictures' stylesheet and a few lines of script inline), so it opens
from disk with no server and no network: on a laptop offline, or attached to a notebook's output.
"""

from __future__ import annotations

import os
import tempfile
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.trace import Trace

if TYPE_CHECKING:
    from app.web.simulation import Simulation

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CELL_TITLES = {"rnn": "vanilla RNN", "lstm": "LSTM", "gru": "GRU"}
DIRECTION_NAMES = ("forward", "reverse")


@dataclass(frozen=True)
class Block:
    """One layer and direction's numbers at one step: a row per quantity, a column per unit."""

    caption: str
    units: range
    rows: list[tuple[str, list[str]]]


@dataclass(frozen=True)
class StepTable:
    t: int
    input: str
    blocks: list[Block]


def number(v: float) -> str:
    return f"{float(v):.4g}"


def simulation(trace: Trace, t: int) -> Simulation:
    """The view-model input the pages draw from (app.web.simulation.Simulation), for one-sequence ``trace``."""
    from app.web.simulation import Simulation, show_char
    from app.web.state import ViewState

    model = getattr(trace, "model", None)
    vocab = getattr(model, "vocab", None)
    output_labels = getattr(model, "output_labels", None)
    if trace.tokens is not None:
        inputs = trace.tokens[:, 0]
        labels = tuple(show_char(vocab[int(k)]) if vocab else str(int(k)) for k in inputs)
    else:
        inputs = trace.inputs[:, 0]
        # three significant digits keep a column's label inside its box; every digit is in the tables
        labels = tuple(", ".join(f"{float(x):.3g}" for x in row) for row in inputs)
    return Simulation(
        ViewState(preset="", t=t),
        trace.config,
        model.params if model is not None else {},
        trace,
        labels,
        tuple(vocab) if vocab else None,
        inputs,
        tuple(output_labels) if output_labels else None,
        labels,
        (False,) * len(labels),
    )


def step_tables(trace: Trace, labels: tuple[str, ...]) -> list[StepTable]:
    tables = []
    for t in range(trace.num_steps):
        frame = trace.at(t)
        blocks = []
        for k, row in enumerate(frame["layers"]):
            for d, quantities in enumerate(row):
                width = trace.config.hidden_size
                # the picture counts layers from 1; the index is the one to read the trace with
                where = f"layer {k + 1}" + (f", {DIRECTION_NAMES[d]}" if trace.config.bidirectional else "")
                where += f" (trace.layers[{k}][{d}])"
                rows = [(name, [number(v) for v in values]) for name, values in quantities.items()]
                blocks.append(Block(where, range(width), rows))
        out: list[tuple[str, list[str]]] = [
            (name, [number(v) for v in frame[name]]) for name in ("y", "probs") if name in frame
        ]
        if out:
            width = trace.config.output_size or 0
            blocks.append(Block("output layer" + ("" if frame["has_output"] else " (not read at this step)"),
                                range(width), out))
        tables.append(StepTable(t, labels[t], blocks))
    return tables


def render(trace: Trace, t: int = 0) -> str:
    """The page's HTML for a one-sequence trace at step ``t``. ValueError for a trace too large to draw."""
    import jinja2

    from app.web import slides, unrolled
    from app.web.math_text import FILTERS
    from app.web.simulation import check_drawable
    from app.web.state import BadInputError
    from app.web.unit_window import whole

    if trace.batch_size != 1:
        raise ValueError(f"a page shows one sequence; this trace holds {trace.batch_size}: pick one with b=")
    if not 0 <= t < trace.num_steps:
        raise ValueError(f"t={t} is outside the sequence's {trace.num_steps} steps")
    try:
        check_drawable(trace.config, trace.num_steps, units=trace.config.hidden_size)  # a file has no pager
    except BadInputError as exc:
        raise ValueError(f"{exc} From Python: trace.to_csv() or trace.to_npz().") from None
    sim = simulation(trace, t)
    diagram = unrolled.build(sim, units=whole(trace.config.hidden_size))
    scales = [("hidden state h", diagram.scales["h"])]
    if "c" in diagram.scales:
        scales.append(("cell state c", diagram.scales["c"]))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([HERE / "templates", ROOT / "templates"]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(FILTERS)
    page = _page_context(trace, sim, t, slides.legend_strips(scales, 0.0), slides.picture_css())
    return env.get_template("standalone.html").render(page=page, diagram=diagram, state=sim.state)


def _page_context(trace: Trace, sim: Simulation, t: int, legends: Any, css: str) -> dict[str, Any]:
    cfg = trace.config
    name = CELL_TITLES[cfg.cell] + (f" ({cfg.nonlinearity})" if cfg.cell == "rnn" else "")
    layers = f"{cfg.num_layers} layer{'s' if cfg.num_layers > 1 else ''}"
    source = getattr(getattr(trace, "model", None), "source", {}) or {}
    origin = ", ".join(str(v) if not isinstance(v, list) else " + ".join(map(str, v)) for v in source.values())
    line = f"{layers}{', bidirectional' if cfg.bidirectional else ''}, hidden size {cfg.hidden_size}"
    if cfg.output_size is not None:
        line += f", output size {cfg.output_size} ({cfg.output_activation})"
    return {
        "title": f"Unrolled {name} over {trace.num_steps} steps",
        "model_line": line + (f"; weights from {origin}" if origin else ""),
        "steps": trace.num_steps,
        "t": t,
        "lstm": cfg.has_cell_state,
        "legends": legends,
        "css": css,
        "step_tables": step_tables(trace, sim.labels),
    }


def show(trace: Trace, *, t: int = 0, path: str | os.PathLike[str] | None = None, open_browser: bool = True,
         b: int | None = None) -> Path:
    """Write the page of ``trace`` (sequence ``b`` of a batch) to ``path`` (a new temporary .html file when
    None), open it in the default browser unless ``open_browser`` is False, and return its path."""
    if b is not None:
        trace = trace.sequence(b)
    elif trace.batch_size != 1:
        raise ValueError(f"this trace holds a batch of {trace.batch_size} sequences: pick one with b=")
    html = render(trace, t)
    if path is None:
        handle, name = tempfile.mkstemp(prefix="unrolled-", suffix=".html")
        os.close(handle)
        target = Path(name)
    else:
        target = Path(path)
    target.write_text(html, encoding="utf-8")
    if open_browser:
        webbrowser.open(target.resolve().as_uri())
    return target

