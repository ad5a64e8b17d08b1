"""Replies compressed as Accept-Encoding asks: zstd, br or gzip, q-values honoured, Vary set, cached bytes
reused, tiny replies and binary files left alone."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest
import zstandard
from app_bodies import lstm_request
from fastapi.testclient import TestClient

from app.http.compression import ENCODINGS, Codecs, accepted_weights, compressible, negotiate

DECODE: dict[str, Callable[[bytes], bytes]] = {
    "zstd": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
    "br": brotli.decompress,
    "gzip": gzip.decompress,
}
STATIC = Path(__file__).resolve().parents[2] / "static"


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("gzip, deflate, br, zstd", "gzip"),  # Chromium: all equal, the cheapest per byte saved wins
        ("br, zstd", "br"),
        ("zstd", "zstd"),
        ("zstd;q=1, gzip;q=0.9", "zstd"),
        ("gzip", "gzip"),
        ("GZIP;Q=0.5", "gzip"),
        ("zstd;q=0, br;q=0, gzip", "gzip"),
        ("zstd;q=0.2, br;q=0.9, gzip;q=0.5", "br"),
        ("gzip;q=0", None),
        ("*", "gzip"),
        ("*;q=0.3, gzip;q=0", "br"),
        ("*;q=0.3, br;q=0.5", "br"),
        ("*;q=0", None),
        ("identity", None),
        ("gzip;q=0.5, identity", None),  # identity weighs more
        ("identity;q=0, gzip;q=0.1", "gzip"),
        ("deflate, compress", None),
        ("x-unknown, deflate;q=1", None),  # codings we do not offer are ignored, not an error
        ("x-unknown, br;q=0.4", "br"),
        ("gzip;q=abc", None),  # a malformed weight is not a yes
        ("gzip;q=2", None),
        ("", None),
        (None, None),
    ],
)
def test_negotiation_follows_the_weights(header: str | None, chosen: str | None) -> None:
    assert negotiate(header) == chosen


def test_weights_are_parsed_per_coding() -> None:
    assert accepted_weights("br;q=0.8 , gzip ; q=0.25,zstd") == {"br": 0.8, "gzip": 0.25, "zstd": 1.0}


def test_only_text_like_media_is_compressible() -> None:
    assert all(
        compressible(m)
        for m in (
            "application/json",
            "text/html; charset=utf-8",
            "text/csv",
            "application/problem+json",
            "image/svg+xml",
            "text/javascript",
        )
    )
    assert not any(compressible(m) for m in ("application/octet-stream", "image/png", None, ""))


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_encoding_decodes_to_the_same_json(client: TestClient, encoding: str) -> None:
    body = lstm_request()
    body["model"]["hidden_size"] = 16
    plain = client.post("/api/v1/trace", json=body, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.headers["vary"] == "Accept-Encoding"
    for expected_cache in ("hit", "hit"):  # the plain reply is cached: its compressed form is made once
        with client.stream("POST", "/api/v1/trace", json=body, headers={"accept-encoding": encoding}) as r:
            raw = b"".join(r.iter_raw())
            assert r.headers["content-encoding"] == encoding and r.headers["vary"] == "Accept-Encoding"
            assert r.headers["x-cache"] == expected_cache
            assert int(r.headers["content-length"]) == len(raw) < len(plain.content)
        assert json.loads(DECODE[encoding](raw)) == plain.json()


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_cache_hit_sends_the_stored_compressed_bytes(
    client: TestClient, encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = Codecs.compress

    def counting(self: Codecs, body: bytes, coding: str) -> bytes:
        calls.append(coding)
        return original(self, body, coding)

    monkeypatch.setattr(Codecs, "compress", counting)
    body = lstm_request()
    body["model"]["hidden_size"] = 16

    def raw() -> tuple[bytes, str]:
        with client.stream("POST", "/api/v1/trace", json=body, headers={"accept-encoding": encoding}) as r:
            return b"".join(r.iter_raw()), r.headers["x-cache"]

    first, second, third = raw(), raw(), raw()
    assert (first[1], second[1], third[1]) == ("miss", "hit", "hit")
    assert first[0] == second[0] == third[0]
    assert calls == [encoding]  # compressed once, on the miss


def test_uncached_json_and_pages_are_compressed_too(client: TestClient) -> None:
    for path in ("/openapi.json", "/"):
        plain = client.get(path, headers={"accept-encoding": "identity"})
        with client.stream("GET", path, headers={"accept-encoding": "br;q=1, gzip;q=0.5"}) as r:
            raw = b"".join(r.iter_raw())
            assert r.headers["content-encoding"] == "br" and "Accept-Encoding" in r.headers["vary"]
        assert brotli.decompress(raw) == plain.content


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_static_files_are_compressed_as_they_stream(client: TestClient, encoding: str) -> None:
    source = (STATIC / "js" / "sim.js").read_bytes()
    with client.stream("GET", "/static/js/sim.js", headers={"accept-encoding": encoding}) as r:
        raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == encoding
    assert DECODE[encoding](raw) == source


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_one_shot_and_streamed_compression_decode_alike(encoding: str) -> None:
    body = (STATIC / "js" / "sim.js").read_bytes()
    codecs = Codecs()
    stream = codecs.stream(encoding)
    pieces = [stream.compress(body[k : k + 4096]) for k in range(0, len(body), 4096)]
    streamed = b"".join(pieces) + stream.finish()
    assert DECODE[encoding](streamed) == DECODE[encoding](codecs.compress(body, encoding)) == body
    assert codecs.compress(body, encoding) == codecs.compress(body, encoding)  # deterministic: cacheable


def test_q_zero_is_respected(client: TestClient) -> None:
    body = lstm_request()
    body["model"]["hidden_size"] = 16
    refused = client.post("/api/v1/trace", json=body, headers={"accept-encoding": "gzip;q=0, zstd;q=0"})
    assert "content-encoding" not in refused.headers
    page = client.get("/", headers={"accept-encoding": "br;q=0"})
    assert "content-encoding" not in page.headers and "Accept-Encoding" in page.headers["vary"]


def test_tiny_replies_and_binary_files_are_not_compressed(client: TestClient) -> None:
    health = client.get("/api/v1/health", headers={"accept-encoding": "zstd, br, gzip"})
    assert "content-encoding" not in health.headers
    body = lstm_request()
    body["model"]["hidden_size"] = 64
    npz = client.post("/api/v1/trace/export?format=npz", json=body, headers={"accept-encoding": "zstd, gzip"})
    assert npz.status_code == 200 and len(npz.content) > 1000
    assert "content-encoding" not in npz.headers and "vary" not in npz.headers
    assert npz.content[:2] == b"PK"


def test_levels_come_from_the_settings(make_client: Callable[..., TestClient]) -> None:
    body = lstm_request()
    body["model"]["hidden_size"] = 32
    sizes = []
    for quality in (0, 9):
        client = make_client(brotli_quality=quality)
        with client.stream("POST", "/api/v1/trace", json=body, headers={"accept-encoding": "br"}) as r:
            sizes.append(len(b"".join(r.iter_raw())))
    assert sizes[1] < sizes[0]


@pytest.mark.parametrize(("setting", "encoding", "low", "high"), [
    ("zstd_level", "zstd", -50, 3),  # negative zstd levels: faster, larger
    ("gzip_level", "gzip", 0, 2),
])
def test_lower_levels_give_larger_replies_that_still_decode(
    make_client: Callable[..., TestClient], setting: str, encoding: str, low: int, high: int
) -> None:
    body = lstm_request()
    body["model"]["hidden_size"] = 32
    sizes, decoded = [], []
    for level in (low, high):
        client = make_client(**{setting: level})
        with client.stream("POST", "/api/v1/trace", json=body, headers={"accept-encoding": encoding}) as r:
            raw = b"".join(r.iter_raw())
        sizes.append(len(raw))
        decoded.append(DECODE[encoding](raw))
    assert sizes[1] < sizes[0] and decoded[0] == decoded[1]
