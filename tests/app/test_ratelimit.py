"""The per-client token bucket: bursts allowed, then 429 with Retry-After, refilled over time."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from app.http.ratelimit import TokenBuckets


def test_the_api_answers_429_with_retry_after(make_client: Callable[..., TestClient]) -> None:
    client = make_client(rate_limit_per_minute=6, rate_limit_burst=3)
    codes = [client.get("/api/v1/limits").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/api/v1/limits")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) == 10  # one token per 10 s at 6 a minute
    assert "retry" in limited.json()["detail"]
    assert limited.headers["x-content-type-options"] == "nosniff"


def test_pages_share_the_bucket_and_probes_and_static_files_do_not(make_client: Callable[..., TestClient]) -> None:
    client = make_client(rate_limit_per_minute=6, rate_limit_burst=2)
    assert [client.get(p).status_code for p in ("/lessons", "/api/v1/limits", "/")] == [200, 200, 429]
    for path in ("/api/v1/health", "/api/v1/ready", "/static/css/app.css"):
        assert all(client.get(path).status_code == 200 for _ in range(3)), path


def test_buckets_refill_and_are_per_client() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=2, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(2)] == [0.0, 0.0]
    assert buckets.take("a") == 1.0
    assert buckets.take("b") == 0.0
    now[0] = 0.5
    assert buckets.take("a") == 0.5
    now[0] = 3.0
    assert buckets.take("a") == 0.0


def test_memory_is_bounded() -> None:
    buckets = TokenBuckets(per_minute=60, burst=1, max_clients=3)
    for k in range(10):
        buckets.take(f"client-{k}")
    assert list(buckets.buckets) == ["client-7", "client-8", "client-9"]
