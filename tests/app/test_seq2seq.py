"""POST /seq2seq/trace: the same numbers as core.seq2seq for greedy, beam and teacher-forced decoding."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.services.limits import Limits
from core.seq2seq import Seq2SeqConfig, beam_decode, forward, greedy_decode, init_params

TGT = ["<pad>", "<start>", "<end>", "ils", "regardent", "."]
SOURCE = "they are watching ."
SRC = ["<pad>", ".", "are", "they", "watching"]  # built from the text: PAD, then sorted unique words


def request(decode: str = "greedy", **extra: object) -> dict:
    body = {
        "model": {
            "cell": "gru",
            "hidden_size": 6,
            "embedding_size": 4,
            "attention": "additive",
            "tgt_vocab": TGT,
            "max_length": 7,
        },
        "weights": {"source": "seed", "seed": 4},
        "source": {"text": SOURCE, "tokenizer": "words"},
        "decode": decode,
        "precision": 10,
    }
    body.update(extra)
    return body


def core_config() -> Seq2SeqConfig:
    return Seq2SeqConfig(
        cell="gru",
        src_vocab_size=len(SRC),
        tgt_vocab_size=len(TGT),
        embedding_size=4,
        hidden_size=6,
        attention="additive",
        max_length=7,
    )


def source_ids() -> np.ndarray:
    return np.array([SRC.index(w) for w in SOURCE.split()])


def assert_matches(data: dict, trace) -> None:
    np.testing.assert_allclose(data["output"]["probs"], trace.probs[:, 0], rtol=1e-9)
    assert data["output"]["tokens"] == trace.tokens[:, 0].tolist()
    enc_h = trace.encoder.quantity(0, 0, "h")
    np.testing.assert_allclose(data["encoder"]["layers"][0]["quantities"]["h"], enc_h, rtol=1e-9)
    np.testing.assert_allclose(data["context"]["h"], trace.context[:, 0], rtol=1e-9)
    np.testing.assert_allclose(data["attention"]["weights"], trace.attention.weights[:, 0], rtol=1e-9)


def test_greedy_decoding_matches_core(client: TestClient) -> None:
    response = client.post("/api/v1/seq2seq/trace", json=request())
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["config"]["src_vocab"] == SRC and data["source"]["labels"] == SOURCE.split()
    config = core_config()
    trace = greedy_decode(init_params(config, 4), config, source_ids(), max_length=7)
    assert_matches(data, trace)
    np.testing.assert_allclose(np.sum(data["attention"]["weights"], axis=1), 1.0, rtol=1e-9)
    assert data["output"]["labels"] == [TGT[k] for k in trace.tokens[:, 0]]


def test_beam_search_matches_core(client: TestClient) -> None:
    data = client.post("/api/v1/seq2seq/trace", json=request("beam", beam_width=2)).json()
    config = core_config()
    assert_matches(data, beam_decode(init_params(config, 4), config, source_ids(), width=2, max_length=7))
    assert data["mode"] == "beam"


def test_teacher_forcing_appends_end_and_matches_core(client: TestClient) -> None:
    body = request(
        "teacher_forcing",
        targets={"text": "ils regardent .", "tokenizer": "words"},
        teacher_forcing=0.5,
        seed=3,
    )
    data = client.post("/api/v1/seq2seq/trace", json=body).json()
    config = core_config()
    targets = np.array([3, 4, 5, 2])
    trace = forward(init_params(config, 4), config, source_ids(), targets, teacher_forcing=0.5, seed=3)
    assert_matches(data, trace)
    assert data["decoder"]["steps"] == 4
    assert data["decoder"]["teacher_forced"] == trace.teacher_forced[:, 0].tolist()


@pytest.mark.parametrize(
    ("changes", "status", "loc"),
    [
        (
            {
                "source": {"text": "they sing", "tokenizer": "words"},
                "model": {"src_vocab": SRC, "tgt_vocab": TGT},
            },
            422,
            ["body", "source", "text"],
        ),
        ({"decode": "teacher_forcing"}, 422, ["body", "targets"]),
        ({"targets": {"tokens": [3]}}, 422, ["body", "targets"]),
        ({"weights": {"source": "preset", "name": "chars"}, "model": None}, 422, ["body", "weights", "name"]),
        ({"weights": {"source": "preset", "name": "nothing-here"}, "model": None}, 404, None),
        ({"source": {"tokens": [9]}, "model": {"src_vocab": SRC}}, 422, ["body", "source", "tokens"]),
        ({"model": {"attention": "dot", "decoder_hidden_size": 3}}, 422, ["body", "model"]),
        ({"model": {"hidden_size": True}}, 422, ["body", "model", "hidden_size"]),
        ({"include": ["h", "zz"]}, 422, ["body", "include"]),
    ],
)
def test_bad_seq2seq_requests(client: TestClient, changes: dict, status: int, loc: list | None) -> None:
    body = request()
    body.update({k: v for k, v in changes.items() if v is not None})
    if changes.get("model", 0) is None:
        body.pop("model")
    response = client.post("/api/v1/seq2seq/trace", json=body)
    assert response.status_code == status, response.text
    if loc is not None:
        assert response.json()["detail"][0]["loc"] == loc


def test_seq2seq_limits(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits=Limits(max_steps=5))
    response = client.post("/api/v1/seq2seq/trace", json=request())
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "max_length"]
    small_budget = make_client(limits=Limits(max_compute=1000))
    response = small_budget.post("/api/v1/seq2seq/trace", json=request())
    assert response.status_code == 422 and "compute budget" in response.text


def test_an_over_budget_seeded_request_is_refused_before_its_weights_are_drawn(client) -> None:
    """The budget is checked from the config and the lengths alone: drawing these weights would take ~50 MB."""
    import tracemalloc

    body = {
        "model": {"cell": "lstm", "embedding_size": 512, "hidden_size": 512, "num_layers": 4,
                  "src_vocab_size": 2000, "tgt_vocab_size": 2000, "max_length": 1000},
        "weights": {"source": "seed", "seed": 3},
        "source": {"tokens": [3] * 200},
    }
    client.post("/api/v1/seq2seq/trace", json=body)  # warm up the route's imports
    tracemalloc.start()
    response = client.post("/api/v1/seq2seq/trace", json=body)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert response.status_code == 422 and "compute budget" in response.text
    assert peak < 5 * 1024 * 1024
