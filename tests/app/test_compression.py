"""Replies compressed as Accept-Encoding asks: zstd, br or gzip, q-values honoured, Vary set, cached bytes
reused, tiny replies and binary files left alone."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest
import zstandard
from app_bodies import lstm_request
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.compress_middleware import CompressReplies
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
    calls = counting_compressions(monkeypatch)
    body = lstm_request()
    body["model"]["hidden_size"] = 16

    def raw() -> tuple[bytes, str]:
        with client.stream("POST", "/api/v1/trace", json=body, headers={"accept-encoding": encoding}) as r:
            return b"".join(r.iter_raw()), r.headers["x-cache"]

    first, second, third = raw(), raw(), raw()
    assert (first[1], second[1], third[1]) == ("miss", "hit", "hit")
    assert first[0] == second[0] == third[0]
    assert calls == [encoding]  # compressed once, on the miss


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_cached_compressed_reply_is_byte_for_byte_a_fresh_one(
    make_client: Callable[..., TestClient], encoding: str
) -> None:
    body = lstm_request()
    body["model"]["hidden_size"] = 16

    def raw(client: TestClient) -> tuple[bytes, str]:
        with client.stream("POST", "/api/v1/trace", json=body, headers={"accept-encoding": encoding}) as r:
            return b"".join(r.iter_raw()), r.headers["x-cache"]

    cached_client, uncached_client = make_client(), make_client(cache_bytes=0)
    raw(cached_client)
    cached, fresh = raw(cached_client), raw(uncached_client)
    assert (cached[1], fresh[1]) == ("hit", "miss")
    plain = uncached_client.post("/api/v1/trace", json=body, headers={"accept-encoding": "identity"}).content
    assert cached[0] == fresh[0] == Codecs().compress(plain, encoding)


def run_asgi(app: ASGIApp, accept: str) -> list[Message]:
    """The messages ``app`` sends for a GET / with Accept-Encoding ``accept``."""
    scope = {"type": "http", "method": "GET", "path": "/", "raw_path": b"/", "query_string": b"",
             "headers": [(b"accept-encoding", accept.encode())], "http_version": "1.1", "scheme": "http",
             "server": ("testserver", 80), "client": ("127.0.0.1", 1), "root_path": ""}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def streamed(chunks: list[bytes], status: int = 200, **headers: str) -> ASGIApp:
    """An ASGI app sending ``chunks`` as body messages, one at a time."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        for k, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": k < len(chunks) - 1})

    return app


def test_server_sent_events_pass_plain_one_message_per_event() -> None:
    events = [b"event: progress\ndata: {\"step\": %d}\n\n" % k for k in range(50)]  # 1.5 kB in all
    app = CompressReplies(streamed(events, content_type="text/event-stream"), Codecs(), minimum_size=1000)
    sent = run_asgi(app, "zstd, br, gzip")
    start, bodies = sent[0], sent[1:]
    assert b"content-encoding" not in dict(start["headers"])
    assert [m["body"] for m in bodies] == events  # each event leaves when it is written, unchanged


def test_a_reply_in_pieces_compresses_by_its_content_length() -> None:
    small = [b"a" * 400, b"b" * 400]
    sent = run_asgi(CompressReplies(streamed(small, content_type="text/css", content_length="800"),
                                    Codecs(), minimum_size=1000), "gzip")
    assert b"content-encoding" not in dict(sent[0]["headers"]) and [m["body"] for m in sent[1:]] == small
    large = [b"x { y: z; }\n" * 100, b"p { q: r; }\n" * 100]
    app = streamed(large, content_type="text/css", content_length="2400", etag='"abc"')
    sent = run_asgi(CompressReplies(app, Codecs(), minimum_size=1000), "gzip")
    headers = dict(sent[0]["headers"])
    assert headers[b"content-encoding"] == b"gzip" and b"content-length" not in headers
    assert headers[b"etag"] == b'W/"abc"'  # equivalent to the plain bytes, not the same bytes
    assert gzip.decompress(b"".join(m["body"] for m in sent[1:])) == b"".join(large)


def test_partial_content_is_never_compressed() -> None:
    part = [b"x { y: z; }\n" * 200]
    app = streamed(part, status=206, content_type="text/css", content_range="bytes 0-2399/9000")
    sent = run_asgi(CompressReplies(app, Codecs(), minimum_size=1000), "gzip, br")
    assert b"content-encoding" not in dict(sent[0]["headers"]) and sent[1]["body"] == part[0]


def test_uncached_json_and_pages_are_compressed_too(client: TestClient) -> None:
    for path in ("/openapi.json", "/"):
        plain = client.get(path, headers={"accept-encoding": "identity"})
        with client.stream("GET", path, headers={"accept-encoding": "br;q=1, gzip;q=0.5"}) as r:
            raw = b"".join(r.iter_raw())
            assert r.headers["content-encoding"] == "br" and "Accept-Encoding" in r.headers["vary"]
        assert brotli.decompress(raw) == plain.content


def counting_compressions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The encodings Codecs.compress is called for from now on, in order."""
    calls: list[str] = []
    original = Codecs.compress

    def counting(self: Codecs, body: bytes, coding: str) -> bytes:
        calls.append(coding)
        return original(self, body, coding)

    monkeypatch.setattr(Codecs, "compress", counting)
    return calls


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_static_files_are_compressed_once_then_sent_from_memory(
    client: TestClient, encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = counting_compressions(monkeypatch)
    source = (STATIC / "js" / "sim.js").read_bytes()
    plain = client.get("/static/js/sim.js", headers={"accept-encoding": "identity"})
    assert plain.content == source and "content-encoding" not in plain.headers
    replies = []
    for _ in range(3):
        with client.stream("GET", "/static/js/sim.js", headers={"accept-encoding": encoding}) as r:
            replies.append((b"".join(r.iter_raw()), r.headers))
    assert calls == [encoding]  # the first request compressed the file; the others sent the same bytes
    raw, headers = replies[0]
    assert all(other == raw for other, _ in replies[1:])
    assert DECODE[encoding](raw) == source
    assert headers["content-encoding"] == encoding and int(headers["content-length"]) == len(raw) < len(source)
    assert headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
    assert headers["content-type"] == plain.headers["content-type"]
    assert headers["last-modified"] == plain.headers["last-modified"]
    # Its own strong ETag: the plain file's, the coding appended inside the quotes.
    assert headers["etag"] == plain.headers["etag"][:-1] + f'-{encoding}"'
    assert "accept-ranges" not in headers  # ranges are offered on the plain bytes only
    head = client.head("/static/js/sim.js", headers={"accept-encoding": encoding})
    assert head.content == b"" and head.headers["content-length"] == headers["content-length"]
    assert head.headers["etag"] == headers["etag"] and head.headers["content-encoding"] == encoding


def test_each_representation_of_a_static_file_revalidates_against_its_own_etag(client: TestClient) -> None:
    path = "/static/js/sim.js"
    first = {e: client.get(path, headers={"accept-encoding": e}).headers for e in ("identity", *ENCODINGS)}
    tags = {e: headers["etag"] for e, headers in first.items()}
    assert len(set(tags.values())) == 4
    for encoding, tag in tags.items():
        again = client.get(path, headers={"accept-encoding": encoding, "if-none-match": tag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == tag and again.headers["vary"] == "Accept-Encoding"
        modified = first[encoding]["last-modified"]
        since = client.get(path, headers={"accept-encoding": encoding, "if-modified-since": modified})
        assert since.status_code == 304 and since.headers["etag"] == tag
    # Holding the gzip bytes does not make the brotli ones "not modified": they are sent in full.
    other = client.get(path, headers={"accept-encoding": "br", "if-none-match": tags["gzip"]})
    assert other.status_code == 200 and other.headers["etag"] == tags["br"]
    assert other.headers["content-encoding"] == "br"
    assert other.content == (STATIC / "js" / "sim.js").read_bytes()  # decoded by the client
    weak = client.get(path, headers={"accept-encoding": "zstd", "if-none-match": f"W/{tags['zstd']}"})
    assert weak.status_code == 304  # If-None-Match compares weakly


def test_each_application_compresses_static_files_at_its_own_levels(make_client: Callable[..., TestClient]) -> None:
    sizes = []
    for quality in (0, 9, 0):  # the third app compresses anew: no bytes are shared between applications
        with make_client(brotli_quality=quality).stream(
            "GET", "/static/js/sim.js", headers={"accept-encoding": "br"}
        ) as r:
            sizes.append(len(b"".join(r.iter_raw())))
    assert sizes[1] < sizes[0] == sizes[2]


def test_a_changed_static_file_is_compressed_anew(tmp_path: Path) -> None:
    from app.http.static_files import CompressedFiles

    file = tmp_path / "page.css"
    file.write_text("body { color: black; }\n" * 100)
    files, codecs = CompressedFiles(), Codecs()
    first = files.get(str(file), file.stat(), "gzip", codecs)
    assert files.get(str(file), file.stat(), "gzip", codecs) is first  # kept
    file.write_text("main { margin: 0; }\n" * 120)
    changed = files.get(str(file), file.stat(), "gzip", codecs)
    assert gzip.decompress(changed) == file.read_bytes()


def test_a_byte_range_of_a_static_file_counts_plain_bytes(client: TestClient) -> None:
    source = (STATIC / "js" / "sim.js").read_bytes()
    part = client.get("/static/js/sim.js", headers={"accept-encoding": "gzip, br, zstd", "range": "bytes=100-4099"})
    assert part.status_code == 206 and part.content == source[100:4100]
    assert "content-encoding" not in part.headers and part.headers["content-range"].startswith("bytes 100-4099/")


def test_small_static_files_are_sent_plain(client: TestClient) -> None:
    source = (STATIC / "css" / "evidence.css").read_bytes()
    assert len(source) < 1000
    small = client.get("/static/css/evidence.css", headers={"accept-encoding": "zstd, br, gzip"})
    assert small.content == source and "content-encoding" not in small.headers
    assert small.headers["vary"] == "Accept-Encoding"
    lti = client.get("/lti/static/autosubmit.js", headers={"accept-encoding": "gzip"})
    assert lti.status_code == 200 and "content-encoding" not in lti.headers and len(lti.content) < 1000


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
