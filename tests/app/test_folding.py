"""Typed text for models whose vocabulary folds case and names an unknown token: POST /api/v1/trace reads
it in lower case and maps other tokens to the unknown token (and says which), instead of refusing it."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from core.network import forward
from core.presets import load_preset
from core.tasks.english import UNKNOWN, VOCAB


def trace(client: TestClient, preset: str, text: str, tokenizer: str = "chars") -> dict:
    body = {
        "weights": {"source": "preset", "name": preset},
        "input": {"text": text, "tokenizer": tokenizer},
        "precision": 10,
    }
    reply = client.post("/api/v1/trace", json=body)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_the_english_model_folds_case_and_reads_unknown_characters_as_its_unknown_token(client: TestClient):
    typed = "Hello World €"
    got = trace(client, "english", typed)
    section = got["input"]
    assert section["labels"] == list("hello world ") + [UNKNOWN]
    assert section["typed"] == list(typed)
    assert section["unknown"] == [False] * 12 + [True]
    assert section["tokens"] == VOCAB.encode(typed).tolist()
    # The numbers are the model's on the folded text.
    preset = load_preset("english")
    ref = forward(preset.params, preset.config, VOCAB.encode("hello world □"))
    np.testing.assert_allclose(got["output"]["probs"], ref.probs[:, 0], rtol=1e-8, atol=1e-12)
    assert got["config"]["vocab"][-1] == UNKNOWN


def test_typing_the_unknown_token_itself_is_not_flagged(client: TestClient):
    assert trace(client, "english", "a□")["input"]["unknown"] == [False, False]


def test_a_model_without_an_unknown_token_still_refuses_other_tokens(client: TestClient):
    body = {"weights": {"source": "preset", "name": "chars"}, "input": {"text": "the Zebra"}}
    reply = client.post("/api/v1/trace", json=body)
    assert reply.status_code == 422 and "not in the vocabulary" in reply.text and "'Z'" in reply.text


def test_sentiment_reads_capitalised_and_unknown_words(client: TestClient):
    got = trace(client, "sentiment", "What a SPLENDID Morning", "words")
    section = got["input"]
    assert section["labels"] == ["what", "a", "<unk>", "morning"]
    assert section["typed"] == ["What", "a", "SPLENDID", "Morning"]
    assert section["unknown"] == [False, False, True, False]
    assert got["config"]["output_labels"] == ["negative", "positive"]
    assert got["output"]["predicted_labels"][-1] in ("negative", "positive")


def test_vector_and_token_inputs_have_no_typed_labels(client: TestClient):
    body = {"weights": {"source": "preset", "name": "english"}, "input": {"tokens": [1, 2, 3]}}
    section = client.post("/api/v1/trace", json=body).json()["input"]
    assert section["typed"] is None and section["unknown"] is None and section["labels"] == ["a", "b", "c"]
