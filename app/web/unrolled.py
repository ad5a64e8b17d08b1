"""Geometry of the unrolled network: one column per timestep, x_t at the bottom, y_t at the top, one row per
layer and direction in between, h_{t-1} -> h_t (and c_{t-1} -> c_t for the LSTM) as arrows between columns.

Every number drawn is computed here (positions in SVG user units, fills from app.web.colors), so the template
only places elements. Each cell box shows its h_t (and c_t) as a grid of small squares, UNITS_PER_ROW per row;
a dash across a square marks a negative value so the sign does not depend on colour."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.web.colors import Scale, text_colour
from app.web.feedforward import guesses as no_loop_guesses
from app.web.simulation import TOP_GUESSES, Simulation

SQUARE = 13
GAP = 2
UNITS_PER_ROW = 8
PAD = 8
LABEL_H = 14
ARROW = 44
LEFT = 78
TOP = 22
IO_H = 26
GUESS_LINE = 17
ROW_GAP = 24


@dataclass(frozen=True)
class Square:
    x: float
    y: float
    size: float
    fill: str
    value: float
    unit: int
    title: str
    dash: tuple[float, float, float, str] | None  # (x1, x2, y, stroke) of the negative mark


@dataclass(frozen=True)
class Arrow:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str = ""
    lx: float = 0.0
    ly: float = 0.0
    carries: str = ""  # 'h' or 'c' for the state travelling from the previous step (animated on a step)


@dataclass(frozen=True)
class Guess:
    """One line of an output box: a label, its probability as text and as a bar under the line."""

    text: str
    x: float
    y: float
    bar_x: float
    bar_y: float
    bar_w: float
    bar_full: float


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    kind: str  # 'input', 'output', 'cell', 'noloop' (the feed-forward twin's guess), 'noloop differs'
    text: str = ""
    tx: float = 0.0
    ty: float = 0.0
    captions: tuple[tuple[float, float, str], ...] = ()
    squares: tuple[Square, ...] = ()
    guesses: tuple[Guess, ...] = ()  # an output box's top guesses, one line each


@dataclass
class Column:
    t: int
    x: float
    w: float
    label: str
    cx: float
    input: str = ""  # x_t as shown, for the column's accessible name
    boxes: list[Box] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)


@dataclass
class Row:
    layer: int
    direction: int
    y: float
    h: float
    label: str

    @property
    def label_y(self) -> float:
        return self.y + self.h / 2 + 4


@dataclass
class Diagram:
    width: float
    height: float
    columns: list[Column]
    rows: list[Row]
    scales: dict[str, Scale]
    title: str
    description: str
    highlight_y: float
    highlight_h: float
    label_y: float
    table_headers: list[str]
    table_rows: list[list[str]]
    io_labels: list[tuple[float, str]]  # (y, text) of the output and input rows' labels


def listing(values) -> str:
    return ", ".join(f"{float(v):.3f}" for v in values)


def grid_size(hidden: int) -> tuple[int, int, float, float]:
    """(columns, rows, width, height) of the square grid of ``hidden`` units."""
    cols = min(hidden, UNITS_PER_ROW)
    rows = math.ceil(hidden / UNITS_PER_ROW)
    return cols, rows, cols * SQUARE + (cols - 1) * GAP, rows * SQUARE + (rows - 1) * GAP


def squares(values, x0: float, y0: float, scale: Scale, name: str, t: int) -> tuple[Square, ...]:
    out = []
    for j, v in enumerate(float(v) for v in values):
        x = x0 + (j % UNITS_PER_ROW) * (SQUARE + GAP)
        y = y0 + (j // UNITS_PER_ROW) * (SQUARE + GAP)
        fill = scale.colour(v)
        dash = (x + 2, x + SQUARE - 2, y + SQUARE / 2, text_colour(fill)) if v < 0 else None
        out.append(Square(x, y, SQUARE, fill, v, j, f"{name}[{j}] at t={t}: {v:.4f}", dash))
    return tuple(out)


def all_quantity_values(sim: Simulation, name: str) -> list[float]:
    """Every value of one quantity over all layers, directions and steps (for a scale clipped to the data)."""
    return [float(v) for layer in sim.trace.layers for lt in layer for v in lt.quantities()[name].ravel()]


def row_order(sim: Simulation) -> list[tuple[int, int]]:
    """(layer, direction) from the top of the picture down: top layer first, forward above reverse."""
    cfg = sim.config
    return [(layer, d) for layer in reversed(range(cfg.num_layers)) for d in range(cfg.num_directions)]


def build(sim: Simulation, h_scale: Scale | None = None) -> Diagram:
    """The diagram of ``sim``; ``h_scale`` shares one hidden-state scale between diagrams (compare view)."""
    cfg, trace = sim.config, sim.trace
    H, T = cfg.hidden_size, sim.steps
    lstm = cfg.has_cell_state
    _, _, grid_w, grid_h = grid_size(H)
    box_w = max(grid_w + 2 * PAD, 64)
    box_h = PAD + LABEL_H + grid_h + (LABEL_H + grid_h if lstm else 0) + PAD
    pitch = box_w + ARROW
    order = row_order(sim)

    def all_values(name: str) -> list[float]:
        return all_quantity_values(sim, name)

    scales = {"h": h_scale or Scale.for_values(all_values("h"))}
    if lstm:
        scales["c"] = Scale.for_values(all_values("c"))

    twin = no_loop_guesses(sim)
    twin_y = TOP
    out_y = TOP + (IO_H + 10 if twin is not None else 0)
    out_h = TOP_GUESSES * GUESS_LINE + 8 if sim.trace.probs is not None else IO_H
    rows: list[Row] = []
    y: float = out_y + out_h + ROW_GAP
    for layer, d in order:
        arrow = " ←" if d else (" →" if cfg.bidirectional else "")
        rows.append(Row(layer, d, y, box_h, f"layer {layer + 1}{arrow}"))
        y += box_h + ROW_GAP
    in_y = y
    height = in_y + IO_H + 8
    width = LEFT + T * pitch + ARROW + 8

    columns = []
    for t in range(T):
        x0 = LEFT + t * pitch + ARROW
        cx = x0 + box_w / 2
        col = Column(t, x0 - ARROW / 2 + 2, pitch - 4, f"t={t}", cx, sim.labels[t])
        if sim.is_unknown(t):  # typed outside the vocabulary: what was typed, and the token the model read
            shown, kind = f"{sim.typed[t]}→{sim.labels[t]}", "input unknown"
        else:
            shown, kind = sim.labels[t], "input"
        col.boxes.append(Box(x0, in_y, box_w, IO_H, kind, shown, cx, in_y + IO_H / 2 + 5))
        if twin is not None:
            same = twin[t].same_as_loop
            kind, text = ("noloop", twin[t].text) if same else ("noloop differs", f"≠ {twin[t].text}")
            col.boxes.append(Box(x0, twin_y, box_w, IO_H, kind, text, cx, twin_y + IO_H / 2 + 5))
        best = sim.top_outputs(t)
        if best:
            lines = tuple(
                Guess(f"{label} {p:.0%}", x0 + 6, out_y + 13 + k * GUESS_LINE, x0 + 6, out_y + 15 + k * GUESS_LINE,
                      round(p * (box_w - 12), 1), box_w - 12)
                for k, (label, p) in enumerate(best)
            )
            col.boxes.append(Box(x0, out_y, box_w, out_h, "output", guesses=lines))
        else:
            col.boxes.append(Box(x0, out_y, box_w, out_h, "output", sim.output_label(t), cx, out_y + IO_H / 2 + 5))
        for row in rows:
            q = trace.layers[row.layer][row.direction].quantities()
            gx = x0 + (box_w - grid_w) / 2
            h_y = row.y + PAD + LABEL_H
            caps = [(x0 + PAD, h_y - 4, "h")]
            where = f" ({row.label})" if len(rows) > 1 else ""
            sq = squares(q["h"][t, 0], gx, h_y, scales["h"], f"h{where}", t)
            arrow_ys = [("h", h_y + grid_h / 2)]
            if lstm:
                c_y = h_y + grid_h + LABEL_H
                caps.append((x0 + PAD, c_y - 4, "c"))
                sq += squares(q["c"][t, 0], gx, c_y, scales["c"], f"c{where}", t)
                arrow_ys.append(("c", c_y + grid_h / 2))
            col.boxes.append(Box(x0, row.y, box_w, box_h, "cell", captions=tuple(caps), squares=sq))
            for name, ay in arrow_ys:
                if row.direction == 0:
                    x1, x2 = x0 - ARROW + 3, x0 - 3
                else:
                    x1, x2 = x0 + box_w + ARROW - 3, x0 + box_w + 3
                prev = "0" if (t == 0 and row.direction == 0) or (t == T - 1 and row.direction == 1) else ""
                col.arrows.append(Arrow(x1, ay, x2, ay, prev or name, (x1 + x2) / 2, ay - 4, name))
        # Vertical flow: input -> lowest box -> ... -> top box -> output.
        stack = [in_y] + [r.y + r.h for r in reversed(rows)]
        tops = [r.y for r in reversed(rows)] + [out_y + out_h]
        for bottom, top in zip(stack, tops, strict=True):
            col.arrows.append(Arrow(cx, bottom - 2, cx, top + 3))
        columns.append(col)

    name = {"rnn": f"vanilla RNN ({cfg.nonlinearity})", "lstm": "LSTM", "gru": "GRU"}[cfg.cell]
    layers = f"{cfg.num_layers} layer{'s' if cfg.num_layers > 1 else ''}"
    title = f"Unrolled {name}, {layers}{', bidirectional' if cfg.bidirectional else ''}, {T} timesteps"
    description = (
        f"Each column is one timestep: the input x_t at the bottom, one box per layer"
        f"{' and direction' if cfg.bidirectional else ''} showing the hidden state h_t"
        f"{' and cell state c_t' if lstm else ''} of {H} units as coloured squares, and the output"
        " y_t at the top. Arrows carry the state from one timestep to the next. The numbers are in"
        " the table below the picture."
    )
    headers = ["t", "input x_t"]
    for row in rows:
        headers.append(f"h, {row.label}")
        if lstm:
            headers.append(f"c, {row.label}")
    headers.append("output y_t")
    if twin is not None:
        headers.append("without the loop")
    table = []
    for t in range(T):
        cells = [str(t), f"{sim.typed[t]} (unknown: read as {sim.labels[t]})" if sim.is_unknown(t) else sim.labels[t]]
        for row in rows:
            q = trace.layers[row.layer][row.direction].quantities()
            cells.append(listing(q["h"][t, 0]))
            if lstm:
                cells.append(listing(q["c"][t, 0]))
        cells.append(sim.output_label(t))
        if twin is not None:
            cells.append(twin[t].text + ("" if twin[t].same_as_loop else " (differs)"))
        table.append(cells)
    output_name = "guesses" if sim.trace.probs is not None else "output y"
    io_labels = [(out_y + out_h / 2 + 4, output_name), (in_y + IO_H / 2 + 4, "input x")]
    if twin is not None:
        io_labels.append((twin_y + IO_H / 2 + 4, "no loop"))
    return Diagram(
        width,
        height,
        columns,
        rows,
        scales,
        title,
        description,
        4,
        height - 8,
        TOP - 8,
        headers,
        table,
        io_labels,
    )
