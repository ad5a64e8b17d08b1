"""POST /trace, /trace/step and /trace/export through the real app, checked against core's own numbers."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import numpy as np
import pytest
from app_bodies import lstm_request
from fastapi.testclient import TestClient

from app.schemas.requests import TraceRequest
from app.services.limits import Limits, forward_cost
from app.services.trace import seeded_forward_cost
from app.wire.rounding import round_significant
from core.config import NetworkConfig
from core.generate import generate
from core.network import forward
from core.params import init_params


def close_at(values: list, expected: np.ndarray, digits: int) -> None:
    """Equal to core's numbers within the requested number of significant digits."""
    got = np.array(values, dtype=float)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=10.0 ** (1 - digits), atol=1e-300)


#: What a reply holds without ``include``: activations, candidate, c and h; the rest on request.
DEFAULT_QUANTITIES = {"rnn": {"h"}, "lstm": {"i", "f", "g", "o", "c", "h"}, "gru": {"r", "z", "n", "h"}}


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("everything", [False, True])
def test_trace_matches_core(client: TestClient, cell: str, bidirectional: bool, everything: bool) -> None:
    body = lstm_request(precision=8)
    body["model"] |= {"cell": cell, "num_layers": 2, "bidirectional": bidirectional}
    config = NetworkConfig(
        cell=cell, input_size=2, hidden_size=3, num_layers=2, bidirectional=bidirectional, output_size=2
    )
    params = init_params(config, 1)
    trace = forward(params, config, np.array(body["input"]["vectors"]))
    every_name = list(trace.layers[0][0].quantities())
    if everything:
        body["include"] = every_name
    response = client.post("/api/v1/trace", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["config"]["cell"] == cell and data["steps"] == 4 and data["diverged_at"] is None
    assert len(data["layers"]) == 2 * config.num_directions
    for record in data["layers"]:
        quantities = trace.layers[record["layer"]][0 if record["direction"] == "forward" else 1].quantities()
        assert list(record["quantities"]) == [
            name for name in every_name if everything or name in DEFAULT_QUANTITIES[cell]
        ]
        for name, values in record["quantities"].items():
            close_at(values, quantities[name][:, 0], 8)
    close_at(data["output"]["y"], trace.logits[:, 0], 8)
    assert data["output"]["mask"] == [True] * 4


def test_text_input_builds_a_sorted_vocabulary(client: TestClient) -> None:
    body = {
        "model": {"cell": "gru", "hidden_size": 2, "output_size": 4, "output_activation": "softmax"},
        "input": {"text": "abcab", "tokenizer": "chars"},
    }
    data = client.post("/api/v1/trace", json=body).json()
    assert data["config"]["vocab"] == ["a", "b", "c"]
    assert data["config"]["input_encoding"] == "onehot" and data["config"]["input_size"] == 3
    assert data["input"]["tokens"] == [0, 1, 2, 0, 1]
    assert data["input"]["labels"] == list("abcab")
    probs = np.array(data["output"]["probs"])
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-3)


def test_words_with_a_given_vocabulary_and_embedding(client: TestClient) -> None:
    vocab = ["they", "are", "watching", "."]
    body = {
        "model": {
            "cell": "lstm",
            "hidden_size": 3,
            "input_encoding": "embedding",
            "input_size": 2,
            "vocab": vocab,
            "output_size": 4,
        },
        "input": {"text": "they are watching .", "tokenizer": "words"},
    }
    data = client.post("/api/v1/trace", json=body).json()
    assert data["input"]["tokens"] == [0, 1, 2, 3]
    assert data["config"]["output_labels"] == vocab
    assert all(label in vocab for label in data["output"]["predicted_labels"])


def test_precision_and_include(client: TestClient) -> None:
    body = lstm_request(precision=2, include=["h", "c"])
    data = client.post("/api/v1/trace", json=body).json()
    quantities = data["layers"][0]["quantities"]
    assert set(quantities) == {"h", "c"}
    for value in np.ravel(quantities["h"]):
        assert float(f"{value:.2g}") == value
    config = NetworkConfig(cell="lstm", input_size=2, hidden_size=3, output_size=2)
    trace = forward(init_params(config, 1), config, np.array(body["input"]["vectors"]))
    assert quantities["h"] == round_significant(trace.quantity(0, 0, "h"), 2).tolist()


def test_many_to_one_marks_only_the_last_output(client: TestClient) -> None:
    data = client.post("/api/v1/trace", json=lstm_request(shape="many_to_one")).json()
    assert data["output"]["mask"] == [False, False, False, True]


def test_h0_and_c0_change_the_first_step(client: TestClient) -> None:
    plain = client.post("/api/v1/trace", json=lstm_request()).json()
    started = client.post(
        "/api/v1/trace",
        json=lstm_request(h0=[[1.0, -1.0, 0.5]], c0=[[0.2, 0.2, 0.2]], include=["h", "h_prev", "c_prev"]),
    ).json()
    assert started["layers"][0]["quantities"]["h_prev"][0] == [1.0, -1.0, 0.5]
    assert started["layers"][0]["quantities"]["c_prev"][0] == [0.2, 0.2, 0.2]
    assert started["layers"][0]["quantities"]["h"][0] != plain["layers"][0]["quantities"]["h"][0]


def test_one_to_many_generates_like_core(client: TestClient) -> None:
    vocab = ["a", "b", "c"]
    body = {
        "model": {
            "cell": "gru",
            "hidden_size": 4,
            "output_size": 3,
            "output_activation": "softmax",
            "vocab": vocab,
        },
        "weights": {"source": "seed", "seed": 3},
        "input": {"text": "b"},
        "shape": "one_to_many",
        "generation": {"steps": 6, "sample": True, "temperature": 0.8, "seed": 5},
        "precision": 6,
    }
    data = client.post("/api/v1/trace", json=body).json()
    config = NetworkConfig(
        cell="gru",
        input_size=3,
        hidden_size=4,
        output_size=3,
        output_activation="softmax",
        input_encoding="onehot",
        vocab_size=3,
    )
    trace = generate(init_params(config, 3), config, 1, 6, sample=True, temperature=0.8, seed=5)
    assert data["generation"]["generated"] == trace.extra["generated"].tolist()
    assert data["generation"]["labels"] == [vocab[k] for k in trace.extra["generated"]]
    assert data["input"]["tokens"] == trace.tokens[:, 0].tolist()
    close_at(data["layers"][0]["quantities"]["h"], trace.quantity(0, 0, "h"), 6)


def test_generation_stops_at_a_stop_label(client: TestClient) -> None:
    body = {
        "model": {"cell": "rnn", "hidden_size": 4, "output_size": 2, "vocab": ["x", "y"]},
        "input": {"tokens": [0]},
        "shape": "one_to_many",
        "generation": {"steps": 50, "feedback": "repeat", "stop_token": "x"},
    }
    data = client.post("/api/v1/trace", json=body).json()
    generated = data["generation"]["labels"]
    assert data["generation"]["stop"] in ("stop_token", "steps")
    if data["generation"]["stop"] == "stop_token":
        assert generated[-1] == "x" and "x" not in generated[:-1]


def test_a_diverging_relu_network_reports_null_and_diverged_at(client: TestClient) -> None:
    big = 1e150
    body = {
        "model": {"cell": "rnn", "nonlinearity": "relu", "hidden_size": 1, "input_size": 1},
        "weights": {
            "source": "inline",
            "tensors": {
                "weight_ih_l0": [[big]],
                "weight_hh_l0": [[big]],
                "bias_ih_l0": [0.0],
                "bias_hh_l0": [0.0],
            },
        },
        "input": {"vectors": [[1.0], [1.0], [1.0]]},
    }
    response = client.post("/api/v1/trace", json=body)
    assert response.status_code == 200
    assert b"NaN" not in response.content and b"Infinity" not in response.content
    data = response.json()
    # h_0 = 1e150, h_1 = 1e150 + 1e300 (still finite), h_2 = inf
    assert data["diverged_at"] == 2
    assert data["layers"][0]["quantities"]["h"][:2] == [[big], [1e300]]
    assert data["layers"][0]["quantities"]["h"][2] == [None]


def test_preset_trace_uses_its_vocabulary(client: TestClient) -> None:
    body = {"weights": {"source": "preset", "name": "chars"}, "input": {"text": "the mill"}}
    data = client.post("/api/v1/trace", json=body).json()
    assert data["weights"] == {"source": "preset", "name": "chars"}
    assert data["input"]["labels"] == list("the mill")
    assert len(data["output"]["predicted_labels"]) == 8


def test_step_returns_one_timestep(client: TestClient) -> None:
    full = client.post("/api/v1/trace", json=lstm_request()).json()
    by_query = client.post("/api/v1/trace/step?t=2", json=lstm_request())
    by_field = client.post("/api/v1/trace/step", json=lstm_request(t=2))
    assert by_query.status_code == by_field.status_code == 200
    step = by_query.json()
    assert step == by_field.json()
    assert step["t"] == 2 and step["steps"] == 4
    for name, values in step["layers"][0]["quantities"].items():
        assert values == full["layers"][0]["quantities"][name][2]
    assert step["output"]["y"] == full["output"]["y"][2]
    assert step["x"] == [1.5, 2.0]


def test_step_refuses_missing_out_of_range_or_conflicting_t(client: TestClient) -> None:
    assert client.post("/api/v1/trace/step", json=lstm_request()).status_code == 422
    late = client.post("/api/v1/trace/step?t=4", json=lstm_request())
    assert late.status_code == 422 and late.json()["detail"][0]["loc"] == ["query", "t"]
    assert client.post("/api/v1/trace/step?t=1", json=lstm_request(t=2)).status_code == 422


def test_export_json_csv_npz(client: TestClient) -> None:
    body = lstm_request(precision=6)
    as_json = client.post("/api/v1/trace/export?format=json", json=body)
    assert as_json.headers["content-type"] == "application/json"
    assert json.loads(as_json.content) == client.post("/api/v1/trace", json=body).json()

    as_csv = client.post("/api/v1/trace/export?format=csv", json=body)
    assert as_csv.headers["content-type"].startswith("text/csv")
    lines = as_csv.text.strip().split("\n")
    assert lines[0] == "t,layer,direction,quantity,unit,value"
    rows = [line.split(",") for line in lines[1:]]
    h = {(int(r[0]), int(r[4])): float(r[5]) for r in rows if r[1] == "0" and r[3] == "h"}
    assert len(h) == 4 * 3
    assert h[(2, 1)] == as_json.json()["layers"][0]["quantities"]["h"][2][1]
    n_quantities = len(as_json.json()["layers"][0]["quantities"])
    assert len(rows) == 4 * 2 + 4 * 3 * n_quantities + 4 * 2  # input x, every quantity, output y

    as_npz = client.post("/api/v1/trace/export?format=npz", json=body)
    with np.load(io.BytesIO(as_npz.content), allow_pickle=False) as npz:
        config = NetworkConfig(cell="lstm", input_size=2, hidden_size=3, output_size=2)
        trace = forward(init_params(config, 1), config, np.array(body["input"]["vectors"]))
        np.testing.assert_array_equal(npz["layer0/forward/c"], trace.quantity(0, 0, "c"))
        np.testing.assert_array_equal(npz["output/y"], trace.logits[:, 0])
        assert json.loads(str(npz["config"]))["cell"] == "lstm"


def test_large_traces_are_gzipped(client: TestClient) -> None:
    body = lstm_request()
    body["model"]["hidden_size"] = 32
    response = client.post("/api/v1/trace", json=body, headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    small = client.get("/api/v1/health", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in small.headers


def test_seeded_forward_cost_is_known_before_the_weights() -> None:
    text = {
        "model": {"cell": "gru", "hidden_size": 5, "output_size": 3},
        "input": {"text": "abcab", "tokenizer": "chars"},
    }
    config = NetworkConfig(
        cell="gru", input_size=3, hidden_size=5, output_size=3, input_encoding="onehot", vocab_size=3
    )
    assert seeded_forward_cost(TraceRequest.model_validate(text), Limits()) == forward_cost(config, 5)
    vectors = TraceRequest.model_validate(lstm_request())
    assert seeded_forward_cost(vectors, Limits()) == forward_cost(
        NetworkConfig(cell="lstm", input_size=2, hidden_size=3, output_size=2), 4
    )
    preset = {"weights": {"source": "preset", "name": "anything"}, "input": {"text": "ab"}}
    assert seeded_forward_cost(TraceRequest.model_validate(preset), Limits()) is None
    no_vocab = {"model": {"input_encoding": "vector"}, "input": {"text": "ab"}}
    assert seeded_forward_cost(TraceRequest.model_validate(no_vocab), Limits()) is None  # run_trace says why


def test_a_trace_computed_on_the_event_loop_is_the_same(make_client: Callable[..., TestClient]) -> None:
    inline, pooled = make_client(inline_compute=10**9), make_client()
    body = lstm_request(precision=6)
    on_loop = inline.post("/api/v1/trace", json=body)
    assert on_loop.status_code == 200 and on_loop.headers["x-cache"] == "miss"
    assert on_loop.content == pooled.post("/api/v1/trace", json=body).content
    assert inline.post("/api/v1/trace", json=body).headers["x-cache"] == "hit"
    refused = inline.post("/api/v1/trace", json=lstm_request(model={"cell": "lstm", "hidden_size": 10_000}))
    assert refused.status_code == 422
