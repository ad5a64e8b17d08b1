"""POST /trace and /gradients with ``interventions``: 422s that point at the caller's field, the same numbers as
core, gradients of the intervened run by central differences, and the ``what_if`` block."""

from __future__ import annotations

import json

import numpy as np
import pytest
from app_bodies import lstm_request
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.schemas.requests import TraceRequest
from app.services.limits import Limits
from app.services.trace import run_trace
from core.interventions import Clamp
from core.network import forward

CLAMP = {"kind": "clamp", "t": 2, "gate": "f", "unit": 1, "value": 0.0}


def _loc(response) -> list:
    assert response.status_code == 422, response.text
    return response.json()["detail"][0]["loc"]


@pytest.mark.parametrize(
    ("cell", "item", "field"),
    [
        ("lstm", {**CLAMP, "gate": "r"}, "gate"),
        ("rnn", CLAMP, "gate"),
        ("gru", {"kind": "set", "t": 1, "state": "c", "unit": 0, "value": 0.5}, "state"),
        ("lstm", {**CLAMP, "t": 4}, "t"),
        ("lstm", {**CLAMP, "unit": 3}, "unit"),
        ("lstm", {**CLAMP, "layer": 1}, "layer"),
        ("lstm", {**CLAMP, "direction": "reverse"}, "direction"),
        ("lstm", {**CLAMP, "value": 1.5}, "value"),
        ("lstm", {"kind": "set", "t": 1, "state": "h", "values": [0.0, 1.0]}, "values"),
        ("lstm", {"kind": "set", "t": 1, "state": "h", "unit": 2, "values": [0.0, 1.0, 2.0]}, "values"),
        ("lstm", {"kind": "set", "t": 1, "state": "h", "unit": 2}, "value"),
        ("lstm", {"kind": "input", "t": 1, "token": 3}, "vector"),
        ("lstm", {"kind": "input", "t": 1, "vector": [1.0]}, "vector"),
        ("lstm", {"kind": "input", "t": 1}, "token"),
        ("lstm", {**CLAMP, "gate": "f" * 9}, "gate"),
        ("lstm", {**CLAMP, "colour": "red"}, "colour"),
    ],
)
def test_a_bad_intervention_gets_a_422_at_its_field(
    client: TestClient, cell: str, item: dict, field: str
) -> None:
    body = lstm_request(interventions=[{"kind": "set", "t": 0, "state": "h", "value": 0.0}, item])
    body["model"]["cell"] = cell
    for path in ("/api/v1/trace", "/api/v1/gradients"):
        extra = {"targets": [0, 1, 0, 1]} if path.endswith("gradients") else {}
        loc = _loc(client.post(path, json={**body, **extra}))
        assert loc[:3] == ["body", "interventions", 1]
        assert loc[-1] == field or (field == "values" and loc[3] == "values")


def test_a_token_intervention_names_its_token(client: TestClient) -> None:
    body = {
        "model": {"cell": "gru", "hidden_size": 3, "vocab": ["a", "b", "c"]},
        "input": {"text": "abc"},
        "interventions": [{"kind": "input", "t": 0, "token": "z"}],
    }
    assert _loc(client.post("/api/v1/trace", json=body)) == ["body", "interventions", 0, "token"]
    body["interventions"] = [{"kind": "input", "t": 0, "token": 7}]
    assert _loc(client.post("/api/v1/trace", json=body)) == ["body", "interventions", 0, "token"]


def test_a_missing_or_unknown_kind_points_at_the_item(client: TestClient) -> None:
    for item in ({"t": 0}, {"kind": "nudge", "t": 0}):
        loc = _loc(client.post("/api/v1/trace", json=lstm_request(interventions=[item])))
        assert loc[:3] == ["body", "interventions", 0]


@pytest.mark.parametrize("literal", ["NaN", "Infinity"])
def test_non_finite_values_are_refused(client: TestClient, literal: str) -> None:
    raw = json.dumps(lstm_request(interventions=[{**CLAMP, "value": 0.125}])).replace("0.125", literal)
    response = client.post("/api/v1/trace", content=raw, headers={"content-type": "application/json"})
    assert _loc(response) == ["body", "interventions", 0, "clamp", "value"]


def test_the_count_is_bounded_by_the_limits(make_client) -> None:
    client = make_client(limits=Limits(max_interventions=2))
    items = [{**CLAMP, "unit": u} for u in range(3)]
    response = client.post("/api/v1/trace", json=lstm_request(interventions=items))
    assert _loc(response) == ["body", "interventions"]
    assert "UNROLLED_MAX_INTERVENTIONS" in response.text
    assert client.post("/api/v1/trace", json=lstm_request(interventions=items[:2])).status_code == 200


def test_generation_takes_no_interventions(client: TestClient) -> None:
    body = lstm_request(input={"vectors": [[0.5, -1.0]]}, shape="one_to_many", interventions=[CLAMP])
    body["model"]["output_size"] = 2
    assert _loc(client.post("/api/v1/trace", json=body)) == ["body", "interventions"]


def test_a_clamp_gives_the_numbers_core_gives(client: TestClient) -> None:
    body = lstm_request(interventions=[CLAMP], precision=17)
    reply = client.post("/api/v1/trace", json=body).json()
    model = run_trace(TraceRequest.model_validate(lstm_request())).model
    x = np.array(body["input"]["vectors"])
    want = forward(model.params, model.config, x, interventions=[Clamp(2, "f", 1, 0.0)])
    got = reply["layers"][0]["quantities"]
    np.testing.assert_array_equal(np.array(got["f"]), want.layers[0][0].quantities(("f",))["f"][:, 0])
    np.testing.assert_array_equal(np.array(got["h"]), want.layers[0][0].h[:, 0])
    assert got["f"][2][1] == 0.0
    plain = forward(model.params, model.config, x)
    original = reply["what_if"]["original"]
    np.testing.assert_array_equal(
        np.array(original["layers"][0]["quantities"]["c"]), plain.layers[0][0].c[:, 0]
    )
    np.testing.assert_array_equal(np.array(original["output"]["y"]), plain.logits[:, 0])


def test_what_if_says_where_the_runs_part(client: TestClient) -> None:
    reply = client.post("/api/v1/trace", json=lstm_request(interventions=[CLAMP])).json()
    difference = reply["what_if"]["difference"]
    assert difference["first_changed"] == 2
    assert difference["h"][0][:2] == [0.0, 0.0] and difference["h"][0][2] > 0
    assert len(difference["y"]) == len(difference["predicted_changed"]) == 4
    plain = client.post("/api/v1/trace", json=lstm_request()).json()
    assert "what_if" not in plain
    assert reply["what_if"]["original"]["output"] == plain["output"]


def test_a_batch_applies_the_interventions_to_each_sequence(client: TestClient) -> None:
    vectors = lstm_request()["input"]["vectors"]
    body = lstm_request(interventions=[CLAMP])
    del body["input"]
    body["inputs"] = [{"vectors": vectors}, {"vectors": vectors[::-1]}]
    traces = client.post("/api/v1/trace", json=body).json()["traces"]
    single = client.post("/api/v1/trace", json=lstm_request(interventions=[CLAMP])).json()
    assert traces[0] == single
    assert traces[1]["layers"][0]["quantities"]["f"][2][1] == 0.0


def test_gradients_through_an_intervened_run_match_central_differences(client: TestClient) -> None:
    """dL/dx_t from /gradients against (L(x + e) - L(x - e)) / 2e, every L also from /gradients, with an
    f clamp and an h overwrite in the run: the clamped numbers pass no gradient upstream."""
    interventions = [CLAMP, {"kind": "set", "t": 1, "state": "h", "unit": 0, "value": 0.3}]
    targets = [[0.5, -0.5], [0.0, 1.0], [1.0, 0.0], [-1.0, 0.25]]

    def gradients(vectors: list[list[float]]) -> dict:
        body = lstm_request(
            input={"vectors": vectors},
            interventions=interventions,
            targets=targets,
            loss="mse",
            precision=17,
            include_jacobian=False,
        )
        response = client.post("/api/v1/gradients", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    x = lstm_request()["input"]["vectors"]
    analytic = np.array(gradients(x)["d_input"]["values"])
    eps = 1e-6
    numeric = np.zeros_like(analytic)
    for t in range(len(x)):
        for i in range(len(x[0])):
            up = [row[:] for row in x]
            down = [row[:] for row in x]
            up[t][i] += eps
            down[t][i] -= eps
            numeric[t, i] = (gradients(up)["loss"] - gradients(down)["loss"]) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)
    assert np.abs(analytic).sum() > 0


_names = st.sampled_from(["i", "f", "g", "o", "r", "z", "n", "h", "c", "x"])
_where = {
    "t": st.integers(0, 6),
    "layer": st.integers(0, 2),
    "direction": st.sampled_from(["forward", "reverse"]),
}
_finite = st.floats(-3, 3, allow_nan=False)
_items = st.one_of(
    st.fixed_dictionaries(
        {"kind": st.just("clamp"), "gate": _names, "unit": st.integers(0, 4), "value": _finite, **_where}
    ),
    st.fixed_dictionaries(
        {"kind": st.just("set"), "state": _names, **_where},
        optional={
            "unit": st.integers(0, 4),
            "value": _finite,
            "values": st.lists(_finite, min_size=1, max_size=4),
        },
    ),
    st.fixed_dictionaries(
        {"kind": st.just("input"), "t": st.integers(0, 6)},
        optional={"token": st.integers(0, 4), "vector": st.lists(_finite, min_size=1, max_size=3)},
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cell=st.sampled_from(["rnn", "gru", "lstm"]),
    bidirectional=st.booleans(),
    items=st.lists(_items, max_size=4),
)
def test_any_interventions_the_schema_allows_get_a_reply_or_a_422(
    client: TestClient, cell: str, bidirectional: bool, items: list[dict]
) -> None:
    body = lstm_request(interventions=items)
    body["model"].update(cell=cell, bidirectional=bidirectional, num_layers=2)
    response = client.post("/api/v1/trace", json=body)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["detail"][0]["loc"][:2] == ["body", "interventions"]
    else:
        assert response.json()["steps"] == 4


def test_a_clamp_without_a_unit_clamps_every_unit(client: TestClient) -> None:
    every = {k: v for k, v in CLAMP.items() if k != "unit"}
    one_by_one = [{**CLAMP, "unit": u} for u in range(3)]
    a = client.post("/api/v1/trace", json=lstm_request(interventions=[every])).json()
    b = client.post("/api/v1/trace", json=lstm_request(interventions=one_by_one)).json()
    assert a["layers"] == b["layers"] and a["what_if"] == b["what_if"]
    assert a["layers"][0]["quantities"]["f"][2] == [0.0, 0.0, 0.0]
