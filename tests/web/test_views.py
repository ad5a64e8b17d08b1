"""View-models against core: the numbers drawn are the trace's numbers, and the geometry fits its canvas."""

from __future__ import annotations

import re

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.web import gradients, heatmaps, unrolled
from app.web.simulation import simulate
from app.web.state import ViewState
from core.bptt import loss_and_gradients
from core.config import NetworkConfig
from core.network import forward
from core.params import init_params


def core_trace(state: ViewState):
    """The same model built straight from core: one-hot over the sorted characters, softmax output."""
    vocab = sorted(set(state.input))
    V = len(vocab)
    cfg = NetworkConfig(
        cell=state.cell,
        input_size=V,
        hidden_size=state.hidden,
        num_layers=state.layers,
        bidirectional=state.bi,
        nonlinearity=state.act if state.cell == "rnn" else "tanh",
        output_size=V,
        output_activation="softmax",
        input_encoding="onehot",
        vocab_size=V,
    )
    params = init_params(cfg, state.seed)
    tokens = np.array([vocab.index(ch) for ch in state.input])
    return cfg, params, tokens, forward(params, cfg, tokens)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_simulation_equals_core(cell):
    state = ViewState(cell=cell, hidden=5, layers=2, bi=True, seed=11, input="abcab")
    sim = simulate(state)
    _, _, _, ref = core_trace(state)
    for layer in range(2):
        for d in range(2):
            np.testing.assert_allclose(
                sim.trace.quantity(layer, d, "h"), ref.quantity(layer, d, "h"), atol=1e-12
            )
    assert sim.labels == tuple("abcab")


@pytest.mark.parametrize("cell, per_box", [("lstm", 2), ("gru", 1), ("rnn", 1)])
def test_unrolled_geometry(cell, per_box):
    state = ViewState(cell=cell, hidden=11, layers=2, bi=True, input="hello")
    d = unrolled.build(simulate(state))
    assert len(d.columns) == 5 and len(d.rows) == 4
    assert [r.label for r in d.rows] == ["layer 2 →", "layer 2 ←", "layer 1 →", "layer 1 ←"]
    xs = [c.x for c in d.columns]
    assert xs == sorted(xs)
    for col in d.columns:
        cells = [b for b in col.boxes if b.kind == "cell"]
        assert len(cells) == 4
        for box in col.boxes:
            assert box.x >= 0 and box.x + box.w <= d.width and box.y >= 0 and box.y + box.h <= d.height
            for g in box.grids:
                corners = [g.corner(j) for j in range(len(g.values))]
                assert all(box.x <= x and x + g.square <= box.x + box.w for x, _ in corners)
                assert all(box.y <= y and y + g.square <= box.y + box.h for _, y in corners)
                # One square per unit, across the fill paths; one dash per negative value.
                assert sum(path.count("z") for _, path in g.fills) == len(g.values)
                assert sum(path.count("M") for _, path in g.dashes) == sum(v < 0 for v in g.values)
        assert sum(len(g.values) for b in cells for g in b.grids) == 4 * 11 * per_box
        for a in col.arrows:
            assert min(a.x1, a.x2) >= 0 and max(a.x1, a.x2) <= d.width
    # The square for unit j of layer 1 (forward) at t=2 shows h exactly.
    sim = simulate(state)
    box = [b for b in d.columns[2].boxes if b.kind == "cell"][2]
    h = box.grids[0]
    assert h.values == pytest.approx(sim.trace.quantity(0, 0, "h")[2].tolist()) and h.where == "0:0"
    # Each unit's square is in the path of its value's colour (absolute M, then relative m moves).
    drawn = {}
    for fill, path in h.fills:
        x = y = 0.0
        for move in re.findall(r"([Mm])([-\d.]+) ([-\d.]+)h13v13h-13z", path):
            x, y = (float(move[1]), float(move[2])) if move[0] == "M" else (x + float(move[1]), y + float(move[2]))
            drawn[(round(x, 2), round(y, 2))] = fill
    assert len(drawn) == len(h.values)
    for j, v in enumerate(h.values):
        x, y = h.corner(j)
        assert drawn[(round(x, 2), round(y, 2))] == d.scales["h"].colour(v)
    # The grid names the numbers-table cell that lists the same values.
    assert d.table_rows[2][h.column] == unrolled.listing(sim.trace.quantity(0, 0, "h")[2])
    assert len(d.table_rows) == 5 and len(d.table_headers) == len(d.table_rows[0])


def test_heatmaps_and_unit_chart():
    sim = simulate(ViewState(cell="lstm", hidden=3, input="abcd", unit=1))
    maps = heatmaps.heatmaps(sim)
    assert [m.key for m in maps] == ["h", "c", "f", "i", "g", "o"]
    assert [label for _, label in maps[0].col_labels] == list("abcd")
    assert len(maps[0].columns) == 4 and all(len(cells) == 3 for _, _, cells in maps[0].columns)
    chart = heatmaps.unit_chart(sim, 1)
    assert chart.top_y < chart.zero_y < chart.bottom_y
    h = sim.trace.quantity(0, 0, "h")[:, 1]
    ys = [y for _, y, _ in chart.series[0].marks]
    for v, y in zip(h, ys, strict=True):
        half = (chart.bottom_y - chart.top_y) / 2
        assert y == pytest.approx(chart.zero_y - v / chart.vmax * half, abs=0.06)


def test_gradient_norms_equal_core_bptt_on_the_recall_loss():
    state = ViewState(input="abcba", hidden=4, seed=2)
    chart = gradients.build(simulate(state))
    assert [line.cell for line in chart.lines] == ["rnn", "lstm", "gru"]
    for line in chart.lines:
        cfg, params, tokens, _ = core_trace(ViewState(cell=line.cell, input="abcba", hidden=4, seed=2))
        targets = np.full((5, 1), tokens[0])
        loss, _, grads = loss_and_gradients(params, cfg, tokens, targets, where="last")
        assert line.loss == pytest.approx(loss)
        assert line.norms == pytest.approx(grads.dh_norms(0)[0][0].tolist())
    lo = min(float(label[2:]) for _, label in chart.ticks)
    hi = max(float(label[2:]) for _, label in chart.ticks)
    assert all(10**lo <= v <= 10**hi for line in chart.lines for v in line.norms)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return TestClient(create_app(Settings(data_dir=tmp_path_factory.mktemp("data"))))


@pytest.mark.parametrize(
    "path", ["/", "/cell", "/heatmaps?unit=1", "/gradients", "/compare", "/fragment/cell?t=2"]
)
def test_pages_render(client, path):
    r = client.get(path)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]


def test_typed_markup_is_escaped(client):
    payload = '"><img src=x onerror=alert(1)><script>alert(1)</script>'
    for path in ("/", "/heatmaps", "/cell"):
        html = client.get(path, params={"input": payload}).text
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html


def test_htmx_swaps_push_the_canonical_url(client):
    r = client.get(
        "/heatmaps", params={"cell": "gru", "hidden": "8", "t": "0"}, headers={"HX-Request": "true"}
    )
    assert r.headers["HX-Push-Url"] == "/heatmaps?cell=gru"


def test_presets_run_their_own_model_and_their_examples_fit():
    from app.web.simulation import supported_presets

    choices = {c.name: c for c in supported_presets()}
    if "chars" not in choices:
        pytest.skip("the chars preset is not installed")
    for choice in choices.values():
        for _, text in choice.examples:
            sim = simulate(ViewState(preset=choice.name, input=text, unit=1000, layer=2))
            assert sim.config.cell == choice.cell and sim.steps >= 1
            assert sim.state.unit is None and sim.state.layer < sim.config.num_layers
    sim = simulate(ViewState(preset="chars", input="the river"))
    assert sim.output_label(0).split()[0] in choices["chars"].vocab + ("␣",)


def test_preset_views_that_need_random_weights_say_so(client):
    html = client.get("/compare", params={"preset": "chars"}).text
    assert "is not used here" in html


@pytest.mark.parametrize("cell, gates", [("lstm", "fio"), ("gru", "zr")])
def test_heatmaps_draw_gates_on_the_sequential_scale_and_the_rest_diverging(cell, gates):
    from app.web.colors import GATE_SCALE

    sim = simulate(ViewState(cell=cell, hidden=4, input="abcde"))
    for m in heatmaps.heatmaps(sim):
        if m.key in gates:
            assert m.scale is GATE_SCALE and (m.scale.vmin, m.scale.vmax) == (0.0, 1.0)
            assert all(c.dash is None for _, _, cells in m.columns for c in cells)  # never negative
        else:
            assert m.scale.kind == "diverging" and m.scale.vmin == -m.scale.vmax
            assert m.scale.vmax == pytest.approx(abs(m.values).max())
