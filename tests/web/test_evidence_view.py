"""The gradients and compare views on the trained trio (app.web.evidence): every number drawn is core's, the
charts' geometry follows their stated formulas, and the pages offer both trained and random weights."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.web import evidence
from app.web.gradients import PLOT_H, TOP
from core.bptt import loss_and_gradients
from core.evidence import ADDING
from core.influence import influence_norms
from core.presets import load_preset
from core.tasks import get_task

SEED = 5


@pytest.fixture(scope="module")
def shown() -> evidence.Evidence:
    return evidence.build("adding", SEED)


def the_sequence(seed: int) -> tuple[np.ndarray, float]:
    batch = get_task("adding", **ADDING.options).sample_batch(np.random.default_rng(seed), 1)
    return batch.inputs[:, 0], float(batch.targets[-1, 0, 0])


def test_all_three_read_the_task_sequence_the_seed_picks(shown):
    x, target = the_sequence(SEED)
    assert shown.target == target
    assert [m.cell for m in shown.members] == ["rnn", "lstm", "gru"]
    for m in shown.members:
        np.testing.assert_array_equal(m.run.inputs, x)
        assert m.run.steps == ADDING.options["lag"]
    assert shown.marked == [int(t) for t in np.flatnonzero(x[:, 1])] and len(shown.marked) == 2
    other = evidence.build("adding", SEED + 1)
    assert not np.array_equal(other.members[0].run.inputs, x)


def test_gradient_lines_are_core_bptt_of_the_task_loss(shown):
    x, target = the_sequence(SEED)
    targets = np.zeros((x.shape[0], 1, 1))
    targets[-1, 0, 0] = target
    for line, (cell, name) in zip(shown.gradients.lines, ADDING.members, strict=True):
        preset = load_preset(name)
        loss, trace, grads = loss_and_gradients(
            preset.params, preset.config, x, targets, loss="mse", where="last", shape="many_to_one"
        )
        assert line.cell == cell
        assert line.loss == pytest.approx(loss) == pytest.approx((trace.logits[-1, 0, 0] - target) ** 2)
        assert line.norms == pytest.approx(grads.dh_norms(0)[0][0].tolist())


def test_trained_gated_cells_pass_the_gradient_back_and_the_rnn_does_not(shown):
    """The lecture's claim, on trained weights: at the first step the RNN's gradient has vanished by many
    orders of magnitude more than the LSTM's and GRU's (loosely pinned)."""
    rnn, lstm, gru = (line.norms for line in shown.gradients.lines)
    for gated in (lstm, gru):
        assert gated[0] / gated[-1] > 1e-3
        assert gated[0] > 1e6 * rnn[0]
    assert rnn[0] / rnn[-1] < 1e-8


def test_the_log_axis_ticks_hold_every_value_and_stay_few(shown):
    for chart in (shown.gradients, shown.losses):
        exps = [int(label[2:]) for _, label in chart.ticks]
        assert len(exps) <= 9
        values = [v for line in chart.lines for v in line.norms]
        assert 10 ** min(exps) <= min(values) and max(values) <= 10 ** max(exps)
        lo, hi = min(exps), max(exps)
        for line in chart.lines:
            for (_, y, _, _, _), v in zip(line.marks, line.norms, strict=True):
                expected = TOP + (hi - math.log10(v)) / (hi - lo) * PLOT_H
                assert y == pytest.approx(expected)


def test_lines_differ_without_colour(shown):
    for chart in (shown.gradients, shown.losses):
        assert len({line.dash for line in chart.lines}) == 3
        assert len({line.marker for line in chart.lines}) == 3


def test_influence_row_is_core_influence_on_one_log_scale(shown):
    x, _ = the_sequence(SEED)
    view = shown.influence
    for row, (_, name) in zip(view.rows, ADDING.members, strict=True):
        preset = load_preset(name)
        expected = influence_norms(preset.params, preset.config, x, shape="many_to_one")
        assert row.values == pytest.approx(expected.tolist(), rel=1e-12)
        for bar, v in zip(row.bars, row.values, strict=True):
            u = (math.log10(v) - view.lo_exp) / (view.hi_exp - view.lo_exp)
            assert bar.h == pytest.approx(max(min(max(u, 0.0), 1.0) * evidence.ROW_H, 1.0))
            assert bar.y + bar.h == pytest.approx(row.base_y)
    assert view.hi_exp - view.lo_exp <= evidence.MAX_DECADES
    assert view.legend[0][1] == f"≤ 1e{view.lo_exp}" and view.legend[-1][1] == f"1e{view.hi_exp}"
    assert [t for _, t in view.table_rows] == list(shown.members[0].run.labels)


def test_the_gated_cells_look_further_back_than_the_rnn(shown):
    rnn, lstm, gru = (row.values for row in shown.influence.rows)
    first = shown.marked[0]
    assert lstm[first] > 1e3 * rnn[first] and gru[first] > 1e3 * rnn[first]


def test_loss_chart_is_the_presets_training_curves(shown):
    for line, m in zip(shown.losses.lines, shown.members, strict=True):
        assert line.norms == m.meta["curve"]["loss"]
        assert line.loss is None
    xs = [x for x, _, _, _, _ in shown.losses.lines[0].marks]
    assert xs == sorted(xs) and xs[-1] == pytest.approx(evidence.LEFT + evidence.LOSS_W)
    assert [label for _, label in shown.losses.col_labels][:2] == ["0", "500"]


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path_factory.mktemp("data"))))


@pytest.mark.parametrize("path", ["/gradients", "/compare"])
def test_trained_pages_draw_the_three_charts_with_tables(client, path):
    html = client.get(path, params={"evidence": "adding", "seed": SEED, "t": 3}).text
    assert html.count('class="chart gradchart"') == (2 if path == "/gradients" else 1)
    assert 'class="chart ev-influence"' in html
    assert "/static/css/evidence.css" in html
    assert "trained on the adding problem</a>" in html
    assert re.search(r'aria-current="page">trained on the adding problem', html)
    assert 'data-steps="40"' in html and 'data-t="3"' in html
    assert html.count("<table") >= 3 and "Training loss every 50 steps" in html
    assert 'name="evidence" value="adding"' in html and 'id="f-seed"' in html
    assert "not used here" not in html


@pytest.mark.parametrize("path", ["/gradients", "/compare"])
def test_random_weights_stay_the_default_and_link_to_the_trained_ones(client, path):
    html = client.get(path).text
    assert 'class="chart ev-influence"' not in html
    assert re.search(r'aria-current="page">random, from the seed', html)
    assert re.search(rf'href="{path}\?[^"]*evidence=adding"', html)


def test_an_unknown_evidence_set_is_a_message_and_random_weights(client):
    r = client.get("/gradients", params={"evidence": "nope"})
    assert r.status_code == 200
    assert "Trained evidence must be one of adding" in r.text
    assert 'class="chart gradchart"' in r.text and 'class="chart ev-influence"' not in r.text


def test_htmx_swaps_push_the_trained_url_and_embeds_say_what_they_show(client):
    r = client.get("/compare", params={"evidence": "adding", "seed": "2"}, headers={"HX-Request": "true"})
    assert r.headers["HX-Push-Url"] == "/compare?seed=2&evidence=adding"
    embed = client.get("/embed/gradients", params={"evidence": "adding", "seed": "2"}).text
    assert "RNN, LSTM and GRU trained by one recipe, sequence 2" in embed


def test_missing_presets_fall_back_with_a_message(client, monkeypatch):
    def gone(name, seed):
        raise KeyError("the presets of the evidence set 'adding' are not installed")

    monkeypatch.setattr(evidence, "build", gone)
    html = client.get("/gradients", params={"evidence": "adding"}).text
    assert "The trained models are not available" in html
    assert 'class="chart gradchart"' in html
