"""The what-if page: its view-model against the API's what-if run, its URL round trip, its messages."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.schemas.requests import TraceRequest
from app.services.limits import Limits
from app.services.trace import run_trace
from app.settings import Settings
from app.web import cellview, whatif
from app.web.simulation import api_request, simulate
from app.web.state import ViewState
from app.wire.what_if_payload import what_if_section


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    data = Path(tmp_path_factory.mktemp("data"))
    return TestClient(create_app(Settings(data_dir=data, rate_limit_per_minute=0)), follow_redirects=False)


def _numbers(points: str) -> np.ndarray:
    return np.array([[float(v) for v in p.split(",")] for p in points.split()])


def test_the_page_draws_the_apis_what_if() -> None:
    """Changed steps, the ghost and the new line are those of POST /api/v1/trace with the same interventions."""
    sim = simulate(ViewState())
    page, errors = whatif.build(sim, "f@6=0", None, Limits())
    assert errors == []
    body = {**api_request(sim.state), "interventions": [{"kind": "clamp", "t": 6, "gate": "f", "value": 0.0}]}
    result = run_trace(TraceRequest.model_validate(body))
    section = what_if_section(result)
    assert section is not None
    assert list(page.changed_steps) == list(np.flatnonzero(section["difference"]["predicted_changed"]))
    assert page.changed_steps, "forgetting everything mid-sentence changes some guesses"
    assert [r.t for r in page.rows if r.changed] == list(page.changed_steps)
    ghost, new = page.charts[0].series
    assert ghost.key == "ghost" and new.key == "intervened"
    h_old = sim.trace.layers[0][0].h[:, 0, page.unit]
    h_new = result.trace.layers[0][0].h[:, 0, page.unit]
    # Same x for both; where the values agree (before step 6) the y agree, and they part from step 6 on.
    old_pts, new_pts = _numbers(ghost.points), _numbers(new.points)
    np.testing.assert_array_equal(old_pts[:, 0], new_pts[:, 0])
    np.testing.assert_array_equal(old_pts[:6, 1], new_pts[:6, 1])
    # Both lines are the values on one linear axis (y falls as the value rises), to the 0.1 px written.
    values = np.concatenate([h_old, h_new])
    ys = np.concatenate([old_pts[:, 1], new_pts[:, 1]])
    slope, offset = np.polyfit(values, ys, 1)
    assert slope < 0 and np.abs(slope * values + offset - ys).max() < 0.1
    assert not np.allclose(h_old[6:], h_new[6:])
    assert page.first_changed == 6
    assert all(b.y >= 0 and b.y + b.height <= page.bars_height for b in page.bars)
    assert page.bars[5].height == 0 and max(b.height for b in page.bars) > 0


def test_the_default_forgets_everything_where_it_changes_guesses(client: TestClient) -> None:
    page = client.get("/whatif")
    assert page.status_code == 200
    text = page.text
    assert "every unit" in text and "forget gate f" in text
    assert text.count('class="changed-mark"') >= 1
    assert 'class="series ghost"' in text and 'class="series intervened"' in text
    assert 'aria-current="page">What if…?' in text


def test_the_form_redirects_to_the_short_url_and_reload_keeps_it(client: TestClient) -> None:
    reply = client.get("/whatif?input=the+cat+sat&wt=c&wu=2&ws=4&wv=0.5&wx=a")
    assert reply.status_code == 303
    assert reply.headers["location"] == "/whatif?input=the+cat+sat&iv=c2@4=0.5"
    page = client.get(reply.headers["location"]).text
    assert "c_4[2] := 0.5" in page
    assert re.search(r'<option value="4" selected>', page)
    embed = client.get("/embed/whatif?wt=x&ws=1&wx=a")
    assert embed.headers["location"] == "/embed/whatif?iv=x@1=a"
    assert "x_1 := “a”" in client.get(embed.headers["location"]).text


def test_a_what_if_that_does_not_fit_says_why_and_changes_nothing(client: TestClient) -> None:
    page = client.get("/whatif?iv=r3@5=0,f3@99=0,q@1=0").text
    assert "What-if change 1 cannot be applied: an lstm cell has no gate" in page
    assert "target is a gate" in page
    assert "No change applied" in page
    assert 'class="changed-mark"' not in page
    assert "No change applied" in client.get("/whatif?iv=").text


def test_every_cell_and_the_numbers_mode_get_a_page(client: TestClient) -> None:
    for query in ("cell=gru", "cell=rnn", "hidden=3&layers=2&bi=1", "mode=numbers&input=1,2,3&iv=x@1=0.5"):
        page = client.get(f"/whatif?{query}")
        assert page.status_code == 200, query
        assert "What if</strong>" in page.text, query


def test_the_cell_view_links_to_its_what_if() -> None:
    sim = simulate(ViewState(t=3, unit=2, panel="cell"))
    assert cellview.build(sim).whatif_href == "/whatif?iv=f2@3=0"


def test_a_diverged_run_is_drawn_without_nan() -> None:
    old = np.array([0.5, np.inf, np.nan, -2.0])
    chart = whatif.line_chart("h", old, old * 2, ("a", "b", "c", "d"), 1)
    assert "nan" not in " ".join(s.points for s in chart.series) and "inf" not in chart.series[0].points


def test_each_steps_readout_holds_both_runs_numbers_of_the_drawn_unit(client) -> None:
    """The current-step panel: at every t, h_t[j] and c_t[j] of the original and the API's what-if run."""
    sim = simulate(ViewState())
    page, _ = whatif.build(sim, "f@6=0", None, Limits())
    body = {**api_request(sim.state), "interventions": [{"kind": "clamp", "t": 6, "gate": "f", "value": 0.0}]}
    new = run_trace(TraceRequest.model_validate(body)).trace.layers[0][0].quantities()
    old = sim.trace.layers[0][0].quantities()
    j = page.unit
    assert [r.t for r in page.readouts] == list(range(sim.steps))
    for r in page.readouts:
        by_name = {v.name: v for v in r.values}
        for key in ("h", "c"):
            v = by_name[f"{key}_{r.t}[{j}]"]
            a, b = float(old[key][r.t, 0, j]), float(new[key][r.t, 0, j])
            assert (v.original, v.intervened, v.delta) == (f"{a:.4f}", f"{b:.4f}", f"{b - a:+.4f}")
            assert v.changed == (a != b)
        assert r.intervened_here == (r.t == 6)
        assert not any(v.changed for v in r.values) or r.t >= 6  # nothing before the change moves
    html = client.get("/whatif?iv=f@6=0&t=7").text
    assert html.count('class="whatif-step is-current"') == 1 and 'data-t="7"' in html
    assert re.search(r'class="whatif-step is-current" data-t="7"', html)
