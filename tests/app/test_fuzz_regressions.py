"""Regressions for what fuzzing the API (schemathesis, hand-made hostile input) found, one test per finding.

A bad request must get a 4xx naming the problem: never a 5xx, a hang, a crashed worker, or NaN / Infinity in
the JSON bytes.
"""

from __future__ import annotations

import gzip
import json

import pytest
from app_bodies import lstm_request
from fastapi.testclient import TestClient

INLINE_RNN = {
    "weight_ih_l0": [[1.0]],
    "weight_hh_l0": [[0.5]],
    "bias_ih_l0": [0.0],
    "bias_hh_l0": [0.0],
}


def test_inline_weights_with_a_huge_layer_index_are_refused_by_the_layer_limit(client: TestClient) -> None:
    # Found by hand: without a model, the config was inferred from the names and the expected shapes of all
    # its layers were built before the limits were checked; 'weight_ih_l99999999' exhausted memory and killed
    # the worker. Index 99 shows the order (the limit is named, not a missing tensor) without the danger.
    tensors = {**INLINE_RNN, "weight_ih_l99": [[1.0]]}
    reply = client.post(
        "/api/v1/trace",
        json={"weights": {"source": "inline", "tensors": tensors}, "input": {"vectors": [[1.0]]}},
    )
    assert reply.status_code == 422
    detail = reply.json()["detail"][0]
    assert detail["loc"][:3] == ["body", "weights", "tensors"]
    assert "MAX_LAYERS" in detail["msg"]


@pytest.mark.parametrize("path", ["/api/v1/trace", "/api/v1/gradients"])
def test_empty_weights_object_means_seeded_weights(client: TestClient, path: str) -> None:
    # Found by schemathesis (ST202): every weights variant defaults 'source', so the schema allows {},
    # but the 'source' discriminator refused it.
    body = lstm_request(weights={})
    if path.endswith("gradients"):
        body.update(targets=[0, 1, 0, 1], include_jacobian=False)
    reply = client.post(path, json=body)
    assert reply.status_code == 200, reply.text
    assert reply.json()["weights"] == {"source": "seed", "seed": 0}


def test_empty_weights_object_is_accepted_by_seq2seq(client: TestClient) -> None:
    body = {"model": {"cell": "gru", "hidden_size": 4}, "source": {"text": "ab"}, "weights": {},
            "max_length": 2}
    reply = client.post("/api/v1/seq2seq/trace", json=body)
    assert reply.status_code == 200, reply.text


def test_unknown_weights_source_names_the_choices(client: TestClient) -> None:
    reply = client.post("/api/v1/trace", json=lstm_request(weights={"source": "disk"}))
    assert reply.status_code == 422
    assert "'seed', 'preset', 'stored', 'inline'" in reply.json()["detail"][0]["msg"]


def test_exploding_relu_rnn_reports_divergence_without_non_finite_json(client: TestClient) -> None:
    tensors = {**INLINE_RNN, "weight_hh_l0": [[1e300]]}
    body = {
        "model": {"cell": "rnn", "nonlinearity": "relu", "hidden_size": 1},
        "weights": {"source": "inline", "tensors": tensors},
        "input": {"vectors": [[1e300]] * 4},
    }
    for path in ("/api/v1/trace", "/api/v1/trace/step?t=3"):
        reply = client.post(path, json=body)
        assert reply.status_code == 200, reply.text
        assert b"NaN" not in reply.content and b"Infinity" not in reply.content
    assert client.post("/api/v1/trace", json=body).json()["diverged_at"] == 1


@pytest.mark.parametrize(
    "query",
    [
        "/?hidden=1e9",
        "/?input=%3Cscript%3Ealert(1)%3C/script%3E",
        "/?hidden=-1&layers=99999999999999999999",
        "/?model=../../etc/passwd",
        "/seq2seq?t=-1",
        "/seq2seq?t=99999999999999999999999",
        "/train?task=../../etc",
        "/?q=" + "x" * 20000,
    ],
)
def test_pages_answer_hostile_query_strings_without_a_server_error(client: TestClient, query: str) -> None:
    reply = client.get(query)
    assert reply.status_code < 500
    assert b"<script>alert" not in reply.content


def test_compressed_body_is_refused_with_a_clear_message(client: TestClient) -> None:
    # Found by hand: a gzip body got "There was an error parsing the body", which does not say why.
    body = gzip.compress(json.dumps(lstm_request()).encode())
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    reply = client.post("/api/v1/trace", content=body, headers=headers)
    assert reply.status_code == 400
    assert "Content-Encoding 'gzip' is not supported" in reply.json()["detail"]


def test_empty_body_says_it_is_empty(client: TestClient) -> None:
    # Found by hand: a 0-byte JSON body answered "Field required", naming no field.
    reply = client.post("/api/v1/trace", content=b"", headers={"content-type": "application/json"})
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["msg"] == "the request body is empty: send a JSON object"


@pytest.mark.parametrize(
    "content",
    [b"hello", b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":{\"dtype\":", b"PK\x03\x04truncated"],
    ids=["text", "truncated-safetensors", "truncated-zip"],
)
def test_unreadable_upload_is_a_422_naming_the_file(client: TestClient, content: bytes) -> None:
    reply = client.post("/api/v1/models", files={"file": ("model.safetensors", content)})
    assert reply.status_code == 422
    detail = reply.json()["detail"][0]
    assert detail["loc"] == ["body", "file"]
    assert detail["msg"].startswith("not a readable .npz or .safetensors file")
