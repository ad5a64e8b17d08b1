"""The canonical drawing of one cell at one timestep, for one chosen unit j: geometry, values and colours.

The layout follows the drawings the lecture notes use. LSTM: the cell state runs as a line across the top, where
it is multiplied by the forget gate and gets i ⊙ g added; the previous hidden state and the input join at the
bottom left into one bus [h_{t-1}, x_t] that feeds four blocks (σ, σ, tanh, σ); the output gate scales tanh(c_t)
into h_t at the bottom right. GRU: the hidden state runs across the top and is blended with the candidate,
h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}, where PyTorch's candidate is n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).
Vanilla RNN: two weighted sums are added and squashed, h_t = act(W_ih x + b_ih + W_hh h + b_hh), and the
output layer reads h_t.

Every element carries the sub-step that computes it (``step``; 0 for what the timestep is given), so the
template can mark what is done, being computed now, or still to come, and the value it shows. Gates and
probabilities are coloured on the sequential 0..1 scale, tanh outputs on the fixed diverging -1..1 scale, and
unbounded quantities (cell states, sums) on a diverging scale clipped to the whole trace; a negative value is
also drawn dashed, so the sign never depends on colour. Nothing here is HTML: the template only places it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.web.colors import BLANK, GATE_SCALE, UNIT_SCALE, Scale, SequentialScale, text_colour
from app.web.simulation import Simulation, show_char

AnyScale = Scale | SequentialScale
NEUTRAL = "#6b6b6b"  # a wire that carries a whole vector (the bus), not one unit's number
NODE_R = 13.0
JOINT_R = 6.0  # where h_{t-1} and x_t meet and run on together as one bus
BLOCK_W, BLOCK_H = 60.0, 44.0


@dataclass(frozen=True)
class Wire:
    """A connection drawn as a polyline; it carries the value of the element it leaves."""

    key: str
    points: tuple[tuple[float, float], ...]
    step: int
    value: float | None
    colour: str
    title: str

    @property
    def path(self) -> str:
        head, *rest = self.points
        return f"M{head[0]:g},{head[1]:g}" + "".join(f" L{x:g},{y:g}" for x, y in rest)

    @property
    def negative(self) -> bool:
        return self.value is not None and self.value < 0


@dataclass(frozen=True)
class Op:
    """A block (σ, tanh, a weighted sum), a pointwise node (×, +, 1−) or a port (an input or output of the step)."""

    key: str
    kind: str  # 'block', 'sum', 'node', 'joint', 'port'
    symbol: str  # what is written on it: 'σ', 'tanh', '×', '+', '1−', 'h_{t-1}'
    name: str  # what it is, in words: 'forget gate f'
    cx: float
    cy: float
    w: float
    h: float
    step: int
    value: float | None
    scale: AnyScale | None
    value_dx: float = 0.0  # where the value is written, relative to the centre (nodes write it beside)
    value_dy: float = 0.0
    formula: str = ""  # how the value came about, e.g. 'σ(−0.092)'

    @property
    def fill(self) -> str:
        if self.kind == "port" or self.value is None or self.scale is None:
            return "#ffffff"
        return self.scale.colour(self.value)

    @property
    def ink(self) -> str:
        return text_colour(self.fill) if self.fill.startswith("#") and self.fill != BLANK else "#000000"

    @property
    def value_text(self) -> str:
        return "" if self.value is None else f"{self.value:.3f}".replace("-", "−")

    @property
    def label(self) -> str:
        """What a screen reader says, and a hover shows: name, how it was computed, its value."""
        if self.value is None:
            return self.name
        how = f" = {self.formula}" if self.formula else ""
        return f"{self.name}{how} = {self.value_text}"

    @property
    def x(self) -> float:
        return self.cx - self.w / 2

    @property
    def y(self) -> float:
        return self.cy - self.h / 2

    @property
    def value_x(self) -> float:
        return self.cx + self.value_dx

    @property
    def value_y(self) -> float:
        return self.cy + self.value_dy


@dataclass(frozen=True)
class CellDiagram:
    cell: str
    t: int
    unit: int
    width: float
    height: float
    ops: tuple[Op, ...]
    wires: tuple[Wire, ...]
    scales: tuple[tuple[str, AnyScale], ...]  # (caption, scale) for the legends, one per scale used

    def step_elements(self, step: int) -> tuple[tuple[Wire, ...], tuple[Op, ...]]:
        """The wires and ops computed in sub-step ``step`` (0: given), wires first so ops draw on top."""
        return (
            tuple(w for w in self.wires if w.step == step),
            tuple(o for o in self.ops if o.step == step),
        )

    def op(self, key: str) -> Op:
        return next(o for o in self.ops if o.key == key)

    def wire(self, key: str) -> Wire:
        return next(w for w in self.wires if w.key == key)


def fmt(v: float) -> str:
    """Three decimals with a true minus sign; a value that rounds to zero is written 0.000, never −0.000 (the
    wire's dash still tells its sign)."""
    text = f"{v:.3f}"
    return "0.000" if text == "-0.000" else text.replace("-", "−")


def paren(v: float) -> str:
    text = fmt(v)
    return f"({text})" if text.startswith("−") else text


class Builder:
    """Collects ops and wires; a wire takes its value and colour from the op it leaves."""

    def __init__(self) -> None:
        self.ops: dict[str, Op] = {}
        self.wires: list[Wire] = []

    def op(self, key: str, kind: str, symbol: str, name: str, at: tuple[float, float], step: int, **kw) -> None:
        w, h = {"node": (2 * NODE_R, 2 * NODE_R), "joint": (2 * JOINT_R, 2 * JOINT_R), "port": (0.0, 0.0)}.get(
            kind, (BLOCK_W, BLOCK_H)
        )
        if kind == "sum":
            w = 118.0
        self.ops[key] = Op(key, kind, symbol, name, at[0], at[1], w, h, step, **kw)

    def wire(self, source: str, points, step: int | None = None, key: str | None = None) -> None:
        """A wire from op ``source`` along ``points``, drawn in ``step`` (by default the source's own)."""
        op = self.ops[source]
        step = op.step if step is None else step
        if op.value is None or op.scale is None:
            colour, title = NEUTRAL, op.name
        else:
            colour, title = op.scale.colour(op.value), f"{op.name} = {op.value_text}"
        self.wires.append(Wire(key or f"{source}-{len(self.wires)}", tuple(points), step, op.value, colour, title))


def unit_values(sim: Simulation) -> dict[str, float]:
    """Every recorded quantity of the shown layer and direction at (t, unit j), plus the input row."""
    state = sim.state
    q = sim.trace.layers[state.layer][state.dir].quantities()
    j = state.unit if state.unit is not None else 0
    return {name: float(arr[state.t, 0, j]) for name, arr in q.items()}


def clipped_scale(sim: Simulation, *names: str) -> Scale:
    """A diverging scale clipped to every value of these quantities over the whole trace (all steps)."""
    q = sim.trace.layers[sim.state.layer][sim.state.dir].quantities()
    return Scale.for_values(np.concatenate([q[n].ravel() for n in names]))


def token_text(sim: Simulation) -> str:
    return sim.labels[sim.state.t]


def lstm(sim: Simulation, j: int) -> Builder:
    v = unit_values(sim)
    c_scale = clipped_scale(sim, "c", "c_prev")
    fc, ig = v["f"] * v["c_prev"], v["i"] * v["g"]
    b = Builder()
    b.op("c_prev", "port", "c_{t-1}", f"previous cell state c_{{t-1}}[{j}]", (30, 60), 0, value=v["c_prev"],
         scale=c_scale, value_dy=22)
    b.op("h_prev", "port", "h_{t-1}", f"previous hidden state h_{{t-1}}[{j}]", (30, 330), 0, value=v["h_prev"],
         scale=UNIT_SCALE, value_dy=22)
    b.op("x", "port", "x_t", f"input x_t: “{token_text(sim)}”", (120, 392), 0, value=None, scale=None,
         value_dx=34, value_dy=5)
    b.op("concat", "joint", "", "the bus [h_{t-1}, x_t]", (120, 330), 0, value=None, scale=None)
    b.op("f", "block", "σ", f"forget gate f_t[{j}]", (180, 260), 1, value=v["f"], scale=GATE_SCALE,
         formula=f"σ({fmt(v['f_pre'])})")
    b.op("i", "block", "σ", f"input gate i_t[{j}]", (250, 260), 2, value=v["i"], scale=GATE_SCALE,
         formula=f"σ({fmt(v['i_pre'])})")
    b.op("g", "block", "tanh", f"candidate g_t[{j}] (C̃_t)", (320, 260), 3, value=v["g"], scale=UNIT_SCALE,
         formula=f"tanh({fmt(v['g_pre'])})")
    b.op("mul_f", "node", "×", f"kept memory f_t[{j}] × c_{{t-1}}[{j}]", (180, 60), 4, value=fc, scale=c_scale,
         value_dy=-22, formula=f"{fmt(v['f'])} × {paren(v['c_prev'])}")
    b.op("mul_ig", "node", "×", f"new memory i_t[{j}] × g_t[{j}]", (320, 160), 4, value=ig, scale=c_scale,
         value_dx=44, value_dy=4, formula=f"{fmt(v['i'])} × {paren(v['g'])}")
    b.op("add_c", "node", "+", f"new cell state c_t[{j}]", (320, 60), 4, value=v["c"], scale=c_scale,
         value_dy=-22, formula=f"{fmt(fc)} + {paren(ig)}")
    b.op("o", "block", "σ", f"output gate o_t[{j}]", (450, 260), 5, value=v["o"], scale=GATE_SCALE,
         formula=f"σ({fmt(v['o_pre'])})")
    b.op("tanh_c", "block", "tanh", f"squashed cell state tanh(c_t[{j}])", (530, 130), 6, value=v["tanh_c"],
         scale=UNIT_SCALE, formula=f"tanh({fmt(v['c'])})")
    b.op("mul_o", "node", "×", f"new hidden state h_t[{j}]", (530, 220), 6, value=v["h"], scale=UNIT_SCALE,
         value_dx=46, value_dy=4, formula=f"{fmt(v['o'])} × {paren(v['tanh_c'])}")
    b.op("c", "port", "c_t", f"cell state c_t[{j}] to the next step", (650, 60), 4, value=v["c"], scale=c_scale,
         value_dy=22)
    b.op("h", "port", "h_t", f"hidden state h_t[{j}] to the next step and up", (650, 330), 6, value=v["h"],
         scale=UNIT_SCALE, value_dy=22)

    b.wire("c_prev", [(58, 60), (180 - NODE_R, 60)], key="c_prev")
    b.wire("h_prev", [(62, 330), (120 - JOINT_R, 330)], key="h_prev")
    b.wire("x", [(120, 378), (120, 330 + JOINT_R)], key="x")
    b.wire("concat", [(120 + JOINT_R, 330), (450, 330)], key="bus")
    for gate, gx in (("f", 180), ("i", 250), ("g", 320), ("o", 450)):
        b.wire("concat", [(gx, 330), (gx, 260 + BLOCK_H / 2)], step=b.ops[gate].step, key=f"bus-{gate}")
    b.wire("f", [(180, 260 - BLOCK_H / 2), (180, 60 + NODE_R)], key="f")
    b.wire("i", [(250, 260 - BLOCK_H / 2), (250, 160), (320 - NODE_R, 160)], key="i")
    b.wire("g", [(320, 260 - BLOCK_H / 2), (320, 160 + NODE_R)], key="g")
    b.wire("mul_f", [(180 + NODE_R, 60), (320 - NODE_R, 60)], key="fc")
    b.wire("mul_ig", [(320, 160 - NODE_R), (320, 60 + NODE_R)], key="ig")
    b.wire("add_c", [(320 + NODE_R, 60), (640, 60)], key="c")
    b.wire("add_c", [(530, 60), (530, 130 - BLOCK_H / 2)], step=6, key="c-tanh")
    b.wire("o", [(450, 260 - BLOCK_H / 2), (450, 220), (530 - NODE_R, 220)], key="o")
    b.wire("tanh_c", [(530, 130 + BLOCK_H / 2), (530, 220 - NODE_R)], key="tanh_c")
    b.wire("mul_o", [(530, 220 + NODE_R), (530, 330), (640, 330)], key="h")
    return b


def gru(sim: Simulation, j: int) -> Builder:
    v = unit_values(sim)
    sum_scale = clipped_scale(sim, "n_pre", "hn")
    in_part = v["n_pre"] - v["r"] * v["hn"]
    r_hn = v["r"] * v["hn"]
    keep, blend = v["z"] * v["h_prev"], (1 - v["z"]) * v["n"]
    b = Builder()
    b.op("h_prev", "port", "h_{t-1}", f"previous hidden state h_{{t-1}}[{j}]", (30, 60), 0, value=v["h_prev"],
         scale=UNIT_SCALE, value_dy=22)
    b.op("x", "port", "x_t", f"input x_t: “{token_text(sim)}”", (120, 392), 0, value=None, scale=None,
         value_dx=34, value_dy=5)
    b.op("concat", "joint", "", "the bus [h_{t-1}, x_t]", (120, 330), 0, value=None, scale=None)
    b.op("r", "block", "σ", f"reset gate r_t[{j}]", (180, 260), 1, value=v["r"], scale=GATE_SCALE,
         formula=f"σ({fmt(v['r_pre'])})")
    b.op("z", "block", "σ", f"update gate z_t[{j}]", (260, 260), 2, value=v["z"], scale=GATE_SCALE,
         formula=f"σ({fmt(v['z_pre'])})")
    b.op("one_minus", "node", "1−", f"1 − z_t[{j}]", (530, 92), 2, value=1 - v["z"], scale=GATE_SCALE,
         value_dy=-20, formula=f"1 − {fmt(v['z'])}")
    b.op("hn", "sum", "W_hn h + b_hn", f"hidden part of the candidate (W_hn h_{{t-1}} + b_hn)[{j}]", (380, 130),
         3, value=v["hn"], scale=sum_scale)
    b.op("mul_r", "node", "×", f"reset hidden part r_t[{j}] × (W_hn h + b_hn)[{j}]", (380, 195), 3, value=r_hn,
         scale=sum_scale, value_dx=44, value_dy=4, formula=f"{fmt(v['r'])} × {paren(v['hn'])}")
    b.op("in", "sum", "W_in x + b_in", f"input part of the candidate (W_in x_t + b_in)[{j}]", (380, 300), 3,
         value=in_part, scale=sum_scale)
    b.op("add_n", "node", "+", f"candidate's sum[{j}]", (380, 245), 3, value=v["n_pre"], scale=sum_scale,
         value_dx=-44, value_dy=4, formula=f"{fmt(in_part)} + {paren(r_hn)}")
    b.op("n", "block", "tanh", f"candidate n_t[{j}]", (470, 245), 3, value=v["n"], scale=UNIT_SCALE,
         formula=f"tanh({fmt(v['n_pre'])})")
    b.op("mul_z", "node", "×", f"kept state z_t[{j}] × h_{{t-1}}[{j}]", (470, 60), 4, value=keep, scale=UNIT_SCALE,
         value_dy=-22, formula=f"{fmt(v['z'])} × {paren(v['h_prev'])}")
    b.op("mul_n", "node", "×", f"new part (1 − z_t[{j}]) × n_t[{j}]", (590, 160), 4, value=blend,
         scale=UNIT_SCALE, value_dx=46, value_dy=4, formula=f"{fmt(1 - v['z'])} × {paren(v['n'])}")
    b.op("add_h", "node", "+", f"new hidden state h_t[{j}]", (590, 60), 4, value=v["h"], scale=UNIT_SCALE,
         value_dy=-22, formula=f"{fmt(keep)} + {paren(blend)}")
    b.op("h", "port", "h_t", f"hidden state h_t[{j}] to the next step and up", (655, 60), 4, value=v["h"],
         scale=UNIT_SCALE, value_dy=22)

    b.wire("h_prev", [(62, 60), (470 - NODE_R, 60)], key="h_prev")
    b.wire("h_prev", [(80, 60), (80, 330), (120 - JOINT_R, 330)], key="h_prev-bus")
    b.wire("x", [(120, 378), (120, 330 + JOINT_R)], key="x")
    b.wire("concat", [(120 + JOINT_R, 330), (260, 330)], key="bus")
    b.wire("concat", [(180, 330), (180, 260 + BLOCK_H / 2)], step=1, key="bus-r")
    b.wire("concat", [(260, 330), (260, 260 + BLOCK_H / 2)], step=2, key="bus-z")
    b.wire("x", [(120, 360), (380, 360), (380, 300 + BLOCK_H / 2)], step=3, key="x-in")
    b.wire("h_prev", [(380, 60), (380, 130 - BLOCK_H / 2)], step=3, key="h_prev-hn")
    b.wire("r", [(180, 260 - BLOCK_H / 2), (180, 195), (380 - NODE_R, 195)], key="r")
    b.wire("z", [(260, 260 - BLOCK_H / 2), (260, 92), (470, 92), (470, 60 + NODE_R)], key="z")
    b.wire("z", [(470, 92), (530 - NODE_R, 92)], key="z-1")
    b.wire("one_minus", [(530 + NODE_R, 92), (560, 92), (560, 160), (590 - NODE_R, 160)], key="one_minus")
    b.wire("hn", [(380, 130 + BLOCK_H / 2), (380, 195 - NODE_R)], key="hn")
    b.wire("mul_r", [(380, 195 + NODE_R), (380, 245 - NODE_R)], key="r_hn")
    b.wire("in", [(380, 300 - BLOCK_H / 2), (380, 245 + NODE_R)], key="in")
    b.wire("add_n", [(380 + NODE_R, 245), (470 - BLOCK_W / 2, 245)], key="n_pre")
    b.wire("n", [(470 + BLOCK_W / 2, 245), (590, 245), (590, 160 + NODE_R)], key="n")
    b.wire("mul_z", [(470 + NODE_R, 60), (590 - NODE_R, 60)], key="keep")
    b.wire("mul_n", [(590, 160 - NODE_R), (590, 60 + NODE_R)], key="blend")
    b.wire("add_h", [(590 + NODE_R, 60), (645, 60)], key="h")
    return b


def rnn(sim: Simulation, j: int) -> Builder:
    v = unit_values(sim)
    state, cfg = sim.state, sim.config
    x = sim.trace.layers[state.layer][state.dir].x[state.t, 0]
    b_ih = sim.layer_bias("bias_ih")
    ih = float(sim.layer_weight("weight_ih")[j] @ x + (b_ih[j] if b_ih is not None else 0.0))
    hh = v["pre"] - ih
    act = cfg.nonlinearity
    sum_scale = clipped_scale(sim, "pre")
    h_scale = UNIT_SCALE if act != "relu" else clipped_scale(sim, "h")
    b = Builder()
    b.op("h_prev", "port", "h_{t-1}", f"previous hidden state h_{{t-1}}[{j}]", (30, 200), 0, value=v["h_prev"],
         scale=UNIT_SCALE if act != "relu" else h_scale, value_dy=22)
    b.op("x", "port", "x_t", f"input x_t: “{token_text(sim)}”", (30, 300), 0, value=None, scale=None,
         value_dy=24)
    b.op("hh", "sum", "W_hh h + b_hh", f"memory part (W_hh h_{{t-1}} + b_hh)[{j}]", (180, 200), 1, value=hh,
         scale=sum_scale)
    b.op("ih", "sum", "W_ih x + b_ih", f"input part (W_ih x_t + b_ih)[{j}]", (180, 300), 1, value=ih,
         scale=sum_scale)
    b.op("add", "node", "+", f"weighted sum[{j}]", (300, 250), 1, value=v["pre"], scale=sum_scale, value_dx=-2,
         value_dy=-22, formula=f"{fmt(hh)} + {paren(ih)}")
    b.op("act", "block", act, f"new hidden state h_t[{j}]", (400, 250), 2, value=v["h"], scale=h_scale,
         formula=f"{act}({fmt(v['pre'])})")
    b.op("h", "port", "h_t", f"hidden state h_t[{j}] to the next step and up", (650, 250), 2, value=v["h"],
         scale=h_scale, value_dy=22)
    top = state.layer == cfg.num_layers - 1 and sim.trace.logits is not None
    if top and sim.trace.probs is not None and sim.output_labels is not None:
        p = sim.trace.probs[state.t, 0]
        k = int(np.argmax(p))
        b.op("out", "sum", "W_hy h + b_y", f"output: most likely “{show_char(sim.output_labels[k])}”",
             (540, 130), 3, value=float(p[k]), scale=GATE_SCALE)
    elif top and sim.trace.logits is not None:
        b.op("out", "sum", "W_hy h + b_y", "output y_t[0]", (540, 130), 3,
             value=float(sim.trace.logits[state.t, 0, 0]), scale=clipped_scale(sim, "h"))
    else:
        b.op("out", "sum", "to layer above", "h_t goes up to the next layer", (540, 130), 3, value=None, scale=None)
    b.op("y", "port", "y_t", "the step's output", (540, 40), 3, value=None, scale=None)

    b.wire("h_prev", [(62, 200), (180 - 59, 200)], key="h_prev")
    b.wire("x", [(50, 300), (180 - 59, 300)], key="x")
    b.wire("hh", [(180 + 59, 200), (300, 200), (300, 250 - NODE_R)], key="hh")
    b.wire("ih", [(180 + 59, 300), (300, 300), (300, 250 + NODE_R)], key="ih")
    b.wire("add", [(300 + NODE_R, 250), (400 - BLOCK_W / 2, 250)], key="pre")
    b.wire("act", [(400 + BLOCK_W / 2, 250), (640, 250)], key="h")
    b.wire("act", [(540, 250), (540, 130 + BLOCK_H / 2)], step=3, key="h-out")
    b.wire("out", [(540, 130 - BLOCK_H / 2), (540, 56)], key="y")
    return b


LAYOUTS = {"lstm": (lstm, 680.0, 410.0), "gru": (gru, 690.0, 410.0), "rnn": (rnn, 690.0, 340.0)}


def build(sim: Simulation) -> CellDiagram:
    """The diagram of the shown layer and direction at the state's timestep, for its unit (0 by default)."""
    cfg = sim.config
    j = sim.state.unit if sim.state.unit is not None else 0
    make, width, height = LAYOUTS[cfg.cell]
    b = make(sim, j)
    ops = tuple(b.ops.values())
    seen: dict[AnyScale, str] = {}
    for o in ops:
        if o.scale is not None and o.kind != "port":
            seen.setdefault(o.scale, scale_caption(o))
    legends = tuple((caption, scale) for scale, caption in seen.items())
    return CellDiagram(cfg.cell, sim.state.t, j, width, height, ops, tuple(b.wires), legends)


def scale_caption(op: Op) -> str:
    """The legend's caption for the scale ``op`` is the first to use."""
    if isinstance(op.scale, SequentialScale):
        return "Gates and probabilities"
    if op.scale == UNIT_SCALE:
        return "tanh outputs, hidden state"
    if op.key in ("mul_f", "mul_ig", "add_c"):
        return "Cell state (this input's range)"
    if op.key == "act":
        return "Hidden state (this input's range)"
    return "Weighted sums (this input's range)"
