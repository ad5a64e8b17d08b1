"""The inside of one cell at one timestep: each gate's vector, each equation with the actual numbers, a
diagram.

Gates are written as in the lecture notes, W [h_{t-1}, x_t] + b, which is PyTorch's W_i x_t + b_i + W_h
h_{t-1} + b_h with W = [W_h, W_i] and b = b_i + b_h. For one selected unit j each equation is also evaluated
step by step, e.g.

    c_t[j] = f_t[j] c_{t-1}[j] + i_t[j] g_t[j] = 0.731 * 0.100 + 0.512 * (-0.220) = -0.039

Values in [0, 1] (gates) and [-1, 1] (tanh outputs) use a fixed scale of 1, so the same colour means the same
number in every step; unbounded quantities (c, pre-activations) use a scale clipped to the whole trace."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.web.colors import Scale, sign_glyph, text_colour
from app.web.simulation import Simulation

UNIT_SCALE = Scale(1.0)


def fmt(v: float, digits: int = 3) -> str:
    return f"{v:.{digits}f}"


def paren(v: float) -> str:
    """A number ready to be multiplied: negatives in parentheses."""
    return f"({fmt(v)})" if v < 0 else fmt(v)


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
    symbol: str  # e.g. 'f_t', shown with the index as a subscript by the template
    values: tuple[Value, ...]

    @property
    def listing(self) -> str:
        return "[" + ", ".join(v.text for v in self.values) + "]"


@dataclass(frozen=True)
class Equation:
    key: str
    title: str
    formula: str
    vector: Vector
    example: str  # the equation evaluated for the selected unit


@dataclass(frozen=True)
class Node:
    key: str
    label: str
    x: float
    y: float
    w: float
    h: float
    value: float | None
    fill: str
    ink: str
    value_text: str

    @property
    def text_x(self) -> float:
        return self.x + 6

    @property
    def label_y(self) -> float:
        return self.y + 16

    @property
    def value_y(self) -> float:
        return self.y + 33


@dataclass(frozen=True)
class CellView:
    t: int
    token: str
    where: str  # 'layer 1, forward'
    unit: int
    cell: str
    inputs: tuple[Vector, ...]
    equations: tuple[Equation, ...]
    nodes: tuple[Node, ...]
    edges: tuple[tuple[float, float, float, float], ...]
    width: float
    height: float


def vector(key: str, symbol: str, values: np.ndarray, scale: Scale) -> Vector:
    vals = tuple(
        Value(
            float(v),
            fmt(float(v)),
            scale.css_class(float(v)),
            sign_glyph(float(v)),
            f"{symbol}[{j}] = {float(v):.6f}",
        )
        for j, v in enumerate(values)
    )
    return Vector(key, symbol, vals)


def sigma_example(name: str, j: int, pre: float, out: float, fn: str) -> str:
    return f"{name}[{j}] = {fn}({fmt(pre)}) = {fmt(out)}"


def activation_equation(q, t, j, key: str, title: str, formula: str, fn: str = "σ") -> Equation:
    """The equation of a gate or candidate ``key`` = fn(``key``_pre): its values at step t and a worked example
    at unit j."""
    values = q[key][t, 0]
    symbol = f"{key}_t"
    example = sigma_example(symbol, j, q[f"{key}_pre"][t, 0, j], values[j], fn)
    return Equation(key, title, formula, vector(key, symbol, values, UNIT_SCALE), example)


def _lstm(q, t, j, c_scale):
    f, i, g, o, c, tc = (q[k][t, 0] for k in ("f", "i", "g", "o", "c", "tanh_c"))
    c_prev = q["c_prev"][t, 0]
    gate = "[h_{t-1}, x_t]"
    eqs = [
        activation_equation(
            q, t, j, "f", "Forget gate: how much of the old cell state to keep", f"f_t = σ(W_f {gate} + b_f)"
        ),
        activation_equation(
            q, t, j, "i", "Input gate: how much of the candidate to write", f"i_t = σ(W_i {gate} + b_i)"
        ),
        activation_equation(q, t, j, "g", "Candidate values (C̃_t)", f"g_t = tanh(W_g {gate} + b_g)", "tanh"),
        Equation(
            "c",
            "Cell update: keep some old, add some new",
            "c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t",
            vector("c", "c_t", c, c_scale),
            f"c_t[{j}] = {fmt(f[j])} × {paren(c_prev[j])} + {fmt(i[j])} × {paren(g[j])} = {fmt(c[j])}",
        ),
        activation_equation(
            q, t, j, "o", "Output gate: how much of the cell state to show", f"o_t = σ(W_o {gate} + b_o)"
        ),
        Equation(
            "h",
            "New hidden state",
            "h_t = o_t ⊙ tanh(c_t)",
            vector("h", "h_t", q["h"][t, 0], UNIT_SCALE),
            f"h_t[{j}] = {fmt(o[j])} × tanh({fmt(c[j])}) = {fmt(o[j])} × {paren(tc[j])} = "
            f"{fmt(q['h'][t, 0, j])}",
        ),
    ]
    v = {
        "c_prev": c_prev[j],
        "f": f[j],
        "i": i[j],
        "g": g[j],
        "o": o[j],
        "c": c[j],
        "tc": tc[j],
        "h": q["h"][t, 0, j],
        "h_prev": q["h_prev"][t, 0, j],
    }
    nodes = [
        ("c_prev", "c_{t-1}", 10, 10, c_scale),
        ("mul_f", "f × c_{t-1}", 130, 10, c_scale),
        ("add", "+ i × g", 250, 10, c_scale),
        ("c", "c_t", 370, 10, c_scale),
        ("tc", "tanh(c_t)", 490, 10, UNIT_SCALE),
        ("f", "f (σ)", 100, 95, UNIT_SCALE),
        ("i", "i (σ)", 200, 95, UNIT_SCALE),
        ("g", "g (tanh)", 300, 95, UNIT_SCALE),
        ("o", "o (σ)", 400, 95, UNIT_SCALE),
        ("h_prev", "h_{t-1}", 10, 180, UNIT_SCALE),
        ("h", "h_t", 490, 180, UNIT_SCALE),
    ]
    values = dict(v, mul_f=f[j] * c_prev[j], add=i[j] * g[j])
    edges = [
        ("c_prev", "mul_f"),
        ("mul_f", "add"),
        ("add", "c"),
        ("c", "tc"),
        ("f", "mul_f"),
        ("i", "add"),
        ("g", "add"),
        ("h_prev", "f"),
        ("h_prev", "i"),
        ("h_prev", "g"),
        ("h_prev", "o"),
        ("o", "h"),
        ("tc", "h"),
    ]
    return eqs, nodes, values, edges


def _gru(q, t, j):
    r, z, n, hn, h, h_prev = (q[k][t, 0] for k in ("r", "z", "n", "hn", "h", "h_prev"))
    in_part = q["n_pre"][t, 0] - r * hn
    eqs = [
        activation_equation(
            q,
            t,
            j,
            "r",
            "Reset gate: how much of the old state the candidate may use",
            "r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)",
        ),
        activation_equation(
            q,
            t,
            j,
            "z",
            "Update gate: how much of the old state to keep",
            "z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)",
        ),
        Equation(
            "n",
            "Candidate state",
            "n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))",
            vector("n", "n_t", n, UNIT_SCALE),
            f"n_t[{j}] = tanh({fmt(in_part[j])} + {fmt(r[j])} × {paren(hn[j])}) = {fmt(n[j])}",
        ),
        Equation(
            "h",
            "New hidden state: a blend of candidate and old state",
            "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}",
            vector("h", "h_t", h, UNIT_SCALE),
            f"h_t[{j}] = (1 − {fmt(z[j])}) × {paren(n[j])} + {fmt(z[j])} × {paren(h_prev[j])} = {fmt(h[j])}",
        ),
    ]
    nodes = [
        ("h_prev", "h_{t-1}", 10, 10, UNIT_SCALE),
        ("x", "x_t (input)", 10, 180, UNIT_SCALE),
        ("r", "r (σ)", 170, 180, UNIT_SCALE),
        ("z", "z (σ)", 250, 95, UNIT_SCALE),
        ("n", "n (tanh)", 340, 180, UNIT_SCALE),
        ("h", "h_t", 490, 10, UNIT_SCALE),
    ]
    values = {"h_prev": h_prev[j], "x": None, "r": r[j], "z": z[j], "n": n[j], "h": h[j]}
    edges = [
        ("h_prev", "r"),
        ("x", "r"),
        ("h_prev", "z"),
        ("r", "n"),
        ("x", "n"),
        ("z", "h"),
        ("n", "h"),
        ("h_prev", "h"),
    ]
    return eqs, nodes, values, edges


def _rnn(q, t, j, act):
    pre, h, h_prev = q["pre"][t, 0], q["h"][t, 0], q["h_prev"][t, 0]
    scale = UNIT_SCALE if act != "relu" else Scale.for_values(q["h"].ravel())
    eqs = [
        Equation(
            "h",
            f"New hidden state: {act} of a weighted sum",
            f"h_t = {act}(W_ih x_t + b_ih + W_hh h_{{t-1}} + b_hh)",
            vector("h", "h_t", h, scale),
            sigma_example("h_t", j, pre[j], h[j], act),
        )
    ]
    pre_scale = Scale.for_values(q["pre"].ravel())
    nodes = [
        ("h_prev", "h_{t-1}", 10, 10, UNIT_SCALE),
        ("x", "x_t (input)", 10, 180, UNIT_SCALE),
        ("pre", "weighted sum", 250, 95, pre_scale),
        ("h", f"h_t ({act})", 490, 95, scale),
    ]
    values = {"h_prev": h_prev[j], "x": None, "pre": pre[j], "h": h[j]}
    edges = [("h_prev", "pre"), ("x", "pre"), ("pre", "h")]
    return eqs, nodes, values, edges


NODE_W, NODE_H = 92, 40


def build(sim: Simulation) -> CellView:
    state, cfg, trace = sim.state, sim.config, sim.trace
    t, layer, d = state.t, state.layer, state.dir
    j = state.unit if state.unit is not None else 0
    q = trace.layers[layer][d].quantities()
    c_scale = UNIT_SCALE
    if "c" in q:
        c_scale = Scale.for_values(np.concatenate([q["c"].ravel(), q["c_prev"].ravel()]))
    if cfg.cell == "lstm":
        eqs, nodes, values, edges = _lstm(q, t, j, c_scale)
    elif cfg.cell == "gru":
        eqs, nodes, values, edges = _gru(q, t, j)
    else:
        eqs, nodes, values, edges = _rnn(q, t, j, cfg.nonlinearity)
    x = trace.layers[layer][d].x[t, 0]
    inputs = [
        vector("x", "x_t", x, Scale.for_values(x, floor=1.0)),
        vector("h_prev", "h_{t-1}", q["h_prev"][t, 0], UNIT_SCALE),
    ]
    if cfg.has_cell_state:
        inputs.append(vector("c_prev", "c_{t-1}", q["c_prev"][t, 0], c_scale))
    placed = []
    for key, label, nx, ny, scale in nodes:
        v = values[key]
        fill = "#ffffff" if v is None else scale.colour(float(v))
        placed.append(
            Node(
                key,
                label,
                nx,
                ny,
                NODE_W,
                NODE_H,
                None if v is None else float(v),
                fill,
                text_colour(fill),
                "" if v is None else fmt(float(v)),
            )
        )
    by_key = {n.key: n for n in placed}
    lines = tuple(_edge(by_key[a], by_key[b]) for a, b in edges)
    direction = ", right to left" if d else (", left to right" if cfg.bidirectional else "")
    where = f"layer {layer + 1}{direction}"
    return CellView(
        t, sim.labels[t], where, j, cfg.cell, tuple(inputs), tuple(eqs), tuple(placed), lines, 600, 230
    )


def _edge(a: Node, b: Node) -> tuple[float, float, float, float]:
    """A straight arrow from the border of node a to the border of node b (centre to centre, shortened)."""
    ax, ay = a.x + a.w / 2, a.y + a.h / 2
    bx, by = b.x + b.w / 2, b.y + b.h / 2
    dx, dy = bx - ax, by - ay

    # Leave each box through its border: scale so the segment stops at the box edge (half sizes + margin).
    def cut(w: float, h: float) -> float:
        tx = (w / 2 + 2) / abs(dx) if dx else float("inf")
        ty = (h / 2 + 2) / abs(dy) if dy else float("inf")
        return min(tx, ty)

    s_a, s_b = cut(a.w, a.h), cut(b.w, b.h)
    return (ax + dx * s_a, ay + dy * s_a, bx - dx * s_b, by - dy * s_b)
