"""The OpenAPI schema states the server's own limits, and the server refuses exactly past them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.schema_limits import BOUNDS, _reach
from app.services.limits import Limits

SMALL = Limits(max_hidden_size=12, max_layers=2, max_vocab_size=50, max_steps=30, max_text_chars=40, max_batch=3)


def field(schema: dict[str, Any], component: str, path: tuple[str, ...]) -> list[dict[str, Any]]:
    node = schema["components"]["schemas"][component]["properties"][path[0]]
    return _reach(node, path[1:])


@pytest.fixture
def small(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(limits=SMALL)


def test_every_bound_is_the_servers_setting(small: TestClient) -> None:
    schema = small.get("/openapi.json").json()
    for component, path, keyword, limit in BOUNDS:
        targets = field(schema, component, path)
        assert targets, (component, path)
        for target in targets:
            assert target[keyword] == limit(SMALL), (component, path, keyword)


def test_default_limits_reach_the_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    (hidden,) = field(schema, "ModelSpec", ("hidden_size",))
    assert hidden["maximum"] == Limits().max_hidden_size
    (token,) = field(schema, "TokensInput", ("tokens", "[]"))
    assert token["maximum"] == Limits().max_vocab_size - 1


def trace(client: TestClient, **model: Any) -> Any:
    body = {"model": {"cell": "gru", "hidden_size": 4, **model}, "input": {"tokens": [0, 1, 2]}}
    return client.post("/api/v1/trace", json=body)


@pytest.mark.parametrize(
    ("name", "limit"), [("hidden_size", SMALL.max_hidden_size), ("num_layers", SMALL.max_layers)]
)
def test_the_stated_maximum_is_accepted_and_one_more_refused(small: TestClient, name: str, limit: int) -> None:
    assert trace(small, **{name: limit}).status_code == 200
    over = trace(small, **{name: limit + 1})
    assert over.status_code == 422
    assert over.json()["detail"][0]["loc"][-1] == name


def test_token_ids_past_the_vocabulary_limit_are_refused(small: TestClient) -> None:
    body = {"model": {"cell": "gru", "hidden_size": 4}, "input": {"tokens": [0, SMALL.max_vocab_size - 1]}}
    assert small.post("/api/v1/trace", json=body).status_code == 200
    body["input"] = {"tokens": [0, SMALL.max_vocab_size]}
    assert small.post("/api/v1/trace", json=body).status_code == 422


def test_texts_and_batches_past_their_limits_are_refused(small: TestClient) -> None:
    model = {"cell": "gru", "hidden_size": 4, "output_size": 2}
    long_text = {"model": model, "input": {"text": "ab" * (SMALL.max_text_chars // 2 + 1)}}
    assert small.post("/api/v1/trace", json=long_text).status_code == 422
    batch = {"model": model, "inputs": [{"tokens": [0, 1]}] * (SMALL.max_batch + 1)}
    assert small.post("/api/v1/trace", json=batch).status_code == 422


def test_every_bound_is_written_in_json_schema_words(client: TestClient) -> None:
    """Pydantic writes a bound it cannot place as a raw "ge"/"le": such a bound is lost to every client."""
    raw = {"ge", "le", "gt", "lt"}

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if "type" in node:
                assert not raw & node.keys(), where
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for k, value in enumerate(node):
                walk(value, f"{where}/{k}")

    walk(client.get("/openapi.json").json(), "#")


def test_the_minimum_of_an_integer_is_stated(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    (precision,) = field(schema, "TraceRequest", ("precision",))
    assert precision["minimum"] == 1
    (layers,) = field(schema, "TrainingModelSpec", ("num_layers",))
    assert layers["minimum"] == 1


def test_include_names_are_the_recorded_quantities(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    (item,) = field(schema, "TraceRequest", ("include", "[]"))
    assert {"f", "c", "h", "r", "z", "hn", "pre", "h_prev"} <= set(item["enum"])
    body = {"model": {"cell": "lstm", "hidden_size": 2}, "input": {"text": "ab"}}
    for name in item["enum"]:
        reply = client.post("/api/v1/trace", json={**body, "model": {"cell": "gru", "hidden_size": 2},
                                                     "include": [name]})
        lstm = client.post("/api/v1/trace", json={**body, "include": [name]})
        rnn = client.post("/api/v1/trace", json={**body, "model": {"cell": "rnn", "hidden_size": 2},
                                                   "include": [name]})
        assert 200 in {reply.status_code, lstm.status_code, rnn.status_code}, name
