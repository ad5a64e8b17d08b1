"""Uploading, describing and downloading stored models; the store survives a restart of the app."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from app_bodies import lstm_request
from fastapi.testclient import TestClient

from app.storage import open_database
from app.storage.models import ModelStore, content_id
from core.config import NetworkConfig
from core.network import forward
from core.params import init_params
from core.weights_io import load_weights, weights_to_bytes

CONFIG = NetworkConfig(
    cell="gru",
    input_size=3,
    hidden_size=4,
    output_size=3,
    output_activation="softmax",
    input_encoding="onehot",
    vocab_size=3,
)


def torch_style_file(fmt: str) -> bytes:
    """The tensors under PyTorch module names, as a user's state_dict export would hold them."""
    params = init_params(CONFIG, 9)
    named = {
        ("rnn." + k if not k.startswith("output.") else "fc." + k.split(".")[1]): v for k, v in params.items()
    }
    return weights_to_bytes(named, fmt)


def upload(client: TestClient, data: bytes, config: dict | None = None, filename: str = "model.npz"):
    form = {"config": json.dumps(config)} if config is not None else {}
    return client.post(
        "/api/v1/models", files={"file": (filename, data, "application/octet-stream")}, data=form
    )


UPLOAD_CONFIG = {
    "output_activation": "softmax",
    "input_encoding": "onehot",
    "vocab": ["x", "y", "z"],
    "name": "tiny gru",
}


@pytest.mark.parametrize("fmt", ["npz", "safetensors"])
def test_upload_describe_download_and_trace(client: TestClient, fmt: str) -> None:
    response = upload(client, torch_style_file(fmt), UPLOAD_CONFIG, f"m.{fmt}")
    assert response.status_code == 201, response.text
    info = response.json()
    model_id = info["id"]
    params = init_params(CONFIG, 9)
    assert model_id == content_id(CONFIG, params)
    assert info["config"]["cell"] == "gru" and info["meta"]["vocab"] == ["x", "y", "z"]
    assert client.get(f"/api/v1/models/{model_id}").json() == info

    for out_format in ("npz", "safetensors"):
        download = client.get(f"/api/v1/models/{model_id}/weights?format={out_format}")
        assert download.status_code == 200
        tensors = load_weights(download.content)
        for name, value in params.items():
            np.testing.assert_array_equal(tensors[name], value)

    trace = client.post(
        "/api/v1/trace",
        json={"weights": {"source": "stored", "id": model_id}, "input": {"text": "xyzzy"}, "precision": 12},
    ).json()
    expected = forward(params, CONFIG, np.array([0, 1, 2, 2, 1]))
    np.testing.assert_allclose(trace["output"]["probs"], expected.probs[:, 0], rtol=1e-11)
    assert trace["input"]["labels"] == list("xyzzy")


def test_the_same_model_gets_the_same_id(client: TestClient) -> None:
    first = upload(client, torch_style_file("npz"), UPLOAD_CONFIG).json()["id"]
    second = upload(client, torch_style_file("safetensors"), UPLOAD_CONFIG).json()["id"]
    assert first == second
    assert client.get("/api/v1/ready").json()["stored_models"] == 1


def test_stored_models_survive_a_restart(make_client: Callable[..., TestClient], settings) -> None:
    model_id = upload(make_client(), torch_style_file("npz"), UPLOAD_CONFIG).json()["id"]
    if not settings.database_url:
        assert Path(settings.database).is_file()
    restarted = make_client()  # a new app on the same store
    assert restarted.get(f"/api/v1/models/{model_id}").status_code == 200
    body = {"weights": {"source": "stored", "id": model_id}, "input": {"tokens": [0, 1]}}
    assert restarted.post("/api/v1/trace", json=body).status_code == 200


@pytest.mark.parametrize(
    ("data", "config"),
    [
        (b"not a model", None),
        (b"PK\x03\x04garbage", None),
        (b"\x80\x04pickle", None),
        (b"\x10\x00\x00\x00\x00\x00\x00\x00{not json header}", None),
    ],
)
def test_unreadable_files_are_422(client: TestClient, data: bytes, config: dict | None) -> None:
    response = upload(client, data, config)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


def test_bad_upload_config_is_422(client: TestClient) -> None:
    data = torch_style_file("npz")
    for config in ({"cell": "transformer"}, {"vocab": ["a"]}, {"colour": "red"}, {"output_labels": ["a"]}):
        response = upload(client, data, {**UPLOAD_CONFIG, **config})
        assert response.status_code == 422, config
    not_json = client.post("/api/v1/models", files={"file": ("m.npz", data)}, data={"config": "{"})
    assert not_json.status_code == 422
    assert upload(client, b"").status_code == 422
    assert client.post("/api/v1/models", data={"config": "{}"}).status_code == 422


def test_uploads_have_their_own_size_limit(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=100, max_upload_bytes=4000)
    data = torch_style_file("npz")
    assert 100 < len(data) < 4000
    assert upload(client, data, UPLOAD_CONFIG).status_code == 201
    assert upload(client, b"\0" * 5000).status_code == 413
    assert client.post("/api/v1/trace", json=lstm_request()).status_code == 413


def test_store_is_safe_across_threads(tmp_path: Path) -> None:
    store = ModelStore(open_database(tmp_path / "m.sqlite3"))
    ids: list[str] = []
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            config = NetworkConfig(cell="rnn", input_size=1, hidden_size=2)
            ids.append(store.put(config, init_params(config, seed % 4)))
            assert store.get(ids[-1]) is not None
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert store.count() == 4 and len(set(ids)) == 4
    reopened = ModelStore(open_database(tmp_path / "m.sqlite3"))
    stored = reopened.get(ids[0])
    assert stored is not None and stored.config.cell == "rnn"
    assert content_id(stored.config, stored.params) == ids[0]


def test_npz_blob_round_trip_keeps_dtype(tmp_path: Path) -> None:
    config = NetworkConfig(cell="lstm", input_size=2, hidden_size=2, dtype="float32")
    params = init_params(config, 0)
    store = ModelStore(open_database(tmp_path / "m.sqlite3"))
    stored = store.get(store.put(config, params, {"name": "f32"}))
    assert stored is not None and stored.meta == {"name": "f32"}
    assert all(stored.params[k].dtype == np.float32 for k in params)


def upload_bomb_cases() -> dict[str, bytes]:
    """Small files whose headers claim far more than an upload may unpack to (see tests/core/test_weights_bounds)."""
    import io
    import zipfile

    from test_weights_bounds import bomb, npy_header

    claims = io.BytesIO()
    with zipfile.ZipFile(claims, "w") as archive:
        archive.writestr("rnn.weight_ih_l0.npy", npy_header((10**12,)))
    return {
        "bzip2": bomb(1024 * 1024, zipfile.ZIP_BZIP2),
        "deflate": bomb(20 * 1024 * 1024, zipfile.ZIP_DEFLATED),  # 160 MiB of zeros, over the 128 MiB bound
        "trillion": claims.getvalue(),
    }


@pytest.mark.parametrize(
    ("case", "message"),
    [("bzip2", "bzip2"), ("deflate", "unpack to 167772288 bytes, over the limit"), ("trillion", "claims shape")],
)
def test_upload_bombs_are_422_before_any_data_is_read(client, case, message):
    reply = client.post("/api/v1/models", files={"file": ("m.npz", upload_bomb_cases()[case])})
    assert reply.status_code == 422, reply.text
    detail = reply.json()["detail"][0]
    assert detail["loc"] == ["body", "file"] and message in detail["msg"]
