"""The canonical cell diagrams and their sub-steps: geometry, the value on every wire at a given (t, s), the
honest scales, and the narration's numbers, all against the recorded trace and the weights."""

from __future__ import annotations

import math
from urllib.parse import parse_qsl

import numpy as np
import pytest

from app.web import cell_diagram, cellview, substeps
from app.web.colors import GATE_SCALE, UNIT_SCALE, SequentialScale
from app.web.simulation import simulate
from app.web.state import ViewState, parse

CASES = [
    ViewState(cell="lstm", hidden=4, input="abcab", t=3, unit=2),
    ViewState(cell="gru", hidden=5, input="hello", t=2, unit=4),
    ViewState(cell="rnn", hidden=3, input="xyzzy", t=4, unit=1),
    ViewState(cell="rnn", act="relu", hidden=6, input="abba", t=1, unit=5, seed=3),
    ViewState(cell="lstm", hidden=3, layers=2, bi=True, input="abcd", t=1, unit=0, layer=1, dir=1),
    ViewState(cell="gru", mode="numbers", hidden=4, input="0.5, -1, 2", t=2, unit=1, layers=2, layer=1),
]
IDS = ["lstm", "gru", "rnn", "rnn-relu", "lstm-stacked-bi-reverse", "gru-numbers-layer2"]


def quantities(state: ViewState):
    sim = simulate(state)
    q = sim.trace.layers[sim.state.layer][sim.state.dir].quantities()
    return sim, {name: float(arr[state.t, 0, state.unit]) for name, arr in q.items()}


def inside(box, diagram) -> bool:
    return box.x >= 0 and box.y >= 0 and box.x + box.w <= diagram.width and box.y + box.h <= diagram.height


def touches(point, op, slack: float = 1.5) -> bool:
    """Whether a wire end lies on (or within a hair of) op's outline, or at a port/joint."""
    x, y = point
    if op.kind == "port":
        return math.dist(point, (op.cx, op.cy)) <= 40
    if op.kind in ("node", "joint"):
        return abs(math.dist(point, (op.cx, op.cy)) - op.w / 2) <= slack
    on_x = op.x - slack <= x <= op.x + op.w + slack
    on_y = op.y - slack <= y <= op.y + op.h + slack
    near_edge = min(abs(x - op.x), abs(x - op.x - op.w), abs(y - op.y), abs(y - op.y - op.h)) <= slack
    return on_x and on_y and near_edge


@pytest.mark.parametrize("state", CASES, ids=IDS)
def test_geometry_stays_inside_and_ops_do_not_overlap(state):
    d = cell_diagram.build(simulate(state))
    for op in d.ops:
        assert inside(op, d), op.key
    for w in d.wires:
        assert all(0 <= x <= d.width and 0 <= y <= d.height for x, y in w.points), w.key
        # Wires run straight along the axes, like the drawings in the notes.
        for (x1, y1), (x2, y2) in zip(w.points, w.points[1:], strict=False):
            assert x1 == x2 or y1 == y2, w.key
    boxes = [o for o in d.ops if o.kind in ("block", "sum", "node")]
    for k, a in enumerate(boxes):
        for b in boxes[k + 1 :]:
            apart = a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y
            assert apart, (a.key, b.key)


def on_polyline(point, points) -> bool:
    x, y = point
    for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
        if min(x1, x2) <= x <= max(x1, x2) and min(y1, y2) <= y <= max(y1, y2):
            return True
    return False


@pytest.mark.parametrize("state", CASES, ids=IDS)
def test_every_wire_ends_on_an_op_or_branches_on(state):
    """A wire ends on the outline of an op, or where other wires carry its value on (a branch point)."""
    d = cell_diagram.build(simulate(state))
    for w in d.wires:
        end = w.points[-1]
        on_op = any(touches(end, o) for o in d.ops)
        branches = any(other.points[0] == end for other in d.wires if other is not w)
        assert on_op or branches, (w.key, end)
        # ... and starts on its source op or on a wire that carries the same value (a tap).
        start = w.points[0]
        carriers = [o for o in d.wires if o is not w and o.value == w.value and o.title == w.title]
        assert any(touches(start, o) for o in d.ops) or any(on_polyline(start, c.points) for c in carriers), (
            w.key,
            start,
        )


def test_lstm_wires_carry_the_recorded_values_of_unit_j():
    state = CASES[0]
    sim, v = quantities(state)
    d = cell_diagram.build(sim)
    expected = {
        "c_prev": v["c_prev"], "h_prev": v["h_prev"], "f": v["f"], "i": v["i"], "g": v["g"], "o": v["o"],
        "fc": v["f"] * v["c_prev"], "ig": v["i"] * v["g"], "c": v["c"], "tanh_c": v["tanh_c"], "h": v["h"],
    }
    for key, value in expected.items():
        assert d.wire(key).value == pytest.approx(value, abs=1e-12), key
    assert d.op("add_c").value == pytest.approx(expected["fc"] + expected["ig"], abs=1e-12)
    assert d.wire("bus").value is None and d.wire("bus").colour == cell_diagram.NEUTRAL
    # Honest scales: gates on the sequential 0..1 scale, tanh outputs on the fixed -1..1 one.
    for gate in "fio":
        assert d.op(gate).scale is GATE_SCALE and d.wire(gate).colour == GATE_SCALE.colour(v[gate])
    assert d.op("g").scale is UNIT_SCALE and d.op("mul_o").scale is UNIT_SCALE
    assert d.op("add_c").scale.vmax == pytest.approx(
        max(abs(simulate(state).trace.layers[0][0].quantities()[n]).max() for n in ("c", "c_prev"))
    )


def test_gru_blend_and_candidate_parts_add_up():
    sim, v = quantities(CASES[1])
    d = cell_diagram.build(sim)
    assert d.op("in").value + d.op("mul_r").value == pytest.approx(v["n_pre"], abs=1e-12)
    assert d.op("mul_r").value == pytest.approx(v["r"] * v["hn"], abs=1e-12)
    assert d.op("mul_z").value + d.op("mul_n").value == pytest.approx(v["h"], abs=1e-12)
    assert d.wire("one_minus").value == pytest.approx(1 - v["z"], abs=1e-12)
    assert d.op("n").value == pytest.approx(math.tanh(v["n_pre"]), abs=1e-12)


@pytest.mark.parametrize("state", [CASES[2], CASES[3]], ids=["tanh", "relu"])
def test_rnn_input_and_memory_parts_add_up_to_the_recorded_sum(state):
    sim, v = quantities(state)
    d = cell_diagram.build(sim)
    assert d.op("ih").value + d.op("hh").value == pytest.approx(v["pre"], abs=1e-12)
    act = {"tanh": math.tanh, "relu": lambda u: max(u, 0.0)}[state.act]
    assert d.op("act").value == pytest.approx(act(v["pre"]), abs=1e-12)
    probs = sim.trace.probs[state.t, 0]
    assert d.op("out").value == pytest.approx(float(probs.max())) and isinstance(d.op("out").scale, SequentialScale)


@pytest.mark.parametrize("state", CASES, ids=IDS)
def test_negative_wires_are_dashed_and_every_value_is_labelled(state):
    d = cell_diagram.build(simulate(state))
    for w in d.wires:
        assert w.negative == (w.value is not None and w.value < 0)
    for op in d.ops:
        if op.value is not None:
            assert op.value_text.replace("−", "-") == f"{op.value:.3f}" and op.value_text in op.label


@pytest.mark.parametrize("state", CASES, ids=IDS)
def test_sub_steps_mark_what_is_done_now_and_to_come(state):
    for s in range(1, substeps.count(state.cell) + 1):
        cv = cellview.build(simulate(ViewState(**{**state.__dict__, "s": s})))
        assert cv.substep == s and [st.number for st in cv.steps] == list(range(1, len(cv.steps) + 1))
        assert cv.mark(s) == "sub-now" and cv.mark(s - 1) == "sub-done"
        if s < len(cv.steps):
            assert cv.mark(s + 1) == "sub-todo"
        # Every sub-step draws something, and what it draws is computed in it.
        for k in range(1, len(cv.steps) + 1):
            wires, ops = cv.diagram.step_elements(k)
            assert wires or ops
    names = [st.name for st in cellview.build(simulate(state)).steps]
    assert tuple(names) == substeps.SUBSTEP_NAMES[state.cell]


def test_no_sub_step_in_the_url_shows_the_whole_step_and_bad_ones_are_clamped_or_refused():
    assert cellview.build(simulate(CASES[1])).substep == 4
    assert cellview.build(simulate(ViewState(cell="rnn", s=6))).substep == 3
    state, errors = parse({"s": "7"})
    assert state.s is None and errors and "Sub-step" in errors[0]
    state, errors = parse({"s": "2", "t": "3"})
    assert (state.s, state.t, errors) == (2, 3, [])
    assert parse(dict(parse_qsl(state.query())))[0] == state


@pytest.mark.parametrize("state", [CASES[0], CASES[1], CASES[4]], ids=["lstm", "gru", "lstm-bi"])
def test_written_sums_equal_the_recorded_pre_activations(state):
    sim, v = quantities(state)
    steps = {st.name: st for st in substeps.build(sim)}
    gates = {"lstm": {"forget": "f", "input": "i", "candidate": "g", "output": "o"},
             "gru": {"reset": "r", "update": "z"}}[state.cell]
    for name, gate in gates.items():
        written = steps[name].written
        assert written is not None
        assert written.total == pytest.approx(v[f"{gate}_pre"], abs=1e-12)
        assert written.input_value + written.memory_value + written.bias == pytest.approx(written.total)


def test_one_hot_input_is_written_as_the_token_column():
    sim = simulate(CASES[0])
    written = substeps.build(sim)[0].written
    assert "picks one column" in written.input_part and "“a”" in written.input_part
    H, j = 4, CASES[0].unit
    token = sim.vocab.index("a")
    assert written.input_value == pytest.approx(float(sim.params["weight_ih_l0"][H + j, token]))


def test_long_sums_show_the_largest_terms_and_the_rest():
    weights, values = np.arange(20.0) - 10, np.ones(20)
    text = substeps.products(weights, values)
    assert text.startswith("(−10.000) × 1.000 + (−9.000) × 1.000 + 9.000 × 1.000")
    assert text.endswith("(8 smaller terms: 4.000)")  # −3 .. 4 sum to 4


def test_narration_tells_this_steps_numbers():
    sim, v = quantities(CASES[0])
    forget, *_, hidden = substeps.build(sim)
    assert f"{v['f']:.3f}" in forget.narration and f"{v['f']:.0%}" in forget.narration
    assert f"{v['h']:.3f}".replace("-", "−") in hidden.narration and "guesses" in hidden.narration
    top = sim.top_outputs(CASES[0].t)
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]
    assert top[0][1] == pytest.approx(float(sim.trace.probs[CASES[0].t, 0].max()))


def test_an_unknown_character_is_marked_in_the_picture_and_the_timeline():
    from app.web import unrolled
    from app.web.routes import step_labels

    sim = simulate(ViewState(preset="english", input="Price: 5€"))
    t = sim.typed.index("€")
    assert sim.is_unknown(t) and sim.labels[t] == "□" and sim.labels[0] == "p"  # capitals are folded
    box = next(b for b in unrolled.build(sim).columns[t].boxes if b.kind.startswith("input"))
    assert box.kind == "input unknown" and box.text == "€→□"
    assert "unknown to the model" in step_labels(sim)[t] and "unknown" not in step_labels(sim)[0]


def test_numbers_are_written_with_a_true_minus_and_no_negative_zero():
    assert cell_diagram.fmt(-0.25) == "−0.250" and cell_diagram.fmt(0.25) == "0.250"
    assert cell_diagram.fmt(-0.0001) == "0.000" and cell_diagram.paren(-0.0001) == "0.000"
    assert cell_diagram.paren(-0.952) == "(−0.952)" and cell_diagram.paren(0.952) == "0.952"
