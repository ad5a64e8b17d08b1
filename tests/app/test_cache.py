"""The response cache: same request, same bytes, computed once; bounded in bytes; gzip cached beside."""

from __future__ import annotations

import gzip
from collections.abc import Callable

from app_bodies import lstm_request
from fastapi.testclient import TestClient

from app.http.cache import ResponseCache


def test_a_repeated_request_is_served_from_the_cache(client: TestClient) -> None:
    first = client.post("/api/v1/trace", json=lstm_request(), headers={"accept-encoding": "identity"})
    again = client.post("/api/v1/trace", json=lstm_request(), headers={"accept-encoding": "identity"})
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    assert first.content == again.content
    other = client.post(
        "/api/v1/trace", json=lstm_request(precision=5), headers={"accept-encoding": "identity"}
    )
    assert other.headers["x-cache"] == "miss"
    step = client.post("/api/v1/trace/step?t=1", json=lstm_request())
    assert step.headers["x-cache"] == "miss"
    assert client.post("/api/v1/trace/step?t=2", json=lstm_request()).headers["x-cache"] == "miss"
    assert client.post("/api/v1/trace/step", json=lstm_request(t=1)).headers["x-cache"] == "hit"


def test_gzip_replies_are_cached_and_decode_to_the_same_json(client: TestClient) -> None:
    body = lstm_request()
    body["model"]["hidden_size"] = 16
    plain = client.post("/api/v1/trace", json=body, headers={"accept-encoding": "identity"})
    zipped = client.stream("POST", "/api/v1/trace", json=body, headers={"accept-encoding": "gzip"})
    with zipped as response:
        raw = b"".join(response.iter_raw())
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["x-cache"] == "hit"
    assert gzip.decompress(raw) == plain.content


def test_errors_are_not_cached_and_the_cache_can_be_off(make_client: Callable[..., TestClient]) -> None:
    client = make_client(cache_bytes=0)
    codes = [client.post("/api/v1/trace", json=lstm_request()).headers["x-cache"] for _ in range(2)]
    assert codes == ["miss", "miss"]
    bad = lstm_request()
    bad["model"]["num_layers"] = 9
    assert [client.post("/api/v1/trace", json=bad).status_code for _ in range(2)] == [422, 422]


def test_lru_eviction_keeps_within_the_byte_budget() -> None:
    cache = ResponseCache(max_bytes=100)
    for name in "abcd":
        cache.put(name, b"x" * 20)
    assert cache.size == 80
    cache.get("a")  # a is now the most recently used
    cache.put("e", b"x" * 25)
    assert cache.size <= 100 and "b" not in cache.entries and "a" in cache.entries
    cache.put("huge", b"x" * 60)  # over a quarter of the budget: not kept
    assert "huge" not in cache.entries
    rendered: list[int] = []
    value, hit = cache.get_or_render("f", lambda: rendered.append(1) or b"y")
    assert (value, hit, rendered) == (b"y", False, [1])
    assert cache.get_or_render("f", lambda: b"z") == (b"y", True)
