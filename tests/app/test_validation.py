"""Every class of bad input gets a 4xx that names the problem, never a 500."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from app_bodies import lstm_request
from fastapi.testclient import TestClient

from app.services.limits import Limits


def post(client: TestClient, body: object, path: str = "/api/v1/trace"):
    return client.post(path, json=body)


def locs(response) -> list[list]:
    return [e["loc"] for e in response.json()["detail"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hidden_size", True),
        ("num_layers", False),
        ("hidden_size", "3"),
        ("hidden_size", 2.5),
        ("bidirectional", 1),
        ("output_size", True),
    ],
)
def test_booleans_strings_and_fractions_are_not_integers(client: TestClient, field: str, value: object) -> None:
    body = lstm_request()
    body["model"][field] = value
    response = post(client, body)
    assert response.status_code == 422
    assert ["body", "model", field] in locs(response)


def test_a_whole_float_is_the_integer_it_equals(client: TestClient) -> None:
    """JSON Schema's "integer" takes 2.0, and a Python or NumPy client may well send it."""
    body = lstm_request()
    as_int = post(client, body)
    body["model"]["hidden_size"] = float(body["model"]["hidden_size"])
    as_float = post(client, body)
    assert as_float.status_code == 200
    assert as_float.json()["layers"] == as_int.json()["layers"]


def test_booleans_are_not_numbers_in_vectors(client: TestClient) -> None:
    response = post(client, lstm_request(input={"vectors": [[True, 1.0]]}))
    assert response.status_code == 422
    assert locs(response)[0][:3] == ["body", "input", "vectors"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(client: TestClient, literal: str) -> None:
    raw = json.dumps(lstm_request()).replace("0.25", literal)
    response = client.post("/api/v1/trace", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "finite" in response.text


def test_overflowing_float_literals_are_refused(client: TestClient) -> None:
    raw = json.dumps(lstm_request()).replace("0.25", "1e999")
    response = client.post("/api/v1/trace", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422


@pytest.mark.parametrize("where", ["top", "model", "weights", "input"])
def test_unknown_fields_are_refused(client: TestClient, where: str) -> None:
    body = lstm_request()
    (body if where == "top" else body[where])["colour"] = "red"
    response = post(client, body)
    assert response.status_code == 422
    assert any(loc[-1] == "colour" for loc in locs(response))


@pytest.mark.parametrize("raw", [b"{", b"{'model': 1}", b"\xff\xfe", b"[1, 2", b"null null"])
def test_malformed_json_is_400(client: TestClient, raw: bytes) -> None:
    response = client.post("/api/v1/trace", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_json_of_the_wrong_shape_is_422(client: TestClient) -> None:
    for body in ([1, 2], "text", {}, {"input": {}}, {"input": {"vectors": []}}):
        assert post(client, body).status_code == 422, body


def test_a_body_without_a_json_content_type_is_400(client: TestClient) -> None:
    assert client.post("/api/v1/trace").status_code == 400
    response = client.post(
        "/api/v1/trace", content=json.dumps(lstm_request()), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 400


def test_declared_oversize_body_is_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=1000)
    body = lstm_request(input={"vectors": [[0.125, 0.5]] * 200})
    response = post(client, body)
    assert response.status_code == 413
    assert "1000" in response.json()["detail"]


def test_streamed_oversize_body_is_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=1000)

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield b'{"input": {"vectors": ['
        for _ in range(200):
            yield b"[0.125, 0.5], "
        yield b"[1.0, 1.0]]}}"

    response = client.post("/api/v1/trace", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_a_streamed_body_within_the_limit_is_served(client: TestClient) -> None:
    raw = json.dumps(lstm_request()).encode()
    response = client.post(
        "/api/v1/trace", content=iter([raw[:10], raw[10:]]), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("changes", "loc", "setting"),
    [
        ({"hidden_size": 600}, ["body", "model", "hidden_size"], "MAX_HIDDEN_SIZE"),
        ({"num_layers": 5}, ["body", "model", "num_layers"], "MAX_LAYERS"),
        ({"output_size": 5000}, ["body", "model", "output_size"], "MAX_OUTPUT_SIZE"),
    ],
)
def test_sizes_over_the_limits_name_the_field(
    client: TestClient, changes: dict, loc: list, setting: str
) -> None:
    body = lstm_request()
    body["model"] |= changes
    response = post(client, body)
    assert response.status_code == 422
    assert locs(response) == [loc]
    assert setting in response.json()["detail"][0]["msg"]


def test_too_many_timesteps_and_wide_inputs(client: TestClient) -> None:
    long = post(client, lstm_request(input={"vectors": [[0.0, 0.0]] * 1001}))
    assert long.status_code == 422 and locs(long) == [["body", "input"]]
    wide = post(client, {"model": {"hidden_size": 2}, "input": {"vectors": [[0.0] * 1025]}})
    assert wide.status_code == 422 and locs(wide) == [["body", "model", "input_size"]]
    vocab = post(client, {"model": {"hidden_size": 2}, "input": {"tokens": [2500]}})
    assert vocab.status_code == 422 and locs(vocab) == [["body", "model", "vocab"]]
    text = post(client, {"input": {"text": "a" * 20_001}})
    assert text.status_code == 422 and locs(text) == [["body", "input", "text"]]


def test_the_compute_budget_is_enforced(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits=Limits(max_compute=1_000_000))
    body = lstm_request(input={"vectors": [[0.1, 0.2]] * 500})
    body["model"]["hidden_size"] = 64  # 500 steps x 4 gates x 64 x (2 + 64) = 8.4M multiply-adds
    response = post(client, body)
    assert response.status_code == 422
    assert "compute budget" in response.json()["detail"][0]["msg"]
    assert "UNROLLED_MAX_COMPUTE" in response.json()["detail"][0]["msg"]


def test_the_response_size_is_bounded(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits=Limits(max_numbers=50))
    # The default LSTM reply holds 4 steps x 3 units x 6 quantities = 72 numbers; include=["h"] only 12.
    response = post(client, lstm_request())
    assert response.status_code == 422 and locs(response) == [["body", "include"]]
    assert post(client, lstm_request(include=["h"])).status_code == 200


def test_precision_over_the_limit(client: TestClient, make_client: Callable[..., TestClient]) -> None:
    assert post(client, lstm_request(precision=17)).status_code == 200
    assert post(client, lstm_request(precision=18)).status_code == 422
    assert post(client, lstm_request(precision=0)).status_code == 422
    lowered = post(make_client(limits=Limits(max_precision=12)), lstm_request(precision=13))
    assert lowered.status_code == 422 and locs(lowered) == [["body", "precision"]]
    assert "UNROLLED_MAX_PRECISION" in lowered.json()["detail"][0]["msg"]


def test_unknown_tokens_are_named(client: TestClient) -> None:
    body = {"model": {"vocab": ["a", "b"]}, "input": {"text": "abzq"}}
    response = post(client, body)
    assert response.status_code == 422
    assert locs(response) == [["body", "input", "text"]]
    assert "'q'" in response.text and "'z'" in response.text


def test_token_ids_out_of_range_and_duplicate_vocab(client: TestClient) -> None:
    out_of_range = post(client, {"model": {"vocab": ["a", "b"]}, "input": {"tokens": [0, 2]}})
    assert out_of_range.status_code == 422 and locs(out_of_range) == [["body", "input", "tokens"]]
    dupes = post(client, {"model": {"vocab": ["a", "a"]}, "input": {"text": "a"}})
    assert dupes.status_code == 422 and locs(dupes) == [["body", "model", "vocab"]]
    negative = post(client, {"input": {"tokens": [-1]}})
    assert negative.status_code == 422


def test_inputs_that_do_not_fit_the_model(client: TestClient) -> None:
    ragged = post(client, lstm_request(input={"vectors": [[0.0, 1.0], [2.0]]}))
    assert ragged.status_code == 422 and locs(ragged) == [["body", "input", "vectors"]]
    text_as_vectors = post(client, {"model": {"input_encoding": "vector"}, "input": {"text": "ab"}})
    assert text_as_vectors.status_code == 422
    bad_h0 = post(client, lstm_request(h0=[[0.0, 0.0]]))
    assert bad_h0.status_code == 422
    c0_for_gru = post(client, {"model": {"cell": "gru"}, "input": {"text": "ab"}, "c0": [[0.0] * 8]})
    assert c0_for_gru.status_code == 422
    relu_lstm = post(client, {"model": {"cell": "lstm", "nonlinearity": "relu"}, "input": {"text": "ab"}})
    assert relu_lstm.status_code == 422 and locs(relu_lstm) == [["body", "model"]]
    one_to_one = post(client, lstm_request(shape="one_to_one"))
    assert one_to_one.status_code == 422
    unknown_quantity = post(client, lstm_request(include=["h", "q"]))
    assert unknown_quantity.status_code == 422 and locs(unknown_quantity) == [["body", "include"]]


def test_generation_requests_that_cannot_run(client: TestClient) -> None:
    no_output = post(client, {"input": {"tokens": [0]}, "shape": "one_to_many"})
    assert no_output.status_code == 422
    two_inputs = post(client, lstm_request(shape="one_to_many"))
    assert two_inputs.status_code == 422
    options_without_shape = post(client, lstm_request(generation={"steps": 3}))
    assert options_without_shape.status_code == 422
    long = post(
        client,
        {
            "model": {"output_size": 2, "vocab": ["a", "b"]},
            "input": {"text": "a"},
            "shape": "one_to_many",
            "generation": {"steps": 5000},
        },
    )
    assert long.status_code == 422 and locs(long) == [["body", "generation", "steps"]]
    bad_stop = post(
        client,
        {
            "model": {"output_size": 2, "vocab": ["a", "b"]},
            "input": {"text": "a"},
            "shape": "one_to_many",
            "generation": {"stop_token": "z"},
        },
    )
    assert bad_stop.status_code == 422


def test_inline_weights_that_do_not_fit(client: TestClient) -> None:
    body = lstm_request(weights={"source": "inline", "tensors": {"weight_ih_l0": [[1.0, 2.0]]}})
    response = post(client, body)
    assert response.status_code == 422 and "missing tensor" in response.text
    ragged = lstm_request(weights={"source": "inline", "tensors": {"weight_ih_l0": [[1.0, 2.0], [1.0]]}})
    assert post(client, ragged).status_code == 422


def test_unknown_preset_and_stored_model_are_404(client: TestClient) -> None:
    preset = post(client, {"weights": {"source": "preset", "name": "no-such-preset"}, "input": {"text": "a"}})
    assert preset.status_code == 404
    stored = post(client, {"weights": {"source": "stored", "id": "0" * 64}, "input": {"text": "a"}})
    assert stored.status_code == 404
    assert client.get(f"/api/v1/models/{'0' * 64}").status_code == 404
    assert client.get("/api/v1/models/not-a-hash").status_code == 422


def test_model_fields_with_a_preset_are_refused(client: TestClient) -> None:
    response = post(
        client,
        {"model": {"cell": "gru"}, "weights": {"source": "preset", "name": "chars"}, "input": {"text": "a"}},
    )
    assert response.status_code == 422 and locs(response) == [["body", "model"]]


def test_validation_errors_do_not_echo_the_input(client: TestClient) -> None:
    body = lstm_request()
    body["model"]["hidden_size"] = "x" * 5000
    response = post(client, body)
    assert response.status_code == 422 and len(response.content) < 1000
