"""Geometry of the unrolled network: one column per timestep, x_t at the bottom, y_t at the top, one row per
layer and direction in between, h_{t-1} -> h_t (and c_{t-1} -> c_t for the LSTM) as arrows between columns.

Every number drawn is computed here (positions in SVG user units, fills from app.web.colors), so the template
only places elements. Each cell box shows its h_t (and c_t) as a grid of small squares, UNITS_PER_ROW per row;
a dash across a square marks a negative value so the sign does not depend on colour.

A grid is drawn as one path per colour bin (and one per dash ink), not one element per unit: the default page
draws about 2,800 squares, and one element with its own title each made the page ten times the size of
everything else on it. A square's exact value is in the numbers table, which the page reads out on hover."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.web.colors import Scale, text_colour
from app.web.feedforward import guesses as no_loop_guesses
from app.web.simulation import TOP_GUESSES, Simulation
from app.web.unit_window import UnitWindow

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


PITCH = SQUARE + GAP


def num(v: float) -> str:
    """A coordinate as short as SVG reads it: 12, 12.5 (never 12.0 or 12.500000001)."""
    return f"{round(v, 2):g}"


@dataclass(frozen=True)
class Grid:
    """One state vector (h_t or c_t of one row at one step) as squares, unit j at row j // 8, column j % 8.

    ``fills`` holds one (colour, path) per colour bin in use; ``dashes`` one (ink, path) per ink of the negative
    marks. ``column`` is the index of the numbers-table cell (in its row t) that lists these values."""

    quantity: str
    name: str  # as the readout names a unit: "h (layer 2 ←)"
    where: str  # "layer:direction", as the cell view's layer picker writes it
    x: float  # top-left corner of the first unit drawn
    y: float
    values: tuple[float, ...]
    title: str
    column: int
    fills: tuple[tuple[str, str], ...]
    dashes: tuple[tuple[str, str], ...]
    first: int = 0  # the unit number of values[0]: a wide model is drawn a page of units at a time

    square = SQUARE
    pitch = PITCH
    per_row = UNITS_PER_ROW

    def corner(self, j: int) -> tuple[float, float]:
        return unit_corner(self.x, self.y, j)

    @property
    def listing(self) -> str:
        """Every value by name, for a picture without the numbers table (a downloaded slide)."""
        return "; ".join(f"{self.name}[{self.first + j}] = {v:.4f}" for j, v in enumerate(self.values))

    def mark(self, unit: int | None) -> tuple[float, float] | None:
        """Where the outline of the chosen unit goes, or None when no unit (or none drawn here) is chosen."""
        if unit is None or not 0 <= unit - self.first < len(self.values):
            return None
        return self.corner(unit - self.first)


def unit_corner(x0: float, y0: float, j: int) -> tuple[float, float]:
    """Top-left corner of unit j's square in a grid whose unit 0 is at (x0, y0)."""
    return x0 + (j % UNITS_PER_ROW) * PITCH, y0 + (j // UNITS_PER_ROW) * PITCH


def grid(
    values, x0: float, y0: float, scale: Scale, quantity: str, row: Row, named: bool, t: int, first: int = 0
) -> Grid:
    """The squares of ``values`` (units ``first`` on); ``named`` adds the row's label to the names (pictures with
    several rows)."""
    vals = tuple(float(v) for v in values)
    name = f"{quantity} ({row.label})" if named else quantity
    column = row.table_column + (1 if quantity == "c" else 0)
    # Each path starts at its first square and moves on relative to the previous one (after "z" the pen is back
    # at that square's corner), so a path is mostly the same few characters: "m15 0h13v13h-13z".
    fills: dict[str, list[str]] = {}
    last: dict[str, tuple[float, float]] = {}
    dashes: dict[str, list[str]] = {}
    for j, v in enumerate(vals):
        x, y = unit_corner(x0, y0, j)
        fill = scale.colour(v)
        if fill in last:
            px, py = last[fill]
            move = f"m{num(x - px)} {num(y - py)}"
        else:
            move = f"M{num(x)} {num(y)}"
        last[fill] = (x, y)
        fills.setdefault(fill, []).append(f"{move}h{SQUARE}v{SQUARE}h-{SQUARE}z")
        if v < 0:
            dashes.setdefault(text_colour(fill), []).append(f"M{num(x + 2)} {num(y + SQUARE / 2)}h{SQUARE - 4}")
    finite = [v for v in vals if math.isfinite(v)]
    span = f" from {min(finite):.3f} to {max(finite):.3f}" if finite else ""
    units = f"{len(vals)} units" if first == 0 else f"units {first}–{first + len(vals) - 1}"
    return Grid(
        quantity,
        name,
        f"{row.layer}:{row.direction}",
        x0,
        y0,
        vals,
        f"{name} at t={t}: {units}{span}",
        column,
        tuple((f, "".join(d)) for f, d in fills.items()),
        tuple((ink, "".join(d)) for ink, d in dashes.items()),
        first,
    )


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
    grids: tuple[Grid, ...] = ()  # a cell box's h_t (and c_t)
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
    table_column: int  # the numbers table's cell (in row t: th t, td input, then each row's h [and c]) of its h

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
    units: UnitWindow  # the units of each state vector drawn (all, or one page of a wide model)


def listing(values) -> str:
    return ", ".join(f"{float(v):.3f}" for v in values)


def grid_size(hidden: int) -> tuple[int, int, float, float]:
    """(columns, rows, width, height) of the square grid of ``hidden`` units."""
    cols = min(hidden, UNITS_PER_ROW)
    rows = math.ceil(hidden / UNITS_PER_ROW)
    return cols, rows, cols * SQUARE + (cols - 1) * GAP, rows * SQUARE + (rows - 1) * GAP


def all_quantity_values(sim: Simulation, name: str) -> list[float]:
    """Every value of one quantity over all layers, directions and steps (for a scale clipped to the data)."""
    return [float(v) for layer in sim.trace.layers for lt in layer for v in lt.quantities()[name].ravel()]


def row_order(sim: Simulation) -> list[tuple[int, int]]:
    """(layer, direction) from the top of the picture down: top layer first, forward above reverse."""
    cfg = sim.config
    return [(layer, d) for layer in reversed(range(cfg.num_layers)) for d in range(cfg.num_directions)]


def build(sim: Simulation, h_scale: Scale | None = None, units: UnitWindow | None = None) -> Diagram:
    """The diagram of ``sim``; ``h_scale`` shares one hidden-state scale between diagrams (compare view);
    ``units`` the units drawn (default: the page of them the view state asks for)."""
    cfg, trace = sim.config, sim.trace
    H, T = cfg.hidden_size, sim.steps
    window = units or sim.units
    drawn = slice(window.first, window.stop)
    lstm = cfg.has_cell_state
    _, _, grid_w, grid_h = grid_size(window.count)
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
        rows.append(Row(layer, d, y, box_h, f"layer {layer + 1}{arrow}", 2 + len(rows) * (2 if lstm else 1)))
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
            named = len(rows) > 1
            grids = [grid(q["h"][t, 0, drawn], gx, h_y, scales["h"], "h", row, named, t, window.first)]
            arrow_ys = [("h", h_y + grid_h / 2)]
            if lstm:
                c_y = h_y + grid_h + LABEL_H
                caps.append((x0 + PAD, c_y - 4, "c"))
                grids.append(grid(q["c"][t, 0, drawn], gx, c_y, scales["c"], "c", row, named, t, window.first))
                arrow_ys.append(("c", c_y + grid_h / 2))
            col.boxes.append(Box(x0, row.y, box_w, box_h, "cell", captions=tuple(caps), grids=tuple(grids)))
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
        f"{' and cell state c_t' if lstm else ''} of {H} units as coloured squares"
        f"{f' ({window.caption} drawn)' if window.paged else ''}, and the output"
        " y_t at the top. Arrows carry the state from one timestep to the next. The numbers are in"
        " the table below the picture."
    )
    headers = ["t", "input x_t"]
    shown = f", {window.caption}" if window.paged else ""
    for row in rows:
        headers.append(f"h, {row.label}{shown}")
        if lstm:
            headers.append(f"c, {row.label}{shown}")
    headers.append("output y_t")
    if twin is not None:
        headers.append("without the loop")
    table = []
    for t in range(T):
        cells = [str(t), f"{sim.typed[t]} (unknown: read as {sim.labels[t]})" if sim.is_unknown(t) else sim.labels[t]]
        for row in rows:
            q = trace.layers[row.layer][row.direction].quantities()
            cells.append(listing(q["h"][t, 0, drawn]))
            if lstm:
                cells.append(listing(q["c"][t, 0, drawn]))
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
        window,
    )
