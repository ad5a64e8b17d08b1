"""The Training view: form parsing, the curve geometry, the step-through link, and runs started, watched and
stopped through the server's training jobs."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from training_runs import job_of, wait_for_end

from app.main import create_app
from app.web import training
from app.web.training import TrainForm, chart, parse, step_through_link, thinned


@pytest.fixture(scope="module")
def client(tmp_path_factory, monkeypatch_module) -> TestClient:
    monkeypatch_module.setenv("UNROLLED_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    return TestClient(create_app())


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_parse_reads_the_form_and_reports_bad_values():
    form, errors = parse({"task": "reverse", "seed": "3", "steps": "40", "job": "a" * 32})
    assert (form, errors) == (TrainForm("reverse", 3, 40, "a" * 32), [])
    form, errors = parse({"task": "nope", "seed": "-1", "steps": "0", "job": "x"})
    assert form == TrainForm()
    assert len(errors) == 4
    _, errors = parse({"steps": str(training.MAX_STEPS + 1)})
    assert errors
    assert TrainForm("reverse", 3).query() == "task=reverse&seed=3"


def test_chart_maps_steps_and_values_into_the_plot_box():
    c = chart("loss", [1, 50, 100], [2.0, 1.0, 0.5], planned=200, marks=True)
    x0, y0, x1, y1 = c.box
    points = [tuple(map(float, p.split(","))) for p in c.points.split()]
    assert [x for x, _ in points] == sorted(x for x, _ in points)
    assert points[-1][0] == pytest.approx(x0 + (x1 - x0) * 100 / 200, abs=0.1)  # the axis spans the plan
    assert points[0][1] == pytest.approx(y0)  # the largest loss touches the top
    assert all(y0 <= y <= y1 for _, y in points)
    assert c.y_ticks[0] == (y1, "0")  # the axis starts at zero
    assert len(c.marks) == 3 and c.marks[0][2] == "step 1: 2"
    empty = chart("metric", [], [], planned=10, marks=True)
    assert empty.points == "" and empty.marks == ()
    nan = chart("loss", [1, 2], [float("nan"), 1.0], planned=2, marks=False)
    assert len(nan.points.split()) == 1


def test_thinned_keeps_at_most_the_budget_and_the_last_record():
    records = [{"step": k} for k in range(1, 1001)]
    kept = thinned(records)
    assert len(kept) <= training.MAX_POINTS + 1
    assert kept[0]["step"] == 1 and kept[-1]["step"] == 1000
    assert thinned(records[:5]) == records[:5]


def test_step_through_link_opens_the_tasks_preset():
    assert step_through_link("translation")[0] == "/seq2seq?preset=translation"
    assert step_through_link("sentiment")[0] == "/?preset=sentiment"
    link = step_through_link("points")[0]
    assert link in ("/?preset=points", "/presets/points")


def test_form_page_lists_every_task(client):
    page = client.get("/train", params={"task": "reverse"})
    assert page.status_code == 200
    task_select = page.text.split('id="t-task"', 1)[1].split("</select>", 1)[0]
    assert task_select.count("<option value=") == len(training.tasks())
    assert '<option value="reverse" selected>' in page.text
    assert "encoder-decoder with a GRU cell" in page.text


def test_a_run_starts_streams_and_finishes(client):
    start = client.post("/train", data={"task": "sine", "seed": "2", "steps": "30"}, follow_redirects=False)
    assert start.status_code == 303
    job = job_of(start.headers["location"])
    assert start.headers["location"].startswith("/train?task=sine&seed=2&steps=30&job=")
    status = wait_for_end(client, job)
    assert status["state"] == "done" and status["steps_done"] == 30
    events = client.get(f"/api/v1/training/{job}/events").text
    assert events.count("event: progress") == 30 and "event: end" in events
    live = client.get("/train/live", params={"job": job})
    assert live.status_code == 200
    assert "Finished after 30 steps" in live.text
    assert 'href="/?preset=sine"' in live.text
    rows = re.findall(r"<tr><th scope=\"row\">(\d+)</th>", live.text)
    assert rows[-1] == "30"
    page = client.get(start.headers["location"])
    assert 'id="t-stop"' not in page.text and "polyline" in page.text


def test_stop_ends_a_run_early(client):
    form = {"task": "chars", "steps": "2000", "until": "steps"}  # not ended by the target before the Stop
    start = client.post("/train", data=form, follow_redirects=False)
    job = job_of(start.headers["location"])
    stop = client.post("/train/stop", data={**form, "job": job}, follow_redirects=False)
    assert stop.status_code == 303 and job in stop.headers["location"] and "until=steps" in stop.headers["location"]
    status = wait_for_end(client, job)
    assert status["last"]["reason"] == "stopped"
    assert status["steps_done"] < 2000


def test_a_queued_run_says_it_waits_and_can_be_stopped(tmp_path):
    from app.services.training import LOST_AFTER_SECONDS
    from app.settings import Settings

    app = create_app(Settings(data_dir=tmp_path, rate_limit_per_minute=0))  # its claimer is not started
    job = "9" * 32
    row = {"id": job, "task": "sine", "options": {}, "settings": {"steps": 30}, "model": {}}
    app.state.jobs.shared.enqueue(row, 10, None, LOST_AFTER_SECONDS, "lost")
    page = TestClient(app).get("/train", params={"task": "sine", "steps": "30", "job": job}).text
    assert 'data-state="queued"' in page and 'id="t-stop"' in page
    assert "Waiting for a free training slot" in page


def test_stop_at_chooses_whether_the_target_ends_a_run(client):
    """"Stop at: the step budget only" trains past the task's target; the choice stays in the URL and the form."""
    for until, stops_at_target in (("target", True), ("steps", False)):
        start = client.post("/train", data={"task": "sine", "steps": "30", "until": until}, follow_redirects=False)
        location = start.headers["location"]
        assert ("until=steps" in location) is (until == "steps")
        status = wait_for_end(client, job_of(location))
        assert status["settings"]["stop_at_target"] is stops_at_target
        page = client.get(location).text
        assert re.search(rf'<option value="{until}" selected>', page)
    refused = client.post("/train", data={"task": "sine", "until": "forever"})
    assert refused.status_code == 422 and "Stop at must be" in refused.text


def test_bad_start_is_refused_with_the_reasons(client):
    page = client.post("/train", data={"task": "sine", "steps": "99999"})
    assert page.status_code == 422
    assert "Steps must be a whole number" in page.text
    assert client.get("/train/live", params={"job": "0" * 32}).status_code == 404
    gone = client.get("/train", params={"job": "0" * 32})
    assert "not on this server any more" in gone.text


def test_the_embed_form_trains_and_stops_under_embed_and_links_to_embed_forms(client):
    page = client.get("/embed/train", params={"task": "sine", "steps": "20"})
    assert page.status_code == 200
    assert "frame-ancestors 'self'" in page.headers["content-security-policy"]
    assert 'action="/embed/train"' in page.text and 'class="embed-bar"' in page.text
    assert 'href="/train?task=sine&amp;steps=20"' in page.text  # "open in a new tab": the full page
    start = client.post("/embed/train", data={"task": "sine", "seed": "2", "steps": "20"}, follow_redirects=False)
    assert start.status_code == 303 and start.headers["location"].startswith("/embed/train?task=sine&seed=2")
    job = job_of(start.headers["location"])
    assert wait_for_end(client, job)["state"] == "done"
    run = client.get(start.headers["location"]).text
    assert 'data-embed="1"' in run and 'href="/embed?preset=sine"' in run
    assert re.search(r'href="/embed\?model=[0-9a-f]{64}" id="t-step-through"', run)
    live = client.get("/train/live", params={"job": job, "embed": "1"}).text
    assert 'href="/embed?preset=sine"' in live and 'href="/?' not in live

    long_run = client.post("/embed/train", data={"task": "chars", "steps": "2000"}, follow_redirects=False)
    job = job_of(long_run.headers["location"])
    stop = client.post("/embed/train/stop", data={"job": job, "task": "chars"}, follow_redirects=False)
    assert stop.status_code == 303 and stop.headers["location"].startswith("/embed/train?")
    assert wait_for_end(client, job)["last"]["reason"] == "stopped"
