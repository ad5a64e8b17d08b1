"""Errors name the field the caller sent: the ``config`` field a model file needs (or gets wrong), ``file`` only
when the file itself is at fault, and h0/c0 in the caller's own shape (no batch dimension)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from app_bodies import lstm_request
from fastapi.testclient import TestClient

from core.config import NetworkConfig
from core.network import forward
from core.params import init_params
from core.seq2seq.config import Seq2SeqConfig
from core.seq2seq.params import init_params as seq2seq_params
from core.weights_io import weights_to_bytes

RELU_RNN = NetworkConfig(cell="rnn", nonlinearity="relu", input_size=2, hidden_size=3)


def rnn_file(config: NetworkConfig = RELU_RNN, seed: int = 4) -> bytes:
    """What np.savez of an nn.RNN's state_dict holds: no trace of its nonlinearity."""
    return weights_to_bytes({f"rnn.{k}": v for k, v in init_params(config, seed).items()}, "npz")


def upload(client: TestClient, data: bytes, config: dict | str | None = None):
    form = {} if config is None else {"config": config if isinstance(config, str) else json.dumps(config)}
    return client.post(
        "/api/v1/models", files={"file": ("m.npz", data, "application/octet-stream")}, data=form
    )


def loc_and_msg(response) -> tuple[list, str]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    return detail["loc"], detail["msg"]


def test_an_rnn_without_its_nonlinearity_is_refused_naming_the_field(client: TestClient) -> None:
    loc, msg = loc_and_msg(upload(client, rnn_file()))
    assert loc == ["body", "config", "nonlinearity"]
    assert "config.nonlinearity" in msg and "relu" in msg


def test_an_rnn_with_its_nonlinearity_traces_with_it(client: TestClient) -> None:
    created = upload(client, rnn_file(), {"nonlinearity": "relu"})
    assert created.status_code == 201, created.text
    x = [[1.0, -2.0], [0.5, 3.0], [-1.0, 1.0]]
    body = {
        "weights": {"source": "stored", "id": created.json()["id"]},
        "input": {"vectors": x},
        "precision": 17,
    }
    traced = client.post("/api/v1/trace", json=body)
    assert traced.status_code == 200, traced.text
    expected = forward(init_params(RELU_RNN, 4), RELU_RNN, np.array(x)).quantity(0, 0, "h")
    assert traced.json()["layers"][0]["quantities"]["h"] == expected.tolist()
    tanh = NetworkConfig(cell="rnn", nonlinearity="tanh", input_size=2, hidden_size=3)
    assert not np.allclose(forward(init_params(tanh, 4), tanh, np.array(x)).quantity(0, 0, "h"), expected)


def test_an_rnn_encoder_decoder_needs_its_nonlinearity_too(client: TestClient) -> None:
    config = Seq2SeqConfig(cell="rnn", src_vocab_size=4, tgt_vocab_size=6, embedding_size=3, hidden_size=4)
    data = weights_to_bytes(seq2seq_params(config, 1), "npz")  # already under the state_dict names
    loc, _ = loc_and_msg(upload(client, data))
    assert loc == ["body", "config", "nonlinearity"]
    assert upload(client, data, {"nonlinearity": "tanh"}).status_code == 201


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"cell": "gru", "nonlinearity": "tanh"}, "cell"),  # the tensors are an RNN's
        ({"nonlinearity": "tanh", "input_encoding": "embedding"}, "input_encoding"),  # no embedding tensor
        ({"nonlinearity": "tanh", "vocab": ["a", "b", "c"]}, "vocab"),  # vector inputs have no vocabulary
        ({"nonlinearity": "tanh", "output_labels": ["yes"]}, "output_labels"),  # no output layer
        ({"nonlinearity": "tanh", "target_vocab": ["a"]}, "target_vocab"),  # an encoder-decoder's field
        ({"nonlinearity": "softplus"}, "nonlinearity"),  # not a nonlinearity we have
        ({"nonlinearity": "tanh", "colour": "red"}, "colour"),  # no such field
    ],
)
def test_a_wrong_config_field_is_named(client: TestClient, config: dict, field: str) -> None:
    loc, msg = loc_and_msg(upload(client, rnn_file(), config))
    assert loc == ["body", "config", field]
    assert field in msg


def test_config_that_is_not_json_points_at_config(client: TestClient) -> None:
    loc, _ = loc_and_msg(upload(client, rnn_file(), "{nonlinearity: relu"))
    assert loc[:2] == ["body", "config"]


def test_a_broken_file_points_at_the_file(client: TestClient) -> None:
    params = {f"rnn.{k}": v for k, v in init_params(RELU_RNN, 4).items() if k != "weight_ih_l0"}
    params["rnn.weight_ih_l1"] = np.zeros((3, 3))  # layer 1 without its layer 0 input weights
    loc, _ = loc_and_msg(upload(client, weights_to_bytes(params, "npz"), {"nonlinearity": "relu"}))
    assert loc == ["body", "file"]
    odd = {"rnn.weight_ih_l0": np.zeros((6, 2)), "rnn.weight_hh_l0": np.zeros((6, 3))}  # 2 gate blocks
    loc, msg = loc_and_msg(upload(client, weights_to_bytes(odd, "npz"), {"nonlinearity": "relu"}))
    assert loc == ["body", "file"] and "1, 3 or 4 times" in msg


# ------------------------------------------------------------------------------------------------------------
# Initial states and other trace errors, in the caller's terms


def bidirectional_lstm(**extra: object) -> dict:
    body = lstm_request(**extra)
    body["model"]["bidirectional"] = True
    return body


def test_an_h0_with_the_wrong_number_of_rows_says_how_many_rows(client: TestClient) -> None:
    body = bidirectional_lstm(h0=[[0.0, 0.0, 0.0]] * 3)  # hidden_size 3, one layer, two directions
    loc, msg = loc_and_msg(client.post("/api/v1/trace", json=body))
    assert loc == ["body", "h0"]
    assert "2: layer 0 forward, layer 0 reverse" in msg and "hidden_size = 3" in msg and "got 3 rows" in msg
    assert "batch" not in msg


def test_an_h0_row_of_the_wrong_width_is_named(client: TestClient) -> None:
    body = bidirectional_lstm(h0=[[0.0, 0.0, 0.0], [0.0, 0.0]])
    loc, msg = loc_and_msg(client.post("/api/v1/trace", json=body))
    assert loc == ["body", "h0", 1] and "row 1 has 2" in msg and "batch" not in msg
    body = bidirectional_lstm(c0=[[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    loc, _ = loc_and_msg(client.post("/api/v1/trace", json=body))
    assert loc == ["body", "c0", 0]


def test_the_right_h0_is_used(client: TestClient) -> None:
    h0 = [[0.5, -0.5, 0.25], [0.1, 0.2, 0.3]]
    with_state = client.post("/api/v1/trace", json=bidirectional_lstm(h0=h0, precision=17))
    without = client.post("/api/v1/trace", json=bidirectional_lstm(precision=17))
    assert with_state.status_code == without.status_code == 200
    assert with_state.json()["layers"][0]["quantities"]["h"] != without.json()["layers"][0]["quantities"]["h"]


def test_c0_for_a_cell_without_one_points_at_c0(client: TestClient) -> None:
    body = lstm_request(c0=[[0.0, 0.0, 0.0]])
    body["model"]["cell"] = "gru"
    loc, msg = loc_and_msg(client.post("/api/v1/trace", json=body))
    assert loc == ["body", "c0"] and "GRU" in msg
    gradients = client.post("/api/v1/gradients", json={**body, "loss": "mse", "targets": [[0.0]] * 4})
    assert gradients.status_code == 422


def test_errors_from_core_point_at_the_field(client: TestClient) -> None:
    one_to_one = lstm_request(shape="one_to_one")  # four input steps
    loc, _ = loc_and_msg(client.post("/api/v1/trace", json=one_to_one))
    assert loc == ["body", "input"]
    generate = bidirectional_lstm(shape="one_to_many")
    generate["input"]["vectors"] = generate["input"]["vectors"][:1]
    loc, msg = loc_and_msg(client.post("/api/v1/trace", json=generate))
    assert loc == ["body", "shape"] and "bidirectional" in msg
