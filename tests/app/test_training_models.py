"""Training a chosen model: the cell and sizes of POST /training's ``model``, their checks, and the result."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app.services.limits import Limits


@pytest.fixture
def trainer_client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(
        limits=Limits(max_train_steps=40, max_train_seconds=20, max_training_jobs=2, max_hidden_size=64)
    )


def wait_until_finished(client: TestClient, job_id: str) -> dict:
    deadline = time.monotonic() + 60  # only keeps a broken run from hanging the suite
    while (status := client.get(f"/api/v1/training/{job_id}").json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, "the training job did not finish within 60 s"
        time.sleep(0.05)
    return status


def train(client: TestClient, task: str, model: dict, steps: int = 3) -> dict:
    body = {"task": task, "model": model, "settings": {"steps": steps}}
    started = client.post("/api/v1/training", json=body)
    assert started.status_code == 202, started.text
    assert started.json()["model"] == model
    return wait_until_finished(client, started.json()["id"])


def test_an_rnn_and_an_lstm_on_the_adding_problem_are_stored_as_what_was_asked(
    trainer_client: TestClient,
) -> None:
    rnn = train(trainer_client, "adding", {"cell": "rnn", "hidden_size": 12, "num_layers": 2})
    lstm = train(trainer_client, "adding", {})
    assert rnn["state"] == lstm["state"] == "done"
    rnn_model = trainer_client.get(f"/api/v1/models/{rnn['result_id']}").json()
    lstm_model = trainer_client.get(f"/api/v1/models/{lstm['result_id']}").json()
    assert (rnn_model["config"]["cell"], rnn_model["config"]["hidden_size"]) == ("rnn", 12)
    assert rnn_model["config"]["num_layers"] == 2
    assert rnn_model["meta"]["model"] == {"cell": "rnn", "hidden_size": 12, "num_layers": 2}
    assert (lstm_model["config"]["cell"], lstm_model["config"]["hidden_size"]) == ("lstm", 16)


def test_a_seq2seq_task_trains_with_another_cell_and_hidden_size(trainer_client: TestClient) -> None:
    done = train(trainer_client, "reverse", {"cell": "lstm", "hidden_size": 8}, steps=2)
    assert done["state"] == "done", done["error"]
    stored = trainer_client.get(f"/api/v1/models/{done['result_id']}").json()
    assert stored["kind"] == "seq2seq"
    assert (stored["config"]["cell"], stored["config"]["hidden_size"]) == ("lstm", 8)
    assert stored["meta"]["target_vocab"][:3] == ["<pad>", "<start>", "<end>"]


@pytest.mark.parametrize(
    ("task", "model", "loc", "words"),
    [
        ("adding", {"cell": "transformer"}, ["body", "model", "cell"], "rnn"),
        ("adding", {"hidden_size": 0}, ["body", "model", "hidden_size"], "greater than or equal"),
        ("adding", {"hidden_size": 65}, ["body", "model", "hidden_size"], "UNROLLED_MAX_HIDDEN_SIZE"),
        ("adding", {"num_layers": 5}, ["body", "model", "num_layers"], "UNROLLED_MAX_LAYERS"),
        ("adding", {"hidden_size": True}, ["body", "model", "hidden_size"], "integer"),
        ("reverse", {"num_layers": 2}, ["body", "model", "num_layers"], "cell, hidden_size"),
        ("reverse", {"hidden_size": 65}, ["body", "model", "hidden_size"], "UNROLLED_MAX_HIDDEN_SIZE"),
        ("adding", {"dropout": 0.5}, ["body", "model", "dropout"], "xtra"),
    ],
)
def test_a_model_outside_what_the_task_or_server_allows_is_a_422_naming_the_field(
    trainer_client: TestClient, task: str, model: dict, loc: list[str], words: str
) -> None:
    reply = trainer_client.post("/api/v1/training", json={"task": task, "model": model})
    assert reply.status_code == 422, reply.text
    detail = reply.json()["detail"]
    assert any(item["loc"][: len(loc)] == loc and words in item["msg"] for item in detail), detail
