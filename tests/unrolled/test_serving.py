"""trace.show(serve=True): the live simulator on the caller's model, on a loopback port, with the traced input."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest

import unrolled
from core.config import NetworkConfig
from core.params import init_params

VECTORS = NetworkConfig("lstm", input_size=2, hidden_size=3, output_size=1)
TEXT = NetworkConfig("gru", input_size=3, hidden_size=4, input_encoding="embedding", vocab_size=3, output_size=3,
                     output_activation="softmax")


def test_the_served_simulator_runs_the_traced_model_on_the_traced_input() -> None:
    x = np.random.default_rng(13).normal(size=(4, 2)) / 3
    trace = unrolled.trace((VECTORS, init_params(VECTORS, 13)), x)
    with trace.show(serve=True, t=1, open_browser=False) as server:
        query = parse_qs(urlsplit(server.url).query)
        assert query["t"] == ["1"] and query["model"] == [server.model_id]
        page = httpx.get(server.url, timeout=30)
        assert page.status_code == 200 and 'is-current" data-t="1"' in page.text
        base = server.url.split("/?")[0]
        reply = httpx.post(f"{base}/api/v1/trace", timeout=30, json={
            "weights": {"source": "stored", "id": server.model_id},
            "input": {"vectors": [[float(v) for v in step.split()] for step in query["input"][0].split(";")]},
            "precision": 17,
        })
        assert reply.status_code == 200, reply.text
        served = reply.json()
    np.testing.assert_array_equal(served["layers"][0]["quantities"]["h"], trace.quantity(0, 0, "h"))
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url, timeout=2)  # stopped


def test_a_token_model_is_served_with_its_vocabulary_as_typed_text(monkeypatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    model = (TEXT, init_params(TEXT, 14))
    trace = unrolled.trace(model, np.array([2, 0, 1, 1]), vocab=["a", "b", "c"])
    with trace.show(serve=True) as server:
        assert opened == [server.url]
        assert parse_qs(urlsplit(server.url).query)["input"] == ["cabb"]
        assert httpx.get(server.url, timeout=30).status_code == 200
    with pytest.raises(ValueError, match="pass vocab="):
        unrolled.trace(model, np.array([0, 1])).show(serve=True, open_browser=False)
