"""POST /gradients: the same loss, gradient norms and parameter gradients as core.bptt."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from core import bptt
from core.config import NetworkConfig
from core.params import init_params


def body(cell: str = "lstm", **overrides: object) -> dict:
    out: dict = {
        "model": {"cell": cell, "hidden_size": 3, "output_size": 3, "vocab": ["a", "b", "c"]},
        "weights": {"source": "seed", "seed": 2},
        "input": {"text": "abcab"},
        "targets": [1, 2, 0, 1, 2],
        "precision": 10,
    }
    out.update(overrides)
    return out


def core_reference(cell: str, shape: str = "many_to_many", targets: np.ndarray | None = None):
    config = NetworkConfig(
        cell=cell, input_size=3, hidden_size=3, output_size=3, input_encoding="onehot", vocab_size=3
    )
    params = init_params(config, 2)
    tokens = np.array([0, 1, 2, 0, 1])
    if targets is None:
        targets = np.array([1, 2, 0, 1, 2])[:, None]
    loss, trace, grads = bptt.loss_and_gradients(params, config, tokens, targets, shape=shape)
    return loss, trace, grads, bptt.state_jacobian_norms(params, trace)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_gradients_match_core(client: TestClient, cell: str) -> None:
    response = client.post("/api/v1/gradients", json=body(cell))
    assert response.status_code == 200, response.text
    data = response.json()
    loss, _, grads, jacobian = core_reference(cell)
    assert data["loss"] == pytest.approx(loss, rel=1e-9)
    layer = data["layers"][0]
    np.testing.assert_allclose(layer["dh_norm"], grads.dh_norms()[0][0], rtol=1e-9)
    np.testing.assert_allclose(layer["jacobian_norm"], jacobian[0][0], rtol=1e-9)
    np.testing.assert_allclose(layer["dh"], grads.dh[0][0][:, 0], rtol=1e-9, atol=1e-300)
    if cell == "lstm":
        np.testing.assert_allclose(layer["dc_norm"], grads.dc_norms()[0][0], rtol=1e-9)
    else:
        assert layer["dc_norm"] is None
    assert set(data["params"]) == set(grads.params)
    for name, grad in grads.params.items():
        np.testing.assert_allclose(data["params"][name]["grad"], grad, rtol=1e-9, atol=1e-300)
        assert data["params"][name]["norm"] == pytest.approx(float(np.linalg.norm(grad)), rel=1e-9)
    assert data["global_norm"] == pytest.approx(grads.global_norm(), rel=1e-9)


def test_a_single_target_for_many_to_one(client: TestClient) -> None:
    data = client.post("/api/v1/gradients", json=body(shape="many_to_one", targets=[2])).json()
    targets = np.zeros((5, 1), np.int64)
    targets[-1] = 2
    loss, _, grads, _ = core_reference("lstm", "many_to_one", targets)
    assert data["loss"] == pytest.approx(loss, rel=1e-9)
    np.testing.assert_allclose(data["layers"][0]["dh_norm"], grads.dh_norms()[0][0], rtol=1e-9)


def test_mse_on_output_rows_and_skipping_the_jacobian(client: TestClient) -> None:
    request = {
        "model": {"cell": "gru", "hidden_size": 2, "output_size": 1},
        "input": {"vectors": [[0.5], [1.0]]},
        "targets": [[0.1], [0.2]],
        "loss": "mse",
        "include_jacobian": False,
    }
    data = client.post("/api/v1/gradients", json=request).json()
    assert data["loss_name"] == "mse" and data["loss"] > 0
    assert data["layers"][0]["jacobian_norm"] is None


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"targets": [1, 2]}, ["body", "targets"]),
        ({"targets": [[0.5, 0.5, 0.5]] * 5}, ["body", "targets"]),
        ({"targets": [3, 3, 3, 3, 3]}, ["body", "targets"]),
        ({"loss": "mse"}, ["body", "targets"]),
        ({"shape": "one_to_many"}, ["body", "shape"]),
    ],
)
def test_bad_targets(client: TestClient, changes: dict, loc: list) -> None:
    response = client.post("/api/v1/gradients", json=body(**changes))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


def test_a_loss_needs_an_output_layer(client: TestClient) -> None:
    request = body()
    del request["model"]["output_size"]
    response = client.post("/api/v1/gradients", json=request)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "model", "output_size"]


def test_the_jacobian_counts_against_the_compute_budget(client: TestClient) -> None:
    request = {
        "model": {"cell": "lstm", "hidden_size": 256, "output_size": 1},
        "input": {"vectors": [[0.0]] * 200},
        "targets": [[0.0]] * 200,
        "loss": "mse",
    }
    response = client.post("/api/v1/gradients", json=request)
    assert response.status_code == 422
    assert "include_jacobian" in response.json()["detail"][0]["msg"]
