"""Training jobs: start, stream progress as SSE, cancel, and trace the stored result."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.services.limits import Limits
from app.services.training import LOST_AFTER_SECONDS, LOST_WORKER
from app.settings import Settings
from app.storage import open_database
from app.storage.jobs import JobStore


@pytest.fixture
def trainer_client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(limits=Limits(max_train_steps=40, max_train_seconds=20, max_training_jobs=1))


def parse_sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n") if not line.startswith(":"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def wait_until_finished(client: TestClient, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/training/{job_id}").json()
        if status["state"] not in ("queued", "running"):
            return status
        time.sleep(0.05)
    raise AssertionError("the training job did not finish within 60 s")


def test_train_stream_and_trace_the_result(trainer_client: TestClient) -> None:
    started = trainer_client.post(
        "/api/v1/training", json={"task": "sentiment", "settings": {"steps": 25, "seed": 3, "eval_every": 5}}
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    assert started.json()["settings"]["steps"] == 25
    with trainer_client.stream("GET", f"/api/v1/training/{job_id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(stream.read().decode())
    progress = [data for kind, data in events if kind == "progress"]
    assert [p["step"] for p in progress] == list(range(1, 26))
    assert progress[-1]["done"] and progress[-1]["reason"] in ("steps", "target")
    kind, end = events[-1]
    assert kind == "end" and end["state"] == "done" and end["result_id"]
    model = trainer_client.get(f"/api/v1/models/{end['result_id']}").json()
    assert model["meta"]["task"] == "sentiment" and model["meta"]["vocab"]
    trace = trainer_client.post(
        "/api/v1/trace",
        json={
            "weights": {"source": "stored", "id": end["result_id"]},
            "input": {"text": "the cake was good .", "tokenizer": "words"},
            "shape": "many_to_one",
        },
    )
    assert trace.status_code == 200, trace.text


def test_the_same_seed_trains_the_same_model(trainer_client: TestClient) -> None:
    body = {"task": "sine", "settings": {"steps": 5, "seed": 7}}
    ids = []
    for _ in range(2):
        job_id = trainer_client.post("/api/v1/training", json=body).json()["id"]
        ids.append(wait_until_finished(trainer_client, job_id)["result_id"])
    assert ids[0] == ids[1]


def test_cancel_stops_a_long_run(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits=Limits(max_train_steps=100_000, max_train_seconds=60))
    body = {"task": "chars", "settings": {"steps": 100_000, "seed": 1, "eval_every": 100_000}}
    job_id = client.post("/api/v1/training", json=body).json()["id"]
    cancelled = client.post(f"/api/v1/training/{job_id}/cancel")
    assert cancelled.status_code == 202
    final = wait_until_finished(client, job_id)
    assert final["state"] == "done" and final["last"]["reason"] == "stopped"
    assert final["steps_done"] < 100_000 and final["result_id"]


LONG_RUN = {"task": "chars", "settings": {"steps": 100_000, "seed": 1, "eval_every": 100_000}}
LONG = Limits(max_train_steps=100_000, max_train_seconds=60, max_training_jobs=3)


def wait_for(check: Callable[[], bool], bound_s: float = 20.0) -> None:
    deadline = time.monotonic() + bound_s
    while not check():
        assert time.monotonic() < deadline, "not within the bound"
        time.sleep(0.05)


def test_the_limit_on_jobs_at_once_counts_every_worker(make_client: Callable[..., TestClient]) -> None:
    a, b = (make_client(limits=replace(LONG, max_training_jobs=2)) for _ in range(2))
    first = a.post("/api/v1/training", json=LONG_RUN).json()
    second = b.post("/api/v1/training", json=LONG_RUN).json()
    assert first["state"] == second["state"] == "running"  # each worker had a free slot
    for client in (a, b):  # neither worker runs two, yet both are full: the limit is the store's
        refused = client.post("/api/v1/training", json={"task": "sine", "settings": {"steps": 2}})
        assert refused.status_code == 429 and refused.headers["retry-after"] == "5"
        assert "2 training runs are queued or in progress" in refused.json()["detail"]
    a.post(f"/api/v1/training/{first['id']}/cancel")
    wait_until_finished(a, first["id"])
    again = b.post("/api/v1/training", json={"task": "sine", "settings": {"steps": 2}})
    assert again.status_code == 202, again.text
    b.post(f"/api/v1/training/{second['id']}/cancel")


def test_a_job_started_on_a_full_worker_is_run_by_another(make_client: Callable[..., TestClient]) -> None:
    a = make_client(limits=LONG, training_threads=1)
    with make_client(limits=LONG, training_threads=1) as b:  # b's lifespan starts its claimer
        busy = a.post("/api/v1/training", json=LONG_RUN).json()
        assert busy["state"] == "running", busy
        queued = a.post("/api/v1/training", json={"task": "sentiment", "settings": {"steps": 25, "seed": 3}})
        assert queued.status_code == 202 and queued.json()["state"] in ("queued", "running")
        job_id = queued.json()["id"]
        with a.stream("GET", f"/api/v1/training/{job_id}/events") as stream:  # waits while queued
            events = parse_sse(stream.read().decode())
        assert [data["step"] for kind, data in events if kind == "progress"] == list(range(1, 26))
        assert events[-1][0] == "end" and events[-1][1]["state"] == "done" and events[-1][1]["result_id"]
        still = a.get(f"/api/v1/training/{busy['id']}").json()
        assert still["state"] == "running", still  # so a never had a free slot for the queued job
        rows = a.app.state.jobs.shared
        assert rows.load(job_id)["worker"] == b.app.state.jobs.worker and job_id in b.app.state.jobs.jobs
        assert rows.load(busy["id"])["worker"] == a.app.state.jobs.worker and job_id not in a.app.state.jobs.jobs
        a.post(f"/api/v1/training/{busy['id']}/cancel")
        assert wait_until_finished(b, busy["id"])["last"]["reason"] == "stopped"


def test_a_queued_job_waits_for_a_slot_and_cancelling_it_fails_it(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits=LONG, training_threads=1)  # the only worker, one slot
    busy = client.post("/api/v1/training", json=LONG_RUN).json()
    waiting = client.post("/api/v1/training", json={"task": "sine", "settings": {"steps": 5}}).json()
    time.sleep(1.0)  # two of the claimer's polls: it has no slot to claim the job with
    status = client.get(f"/api/v1/training/{waiting['id']}").json()
    assert status["state"] == "queued" and status["steps_done"] == 0 and status["error"] is None
    cancelled = client.post(f"/api/v1/training/{waiting['id']}/cancel").json()
    assert cancelled["state"] == "failed" and "cancelled while queued" in cancelled["error"]
    with client.stream("GET", f"/api/v1/training/{waiting['id']}/events") as stream:
        assert parse_sse(stream.read().decode()) == [("end", cancelled)]

    # A job queued behind the busy one starts in the slot the busy one frees.
    next_up = client.post("/api/v1/training", json={"task": "sine", "settings": {"steps": 5}}).json()
    assert next_up["state"] == "queued"
    client.post(f"/api/v1/training/{busy['id']}/cancel")
    assert wait_until_finished(client, next_up["id"])["state"] == "done"


def test_racing_claimers_claim_each_job_exactly_once(settings: Settings) -> None:
    stores = [JobStore(open_database(settings)) for _ in range(4)]  # four processes' connections
    ids = [f"{k:032x}" for k in range(40)]
    for k, job_id in enumerate(ids):
        row = {"id": job_id, "task": "sine", "options": {}, "settings": {}, "model": {}, "created": 1000.0 + k}
        assert stores[0].enqueue(row, 100, None, LOST_AFTER_SECONDS, "lost") == k
    claimed: dict[int, list[str]] = {n: [] for n in range(len(stores))}

    def claimer(n: int) -> None:
        while (row := stores[n].claim(f"worker-{n}")) is not None:
            claimed[n].append(row["id"])

    with ThreadPoolExecutor(len(stores)) as pool:
        list(pool.map(claimer, range(len(stores))))
    every = [job_id for taken in claimed.values() for job_id in taken]
    assert sorted(every) == ids  # each job once: none twice, none left
    for n, taken in claimed.items():
        assert taken == sorted(taken)  # each claimer got the oldest queued job each time
        assert all(stores[0].load(job_id)["worker"] == f"worker-{n}" for job_id in taken)
        assert all(stores[0].load(job_id)["state"] == "running" for job_id in taken)


def test_workers_racing_for_the_last_places_never_pass_the_limit(settings: Settings) -> None:
    stores = [JobStore(open_database(settings)) for _ in range(4)]  # four processes' connections
    start = threading.Barrier(len(stores))

    def enqueue(n: int) -> list[int]:
        start.wait()
        found = []
        for k in range(5):
            row = {"id": f"{n}{k:031x}", "task": "sine", "options": {}, "settings": {}, "model": {}}
            found.append(stores[n].enqueue(row, 7, None if k % 2 else f"worker-{n}", LOST_AFTER_SECONDS, "lost"))
        return found

    with ThreadPoolExecutor(len(stores)) as pool:
        counts = [c for found in pool.map(enqueue, range(len(stores))) for c in found]
    accepted = sorted(c for c in counts if c < 7)
    assert accepted == list(range(7))  # each count seen once: no two inserts read the same count
    with stores[0].db.connect() as db:
        assert db.execute("SELECT COUNT(*) FROM training_jobs").fetchone()[0] == 7


@pytest.mark.parametrize(
    ("body", "status", "loc"),
    [
        ({"task": "no-such-task"}, 404, None),
        ({"task": "sentiment", "settings": {"steps": 41}}, 422, ["body", "settings", "steps"]),
        ({"task": "sentiment", "settings": {"lr": -1.0}}, 422, ["body", "settings", "lr"]),
        ({"task": "sentiment", "settings": {"steps": True}}, 422, ["body", "settings", "steps"]),
        ({"task": "adding", "options": {"lag": "long"}}, 422, ["body", "options"]),
        ({"task": "adding", "options": {"colour": 1}}, 422, ["body", "options"]),
        ({"task": "sentiment", "extra": 1}, 422, ["body", "extra"]),
    ],
)
def test_bad_training_requests(trainer_client: TestClient, body: dict, status: int, loc: list | None) -> None:
    response = trainer_client.post("/api/v1/training", json=body)
    assert response.status_code == status, response.text
    if loc is not None:
        assert response.json()["detail"][0]["loc"] == loc


def test_unknown_jobs_are_404(trainer_client: TestClient) -> None:
    missing = "0" * 32
    assert trainer_client.get(f"/api/v1/training/{missing}").status_code == 404
    assert trainer_client.get(f"/api/v1/training/{missing}/events").status_code == 404
    assert trainer_client.post(f"/api/v1/training/{missing}/cancel").status_code == 404
    assert trainer_client.get("/api/v1/training/not-an-id").status_code == 422


def test_null_settings_mean_defaults_and_null_clip_norm_means_no_clipping(trainer_client: TestClient) -> None:
    body = {"task": "sine", "settings": {"steps": None, "lr": None, "clip_norm": None, "seed": 2}}
    response = trainer_client.post("/api/v1/training", json=body)
    assert response.status_code == 202, response.text
    settings = response.json()["settings"]
    assert settings["clip_norm"] is None and settings["lr"] > 0 and settings["steps"] == 40
    wait_until_finished(trainer_client, response.json()["id"])


def test_any_worker_follows_and_cancels_a_job_another_runs(make_client: Callable[..., TestClient]) -> None:
    # Two app instances on one SQLite file stand for two worker processes behind a load balancer.
    limits = Limits(max_train_steps=100_000, max_train_seconds=60)
    runner, other = make_client(limits=limits), make_client(limits=limits)
    body = {"task": "sentiment", "settings": {"steps": 25, "seed": 3, "eval_every": 5}}
    job_id = runner.post("/api/v1/training", json=body).json()["id"]
    assert job_id not in other.app.state.jobs.jobs  # nothing in the other worker's memory
    with other.stream("GET", f"/api/v1/training/{job_id}/events") as stream:
        events = parse_sse(stream.read().decode())
    assert [data["step"] for kind, data in events if kind == "progress"] == list(range(1, 26))
    kind, end = events[-1]
    assert kind == "end" and end["state"] == "done" and end["steps_done"] == 25
    assert end["result_id"] == runner.get(f"/api/v1/training/{job_id}").json()["result_id"]
    assert other.get(f"/api/v1/training/{job_id}").json() == runner.get(f"/api/v1/training/{job_id}").json()

    long_run = {"task": "chars", "settings": {"steps": 100_000, "seed": 1, "eval_every": 100_000}}
    job_id = runner.post("/api/v1/training", json=long_run).json()["id"]
    assert other.post(f"/api/v1/training/{job_id}/cancel").status_code == 202
    final = wait_until_finished(other, job_id)
    assert final["state"] == "done" and final["last"]["reason"] == "stopped" and final["steps_done"] < 100_000
    assert wait_until_finished(runner, job_id)["steps_done"] == final["steps_done"]


DEAD, OLD, LIVE = "dead0" + "0" * 27, "01d0" + "0" * 28, "11fe" + "0" * 28


def _orphan_job(client: TestClient, job_id: str, heartbeat: float | None) -> None:
    """A 'running' row as a worker leaves it when it is killed mid-run, last heard of at ``heartbeat``."""
    shared = client.app.state.jobs.shared
    row = {"id": job_id, "task": "chars", "options": {}, "settings": {"steps": 10}, "model": {}}
    assert shared.enqueue(row, 100, "gone:1:dead", LOST_AFTER_SECONDS, LOST_WORKER) < 100
    shared.append_progress(job_id, 0, [{"step": 1, "loss": 2.5}])
    with shared.db.connect() as db:
        db.execute("UPDATE training_jobs SET heartbeat = ? WHERE id = ?", (heartbeat, job_id))


def test_a_job_whose_worker_died_is_reported_failed(make_client: Callable[..., TestClient]) -> None:
    other = make_client()
    _orphan_job(other, DEAD, time.time() - LOST_AFTER_SECONDS - 5)
    status = other.get(f"/api/v1/training/{DEAD}").json()
    assert status["state"] == "failed" and "stopped before it finished" in status["error"]
    assert status["steps_done"] == 1  # the progress it did write is kept
    with other.stream("GET", f"/api/v1/training/{DEAD}/events") as stream:
        events = parse_sse(stream.read().decode())
    assert events[-1][0] == "end" and events[-1][1]["state"] == "failed"

    # A job from a file written before heartbeats existed has none: it is given up as well.
    _orphan_job(other, OLD, None)
    assert other.get(f"/api/v1/training/{OLD}").json()["state"] == "failed"


def test_a_dead_workers_job_holds_no_place_and_is_swept_unread(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits=replace(LONG, max_training_jobs=1))
    _orphan_job(client, DEAD, time.time() - LOST_AFTER_SECONDS - 5)
    started = client.post("/api/v1/training", json={"task": "sine", "settings": {"steps": 2}})
    assert started.status_code == 202, started.text  # the dead run was failed, not counted
    assert client.app.state.jobs.shared.load(DEAD)["state"] == "failed"
    wait_until_finished(client, started.json()["id"])

    other = make_client()
    _orphan_job(other, OLD, time.time() - LOST_AFTER_SECONDS - 5)
    other.app.state.jobs.open()  # its claimer sweeps at once, though nobody asks about the job
    wait_for(lambda: other.app.state.jobs.shared.load(OLD)["state"] == "failed")
    assert other.app.state.jobs.shared.load(OLD)["error"] == LOST_WORKER


def test_a_job_whose_worker_is_alive_stays_running(make_client: Callable[..., TestClient]) -> None:
    other = make_client()
    _orphan_job(other, LIVE, time.time())
    status = other.get(f"/api/v1/training/{LIVE}").json()
    assert status["state"] == "running" and status["error"] is None


def test_the_job_file_gains_the_heartbeat_column(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # the table as the first release created it
        db.execute(
            "CREATE TABLE training_jobs (id TEXT PRIMARY KEY, task TEXT NOT NULL, options TEXT NOT NULL, "
            "settings TEXT NOT NULL, model TEXT NOT NULL, created REAL NOT NULL, state TEXT NOT NULL, "
            "result_id TEXT, error TEXT, cancel INTEGER NOT NULL DEFAULT 0)"
        )
        db.execute("INSERT INTO training_jobs VALUES ('old', 'chars', '{}', '{}', '{}', 0, 'done', 'abc', NULL, 0)")
    db.close()
    store = JobStore(open_database(path))
    JobStore(open_database(path))  # opening it again (another worker) changes nothing
    row = store.load("old")
    assert row is not None and row["state"] == "done" and row["heartbeat"] is None and row["worker"] is None
