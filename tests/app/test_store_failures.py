"""A store that cannot be used is a 503 naming it, on every route that needs it; /ready tells the truth; the rest
of the server keeps answering. Made unusable for real: the file deleted, or made immutable (chattr +i, since
tests run as root and root ignores file modes)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from app_bodies import lstm_request
from fastapi.testclient import TestClient
from test_models import torch_style_file

pytestmark = pytest.mark.sqlite_only  # the SQLite file deleted or frozen; PostgreSQL: test_store_failures_pg.py


@pytest.fixture
def stored(make_client: Callable[..., TestClient], settings) -> tuple[TestClient, str, Path]:
    client = make_client()
    reply = client.post("/api/v1/models", files={"file": ("m.npz", torch_style_file("npz"))},
                        data={"config": '{"input_encoding": "onehot", "vocab": ["a", "b", "c"]}'})
    assert reply.status_code == 201, reply.text
    return client, reply.json()["id"], settings.database


def delete(database: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def immutable() -> Iterator[Callable[[Path], None]]:
    if shutil.which("chattr") is None:
        pytest.skip("needs chattr (e2fsprogs) to make a file read-only for root")
    frozen: list[Path] = []

    def freeze(database: Path) -> None:
        for suffix in ("", "-wal", "-shm"):
            path = Path(f"{database}{suffix}")
            if path.exists():
                subprocess.run(["chattr", "+i", str(path)], check=True)
                frozen.append(path)

    yield freeze
    for path in frozen:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def assert_store_503(reply, database: Path) -> None:
    assert reply.status_code == 503, (reply.status_code, reply.text[:300])
    assert reply.headers["retry-after"] == "5"
    assert str(database) in reply.text


def test_a_deleted_store_is_503_everywhere_it_is_needed_and_only_there(stored):
    client, model_id, database = stored
    delete(database)
    assert_store_503(client.get("/api/v1/ready"), database)
    assert_store_503(client.get(f"/api/v1/models/{model_id}"), database)
    assert_store_503(client.get(f"/api/v1/models/{model_id}/weights"), database)
    assert_store_503(client.post("/api/v1/models", files={"file": ("m.npz", torch_style_file("npz"))}), database)
    body = {"weights": {"source": "stored", "id": model_id}, "input": {"text": "abc"}}
    assert_store_503(client.post("/api/v1/trace", json=body), database)
    page = client.get("/", params={"model": model_id})
    assert_store_503(page, database)
    assert "The stored model cannot be loaded" in page.text and "<svg" in page.text  # the default model still runs
    assert not database.exists()  # asking did not bring back an empty store
    # What does not need the store keeps working.
    assert client.post("/api/v1/trace", json=lstm_request()).status_code == 200
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/").status_code == 200


def test_a_read_only_store_fails_writes_with_503_and_is_not_ready(stored, immutable):
    client, model_id, database = stored
    immutable(database)
    assert_store_503(client.get("/api/v1/ready"), database)
    assert "readonly" in client.get("/api/v1/ready").text
    other = torch_style_file("safetensors")
    assert_store_503(client.post("/api/v1/models", files={"file": ("m.safetensors", other)}), database)
    assert_store_503(client.post("/api/v1/training", json={"task": "sine"}), database)
    assert client.get(f"/api/v1/models/{model_id}").status_code == 200  # reads still work


def test_a_store_failure_is_logged_once(stored, caplog):
    client, model_id, database = stored
    delete(database)
    with caplog.at_level("ERROR", logger="unrolled.store"):
        for _ in range(3):
            client.get(f"/api/v1/models/{model_id}")
    assert len([r for r in caplog.records if r.name == "unrolled.store"]) == 1

