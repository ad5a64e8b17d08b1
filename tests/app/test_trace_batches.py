"""POST /trace with ``inputs``: one trace per sequence, exactly the single-sequence replies, limits on the sum."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app.services.limits import Limits, forward_cost
from core.config import NetworkConfig

VOCAB = ["a", "b", "c", "d"]
BATCHES: dict[str, tuple[dict, list[dict]]] = {
    "vectors, bidirectional LSTM": (
        {"model": {"cell": "lstm", "hidden_size": 3, "bidirectional": True, "output_size": 2}},
        [
            {"vectors": [[0.5, -1.0], [0.25, 2.0], [1.0, 0.0]]},
            {"vectors": [[-0.3, 0.7]]},
            {"vectors": [[1.5, 1.5], [-2.0, 0.1], [0.0, 0.0], [0.2, -0.2], [3.0, 1.0]]},
        ],
    ),
    "text, stacked GRU with softmax": (
        {
            "model": {
                "cell": "gru",
                "hidden_size": 4,
                "num_layers": 2,
                "vocab": VOCAB,
                "output_size": 4,
                "output_activation": "softmax",
            },
            "include": ["r", "z", "n", "h", "hn", "h_prev"],
        },
        [{"text": "abcd"}, {"text": "dd"}, {"text": "c"}, {"text": "b a d", "tokenizer": "words"}],
    ),
    "tokens, RNN with h0": (
        {
            "model": {"cell": "rnn", "hidden_size": 2, "vocab_size": 5, "input_encoding": "embedding"},
            "h0": [[0.5, -0.5]],
            "weights": {"source": "seed", "seed": 9},
            "precision": 12,
        },
        [{"tokens": [0, 4, 2]}, {"tokens": [3]}, {"tokens": [1, 1, 1, 1, 1, 1]}],
    ),
    "many to one": (
        {"model": {"cell": "lstm", "hidden_size": 2, "output_size": 1}, "shape": "many_to_one"},
        [{"vectors": [[1.0], [2.0]]}, {"vectors": [[0.1], [0.2], [0.3], [0.4]]}],
    ),
    "one to many": (
        {
            "model": {"cell": "gru", "hidden_size": 3, "vocab": VOCAB, "output_size": 4},
            "shape": "one_to_many",
            "generation": {"steps": 4, "sample": True, "seed": 3},
        },
        [{"text": "a"}, {"text": "d"}],
    ),
}


@pytest.mark.parametrize("name", list(BATCHES))
def test_a_batch_is_exactly_the_sequences_traced_one_by_one(client: TestClient, name: str) -> None:
    common, inputs = BATCHES[name]
    reply = client.post("/api/v1/trace", json={**common, "inputs": inputs})
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert data["api_version"] == "v1"
    assert data["sequences"] == len(inputs) == len(data["traces"])
    for trace, inp in zip(data["traces"], inputs, strict=True):
        single = client.post("/api/v1/trace", json={**common, "input": inp})
        assert single.status_code == 200, single.text
        assert trace == single.json()
    # The sequences really differ, so the order of the traces is checked too.
    assert data["traces"][0] != data["traces"][1]


def test_a_batch_of_one_holds_the_single_reply(client: TestClient) -> None:
    common, inputs = BATCHES["vectors, bidirectional LSTM"]
    batch = client.post("/api/v1/trace", json={**common, "inputs": inputs[:1]}).json()
    single = client.post("/api/v1/trace", json={**common, "input": inputs[0]}).json()
    assert batch["traces"] == [single]
    assert "traces" not in single


def test_a_seeded_text_batch_builds_one_vocabulary_from_all_texts(client: TestClient) -> None:
    body = {"model": {"cell": "rnn", "hidden_size": 2}, "inputs": [{"text": "ab"}, {"text": "ca"}]}
    data = client.post("/api/v1/trace", json=body).json()
    assert [t["config"]["vocab"] for t in data["traces"]] == [["a", "b", "c"]] * 2
    assert data["traces"][1]["input"]["tokens"] == [2, 0]


BAD_BATCHES = {
    "both input and inputs": (
        {"input": {"text": "ab"}, "inputs": [{"text": "ab"}]},
        ["body", "inputs"],
        "not both",
    ),
    "neither": ({}, ["body", "input"], "give input"),
    "mixed input forms": (
        {"model": {"vocab": ["a", "b"]}, "inputs": [{"text": "ab"}, {"tokens": [0, 1]}]},
        ["body", "inputs", 1],
        "same input form",
    ),
    "a row of the wrong width": (
        {"inputs": [{"vectors": [[1.0, 2.0]]}, {"vectors": [[1.0, 2.0], [3.0]]}]},
        ["body", "inputs", 1, "vectors"],
        "input_size = 2",
    ),
    "a token out of the vocabulary": (
        {"model": {"vocab": ["a", "b"]}, "inputs": [{"text": "ab"}, {"text": "abz"}]},
        ["body", "inputs", 1, "text"],
        "not in the vocabulary",
    ),
    "several first inputs to generate from": (
        {
            "model": {"vocab": ["a", "b"], "output_size": 2},
            "shape": "one_to_many",
            "inputs": [{"text": "a"}, {"text": "ab"}],
        },
        ["body", "inputs", 1],
        "exactly one first input",
    ),
}


@pytest.mark.parametrize("name", list(BAD_BATCHES))
def test_bad_batches_get_a_422_naming_the_sequence(client: TestClient, name: str) -> None:
    body, loc, message = BAD_BATCHES[name]
    reply = client.post("/api/v1/trace", json=body)
    assert reply.status_code == 422, reply.text
    (detail,) = reply.json()["detail"]
    assert detail["loc"] == loc
    assert message in detail["msg"]


MODEL = {"cell": "lstm", "hidden_size": 4}
CONFIG = NetworkConfig(cell="lstm", input_size=1, hidden_size=4)


def vectors(steps: int) -> dict:
    return {"vectors": [[0.1 * t] for t in range(steps)]}


def test_the_compute_budget_counts_the_whole_batch(make_client: Callable[..., TestClient]) -> None:
    # Room for 10 steps: one sequence of 8 passes, two of them (16 steps) do not.
    budget = forward_cost(CONFIG, 10)
    client = make_client(limits=Limits(max_compute=budget))
    ok = client.post("/api/v1/trace", json={"model": MODEL, "inputs": [vectors(8)]})
    assert ok.status_code == 200, ok.text
    over = client.post("/api/v1/trace", json={"model": MODEL, "inputs": [vectors(8), vectors(8)]})
    assert over.status_code == 422
    (detail,) = over.json()["detail"]
    assert detail["type"] == "limit_exceeded"
    assert "these 2 sequences need, together," in detail["msg"] and "UNROLLED_MAX_COMPUTE" in detail["msg"]


def test_the_reply_size_counts_the_whole_batch(make_client: Callable[..., TestClient]) -> None:
    # An LSTM reply holds 6 quantities x 4 units per step: 240 numbers for 10 steps.
    client = make_client(limits=Limits(max_numbers=240))
    assert (
        client.post("/api/v1/trace", json={"model": MODEL, "inputs": [vectors(5), vectors(5)]}).status_code
        == 200
    )
    over = client.post("/api/v1/trace", json={"model": MODEL, "inputs": [vectors(5), vectors(6)]})
    assert over.status_code == 422
    assert "UNROLLED_MAX_NUMBERS" in over.json()["detail"][0]["msg"]


def test_each_sequence_is_held_to_max_steps(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits=Limits(max_steps=5))
    reply = client.post("/api/v1/trace", json={"model": MODEL, "inputs": [vectors(5), vectors(6)]})
    assert reply.status_code == 422
    (detail,) = reply.json()["detail"]
    assert detail["loc"] == ["body", "inputs", 1] and "UNROLLED_MAX_STEPS" in detail["msg"]


def test_the_number_of_sequences_is_limited(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits=Limits(max_batch=3))
    assert client.post("/api/v1/trace", json={"model": MODEL, "inputs": [vectors(1)] * 3}).status_code == 200
    reply = client.post("/api/v1/trace", json={"model": MODEL, "inputs": [vectors(1)] * 4})
    assert reply.status_code == 422
    assert (
        "4 sequences, over the limit of 3 (server setting UNROLLED_MAX_BATCH)"
        in reply.json()["detail"][0]["msg"]
    )
    assert client.get("/api/v1/limits").json()["max_batch"] == 3


def test_the_texts_of_a_batch_share_the_character_limit(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits=Limits(max_text_chars=6))
    body = {"model": {"cell": "gru", "hidden_size": 2, "vocab": ["a", "b"]}}
    assert client.post("/api/v1/trace", json={**body, "inputs": [{"text": "aba"}] * 2}).status_code == 200
    reply = client.post("/api/v1/trace", json={**body, "inputs": [{"text": "aba"}, {"text": "abab"}]})
    assert reply.status_code == 422
    assert "7 characters together" in reply.json()["detail"][0]["msg"]


def test_the_schema_offers_batches_on_trace_only(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    body = schema["paths"]["/api/v1/trace"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/TraceBatchRequest")
    assert "inputs" in components["TraceBatchRequest"]["properties"]
    assert "inputs" not in components["TraceRequest"]["properties"]
    assert "BatchTraceResponse" in components
