"""Security headers on every response, framing only for /embed, CORS only by allowlist, a JSON last resort."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from app_bodies import lstm_request
from fastapi.testclient import TestClient

CSP_PARTS = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'self'",
)


def check_common(headers) -> str:
    csp = headers["content-security-policy"]
    for part in CSP_PARTS:
        assert part in csp
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    return csp


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/health", None),
        ("GET", "/openapi.json", None),
        ("GET", "/no/such/page", None),
        ("POST", "/api/v1/trace", lstm_request()),
        ("POST", "/api/v1/trace", {"bad": 1}),
    ],
)
def test_every_response_carries_the_headers(client: TestClient, method: str, path: str, body: object) -> None:
    response = client.request(method, path, json=body)
    csp = check_common(response.headers)
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"


def test_error_responses_from_middleware_carry_the_headers(make_client: Callable[..., TestClient]) -> None:
    response = make_client(max_body_bytes=10).post("/api/v1/trace", json=lstm_request())
    assert response.status_code == 413
    check_common(response.headers)


def test_embed_routes_may_be_framed_by_the_allowlist(make_client: Callable[..., TestClient]) -> None:
    client = make_client(embed_frame_ancestors=("'self'", "https://moodle.example.edu"))
    response = client.get("/embed/anything")
    csp = check_common(response.headers)
    assert "frame-ancestors 'self' https://moodle.example.edu" in csp
    assert "x-frame-options" not in response.headers
    assert "x-frame-options" in client.get("/embedded").headers  # only the /embed path itself and below


def test_cors_is_off_by_default_and_follows_the_allowlist(make_client: Callable[..., TestClient]) -> None:
    origin = {"origin": "https://course.example.edu"}
    assert "access-control-allow-origin" not in make_client().get("/api/v1/health", headers=origin).headers
    allowed = make_client(cors_origins=("https://course.example.edu",))
    assert (
        allowed.get("/api/v1/health", headers=origin).headers["access-control-allow-origin"]
        == origin["origin"]
    )
    other = allowed.get("/api/v1/health", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_an_unexpected_error_is_a_json_500_with_headers(client: TestClient, monkeypatch) -> None:
    import app.api.trace as trace_routes

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(trace_routes, "run_batch", broken)
    response = client.post("/api/v1/trace", json=lstm_request())
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error"}
    assert "a bug" not in response.text
    check_common(response.headers)


@pytest.mark.parametrize("path", ["/", "/cell", "/lessons", "/api/v1/health", "/static/css/app.css"])
def test_head_answers_like_get_without_a_body(client, path):
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-security-policy"] == got.headers["content-security-policy"]


def test_every_reply_sets_a_permissions_policy(client):
    for path in ("/", "/embed", "/api/v1/health", "/api/v1/nowhere"):
        assert "camera=()" in client.get(path).headers["permissions-policy"]


def test_the_seed_bound_is_exact_in_the_schema(client):
    """2^53 - 1 is the largest integer a JSON number states exactly; one more is a 422."""
    schema = client.get("/openapi.json").text
    assert "9.223372036854776e+18" not in schema and "9007199254740991" in schema
    body = {"model": {"cell": "rnn", "input_size": 1, "hidden_size": 1}, "input": {"vectors": [[0.0]]},
            "weights": {"source": "seed", "seed": 2**53}}
    reply = client.post("/api/v1/trace", json=body)
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"][-1] == "seed"
    body["weights"]["seed"] = 2**53 - 1
    assert client.post("/api/v1/trace", json=body).status_code == 200
