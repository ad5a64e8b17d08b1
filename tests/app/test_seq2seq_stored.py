"""Stored encoder-decoders: the store keeps them beside single networks (kind, config, weights, vocabularies),
POST /seq2seq/trace runs them by id with core's numbers, and each API refuses the other kind by name."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.storage import open_database
from app.storage.models import ModelStore, _pack, content_id
from core.config import NetworkConfig
from core.params import init_params as network_params
from core.seq2seq import Seq2SeqConfig, beam_decode, greedy_decode
from core.seq2seq import init_params as seq2seq_params

SRC = ["<pad>", "a", "b", "c"]
TGT = ["<pad>", "<start>", "<end>", "a", "b", "c"]
META = {"name": "reverse (trained)", "task": "reverse", "vocab": SRC, "tokenizer": "chars",
        "target_vocab": TGT, "target_joiner": ""}


def seq2seq_model() -> tuple[Seq2SeqConfig, dict[str, np.ndarray]]:
    config = Seq2SeqConfig(cell="lstm", src_vocab_size=len(SRC), tgt_vocab_size=len(TGT), embedding_size=3,
                           hidden_size=5, attention="general", max_length=6)
    return config, seq2seq_params(config, 11)


def network_model() -> tuple[NetworkConfig, dict[str, np.ndarray]]:
    config = NetworkConfig(cell="gru", input_size=2, hidden_size=3)
    return config, network_params(config, 2)


def test_a_seq2seq_model_survives_a_restart_on_a_real_file(tmp_path: Path) -> None:
    config, params = seq2seq_model()
    model_id = ModelStore(open_database(tmp_path / "models.sqlite")).put(config, params, META)
    assert model_id == content_id(config, params)
    reopened = ModelStore(open_database(tmp_path / "models.sqlite"))  # a new process: only the file is shared
    stored = reopened.get(model_id)
    assert stored is not None and stored.kind == "seq2seq" and stored.config == config
    assert stored.meta == META
    assert sorted(stored.params) == sorted(params)
    for name, value in params.items():
        np.testing.assert_array_equal(stored.params[name], value)
        assert stored.params[name].dtype == value.dtype
    described = reopened.describe(model_id)
    assert described is not None and described["kind"] == "seq2seq"
    assert described["config"] == config.to_dict()
    assert reopened.put(config, params, {"name": "again"}) == model_id  # content-addressed: no duplicate
    assert reopened.count() == 1 and reopened.get(model_id).meta == META


def test_a_file_from_before_kinds_stays_readable_and_takes_seq2seq_models(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    config, params = network_model()
    old_id = content_id(config, params)
    with sqlite3.connect(path) as db:  # the schema as it was, with one network in it
        db.execute("CREATE TABLE models (id TEXT PRIMARY KEY, config TEXT NOT NULL, meta TEXT NOT NULL, "
                   "weights BLOB NOT NULL, created REAL NOT NULL)")
        db.execute("INSERT INTO models VALUES (?, ?, ?, ?, ?)",
                   (old_id, json.dumps(config.to_dict()), "{}", _pack(params), 1.0))
    db.close()
    store = ModelStore(open_database(path))
    old = store.get(old_id)
    assert old is not None and old.kind == "network" and old.config == config
    assert store.describe(old_id)["kind"] == "network"
    new_id = store.put(*seq2seq_model(), META)
    assert ModelStore(open_database(path)).get(new_id).kind == "seq2seq"  # opening a migrated file again: no change
    assert store.count() == 2


@pytest.fixture
def stored_ids(client: TestClient) -> dict[str, str]:
    store = client.app.state.store
    return {"seq2seq": store.put(*seq2seq_model(), META), "network": store.put(*network_model(), {})}


def body(model_id: str, **extra: object) -> dict:
    return {"weights": {"source": "stored", "id": model_id}, "source": {"text": "abca", "tokenizer": "chars"},
            "precision": 12, **extra}


@pytest.mark.parametrize("decode", ["greedy", "beam"])
def test_the_api_runs_a_stored_seq2seq_model_with_cores_numbers(client, stored_ids, decode) -> None:
    response = client.post("/api/v1/seq2seq/trace", json=body(stored_ids["seq2seq"], decode=decode))
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["weights"] == {"source": "stored", "id": stored_ids["seq2seq"]}
    assert data["config"]["src_vocab"] == SRC and data["config"]["tgt_vocab"] == TGT
    assert data["source"]["labels"] == list("abca")
    config, params = seq2seq_model()
    source = np.array([SRC.index(c) for c in "abca"])
    if decode == "greedy":
        trace = greedy_decode(params, config, source, max_length=config.max_length)
    else:
        trace = beam_decode(params, config, source, width=3, max_length=config.max_length)
    np.testing.assert_allclose(data["output"]["probs"], trace.probs[:, 0], rtol=1e-9)
    assert data["output"]["tokens"] == trace.tokens[:, 0].tolist()
    np.testing.assert_allclose(data["context"]["c"], trace.context_c[:, 0], rtol=1e-9)
    np.testing.assert_allclose(data["attention"]["weights"], trace.attention.weights[:, 0], rtol=1e-9)


def test_get_model_describes_either_kind(client, stored_ids) -> None:
    seq2seq = client.get(f"/api/v1/models/{stored_ids['seq2seq']}").json()
    assert seq2seq["kind"] == "seq2seq" and seq2seq["config"]["attention"] == "general"
    assert seq2seq["meta"]["target_vocab"] == TGT
    network = client.get(f"/api/v1/models/{stored_ids['network']}").json()
    assert network["kind"] == "network" and network["config"]["input_size"] == 2


def test_a_stored_seq2seq_models_weights_download_with_their_state_dict_names(client, stored_ids) -> None:
    response = client.get(f"/api/v1/models/{stored_ids['seq2seq']}/weights")
    assert response.status_code == 200
    _, params = seq2seq_model()
    with np.load(io.BytesIO(response.content), allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(params)
        np.testing.assert_array_equal(npz["encoder.weight_hh_l0"], params["encoder.weight_hh_l0"])


def test_each_api_refuses_the_other_kind_and_an_unknown_id(client, stored_ids) -> None:
    unknown = client.post("/api/v1/seq2seq/trace", json=body("0" * 64))
    assert unknown.status_code == 404 and "no stored model" in unknown.text
    network = client.post("/api/v1/seq2seq/trace", json=body(stored_ids["network"]))
    assert network.status_code == 422
    assert "single network" in network.text and "POST /api/v1/trace" in network.text
    trace = client.post("/api/v1/trace", json={"weights": {"source": "stored", "id": stored_ids["seq2seq"]},
                                               "input": {"tokens": [1, 2]}})
    assert trace.status_code == 422
    assert "encoder-decoder" in trace.text and "POST /api/v1/seq2seq/trace" in trace.text
    with_model = client.post("/api/v1/seq2seq/trace", json={**body(stored_ids["seq2seq"]), "model": {}})
    assert with_model.status_code == 422 and "configuration is fixed" in with_model.text


@pytest.mark.sqlite_only  # the other server has its own file; on PostgreSQL both would share one database
@pytest.mark.parametrize("format", ["npz", "safetensors"])
def test_a_downloaded_seq2seq_model_uploads_to_another_server(client, make_client, stored_ids, format) -> None:
    weights = client.get(f"/api/v1/models/{stored_ids['seq2seq']}/weights", params={"format": format}).content
    other = make_client(data_dir=client.app.state.settings.data_dir / "other")  # a server with its own store
    assert other.get(f"/api/v1/models/{stored_ids['seq2seq']}").status_code == 404
    config = {"name": "reverse, moved", "vocab": SRC, "target_vocab": TGT, "max_length": 6}
    uploaded = other.post("/api/v1/models", files={"file": (f"m.{format}", weights)},
                          data={"config": json.dumps(config)})
    assert uploaded.status_code == 201, uploaded.text
    described = uploaded.json()
    assert described["id"] == stored_ids["seq2seq"]  # the same config and tensors: the same content id
    assert described["kind"] == "seq2seq" and described["meta"]["target_vocab"] == TGT
    here = client.post("/api/v1/seq2seq/trace", json=body(stored_ids["seq2seq"])).json()
    there = other.post("/api/v1/seq2seq/trace", json=body(described["id"])).json()
    assert there["output"] == here["output"] and there["attention"] == here["attention"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"output_labels": ["x"]}, "describe a single network"),
        ({"target_vocab": TGT[:-1]}, "target_vocab has 5 tokens but the model's embedding has 6 rows"),
        ({"cell": "gru"}, "the tensors are a lstm encoder-decoder"),
        ({"max_length": 0}, "max_length"),
    ],
)
def test_bad_seq2seq_uploads_get_clear_errors(client, config, message) -> None:
    data = io.BytesIO()
    np.savez(data, **seq2seq_model()[1])
    reply = client.post("/api/v1/models", files={"file": ("m.npz", data.getvalue())},
                        data={"config": json.dumps(config)})
    assert reply.status_code == 422 and message in reply.text, reply.text


def test_seq2seq_fields_are_refused_for_a_single_network(client) -> None:
    data = io.BytesIO()
    np.savez(data, **network_model()[1])
    reply = client.post("/api/v1/models", files={"file": ("m.npz", data.getvalue())},
                        data={"config": json.dumps({"target_vocab": ["a"]})})
    assert reply.status_code == 422 and "describe an encoder-decoder" in reply.text


def test_an_uploaded_seq2seq_model_opens_in_the_seq2seq_view(client) -> None:
    data = io.BytesIO()
    np.savez(data, **seq2seq_model()[1])
    config = {"vocab": SRC, "target_vocab": TGT}  # no tokenizer: single-character tokens are typed as such
    model_id = client.post("/api/v1/models", files={"file": ("m.npz", data.getvalue())},
                           data={"config": json.dumps(config)}).json()["id"]
    page = client.get("/seq2seq", params={"model": model_id, "input": "abc"})
    assert page.status_code == 200
    assert "could not be used" not in page.text and "Attention" in page.text
