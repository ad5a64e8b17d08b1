"""Health, readiness, the catalogue endpoints and the OpenAPI schema."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/api/v1/health").json() == {"status": "ok"}
    ready = client.get("/api/v1/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "stored_models": 0}


def test_health_and_ready_answer_head_probes_without_a_body(client: TestClient) -> None:
    for path in ("/api/v1/health", "/api/v1/ready"):
        response = client.head(path)
        assert response.status_code == 200, path
        assert response.content == b""


@pytest.mark.sqlite_only
def test_ready_reports_an_unreadable_store_as_503(client: TestClient) -> None:
    client.app.state.database.path.unlink()
    client.app.state.database.path.mkdir()  # a directory where the database file should be
    response = client.get("/api/v1/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_cells_list_every_quantity_core_records(client: TestClient) -> None:
    cells = {c["name"]: c for c in client.get("/api/v1/cells").json()}
    assert set(cells) == {"rnn", "lstm", "gru"}
    assert cells["lstm"]["gates"] == ["i", "f", "g", "o"]
    assert {"i", "f", "g", "o", "c", "h", "h_prev", "c_prev", "i_pre"} <= set(cells["lstm"]["quantities"])
    assert cells["gru"]["quantities"][:3] == ["r_pre", "z_pre", "n_pre"]
    assert cells["lstm"]["default_quantities"] == ["i", "f", "g", "o", "c", "h"]
    assert cells["gru"]["default_quantities"] == ["r", "z", "n", "h"]
    assert cells["rnn"]["default_quantities"] == ["h"]
    assert cells["rnn"]["nonlinearities"] == ["tanh", "sigmoid", "relu"]


def test_activations_limits_tasks_presets(client: TestClient) -> None:
    acts = client.get("/api/v1/activations").json()
    assert acts["output_activations"] == ["identity", "softmax"]
    limits = client.get("/api/v1/limits").json()
    assert limits["max_steps"] == 1000 and limits["max_body_bytes"] == 2 * 1024 * 1024
    tasks = client.get("/api/v1/tasks").json()
    assert any(t["name"] == "sentiment" for t in tasks)
    presets = client.get("/api/v1/presets").json()
    assert {"name", "config", "task"} <= set(presets[0])


def test_openapi_is_served_and_docs_need_no_cdn(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    trace = schema["paths"]["/api/v1/trace"]["post"]
    assert {"200", "400", "413", "422", "429"} <= set(trace["responses"])
    request_schema = schema["components"]["schemas"]["TraceRequest"]
    assert request_schema["examples"], "the trace request documents examples"
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
