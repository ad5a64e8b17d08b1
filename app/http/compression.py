"""Content-Encoding of replies: zstd, brotli or gzip, chosen from the client's Accept-Encoding.

Negotiation follows RFC 9110 §12.5.3: each coding in Accept-Encoding carries a weight q (default 1; q=0 means
"not acceptable"), ``*`` stands for every coding not named, and ``identity`` (no encoding) is acceptable
unless excluded. The coding with the highest q wins; among equal weights the one cheapest per byte saved
does; identity (no encoding) wins only when the client names it with a higher q.

Levels are each coder's fastest that still saves most of the bytes. On the benchmark's 170 kB trace reply
(bench/results/server.md, ``phase_costs``; 22,000 numbers):

    coder, level          compress   throughput   bytes per number   (plain: 7.8)
    gzip, ISA-L level 1   ~0.35 ms   ~490 MB/s    2.9                (level 0: ~8% faster, 3.3)
    zstd, level -12       ~0.39 ms   ~440 MB/s    4.3                (-20: ~15% faster, 4.9; -30: 5.8)
    br, quality 0         ~0.42 ms   ~400 MB/s    3.1                (quality 1: ~2.5x the time, 2.8)

The numbers' digits are what costs: they barely repeat, so every coder spends its time entropy-coding
literals, and the zstd command-line tool measures the same ~490 MB/s at -12 on this reply. Against a computed
trace that costs ~1.2 ms of work in process (~1.5-1.8 ms of server CPU with HTTP), a compressed reply costs
1.2-1.3x the plain one for one client and 1.3-1.4x under 64 connections, at or over the 1.2x target; lower
levels give up most of the saving for little CPU (bench/README.md has the profile). What
can be saved is saved: a reply is compressed once, in one call on the whole body, and cached compressed
(app.api.replies), so a cache hit costs less than a plain one (fewer bytes to write); static files are
compressed once per encoding (app.http.static_files).

gzip is written by ISA-L's igzip (the ``isal`` package: a deflate encoder built for speed, levels 0-3),
which makes it both the cheapest and the smallest of the three here, so a client weighing them equally
(Chromium sends ``gzip, deflate, br, zstd``) gets gzip, then br, then zstd. zstd's negative ("fast") levels
skip ahead over unmatched input, the further the lower the level.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass
from typing import Protocol

import brotli
import zstandard
from isal import isal_zlib

#: Codings offered, best first when the client weighs them equally: cheapest per byte saved at our levels.
ENCODINGS = ("gzip", "br", "zstd")
#: Media types worth compressing; everything else (npz and safetensors files, images) is sent as it is.
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml", "application/xml")


def accepted_weights(header: str) -> dict[str, float]:
    """{coding: q} of an Accept-Encoding header, lower-cased; a malformed q counts as 0 (not acceptable)."""
    weights: dict[str, float] = {}
    for item in header.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        if not coding:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
                q = q if 0.0 <= q <= 1.0 else 0.0
        weights[coding.lower()] = q
    return weights


def negotiate(header: str | None, offered: tuple[str, ...] = ENCODINGS) -> str | None:
    """The coding to send for Accept-Encoding ``header`` (None: send the body as it is)."""
    if not header:
        return None
    weights = accepted_weights(header)
    wildcard = weights.get("*")
    best, best_q = None, 0.0
    for coding in offered:
        q = weights.get(coding, wildcard if wildcard is not None else 0.0)
        if q > best_q:
            best, best_q = coding, q
    # Identity is always acceptable (a client that refuses it still gets it rather than a 406), and wins
    # only where the client weighs it above every coding we offer.
    identity = weights.get("identity", 0.0)
    return best if best is not None and best_q >= identity else None


def compressible(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media.startswith(COMPRESSIBLE) or media.endswith("+json")


class StreamCompressor(Protocol):
    def compress(self, chunk: bytes) -> bytes: ...

    def finish(self) -> bytes: ...


class _Gzip:
    def __init__(self, level: int) -> None:
        self._z = isal_zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: a gzip header and trailer

    def compress(self, chunk: bytes) -> bytes:
        return self._z.compress(chunk)

    def finish(self) -> bytes:
        return self._z.flush()


class _Brotli:
    def __init__(self, quality: int) -> None:
        self._b = brotli.Compressor(quality=quality)

    def compress(self, chunk: bytes) -> bytes:
        return self._b.process(chunk)

    def finish(self) -> bytes:
        return self._b.finish()


class _Zstd:
    def __init__(self, level: int) -> None:
        # Its own compressor: a stream lives across awaits, while other replies use the thread's compressor.
        self._z = zstandard.ZstdCompressor(level=level).compressobj()

    def compress(self, chunk: bytes) -> bytes:
        return self._z.compress(chunk)

    def finish(self) -> bytes:
        return self._z.flush()


@dataclass(frozen=True)
class Codecs:
    """Compressors at the server's levels. A ZstdCompressor must not be used by two threads at once, so each
    thread keeps its own."""

    zstd_level: int = -12
    brotli_quality: int = 0
    gzip_level: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "_local", threading.local())

    def _zstd(self) -> zstandard.ZstdCompressor:
        local = self._local  # type: ignore[attr-defined]
        compressor = getattr(local, "zstd", None)
        if compressor is None:
            compressor = local.zstd = zstandard.ZstdCompressor(level=self.zstd_level)
        return compressor

    def compress(self, body: bytes, encoding: str) -> bytes:
        """``body`` as one complete stream of ``encoding``: deterministic, so equal bodies give equal bytes."""
        if encoding == "zstd":
            return self._zstd().compress(body)
        if encoding == "br":
            return brotli.compress(body, quality=self.brotli_quality)
        if encoding == "gzip":
            z = isal_zlib.compressobj(self.gzip_level, zlib.DEFLATED, 31)
            return z.compress(body) + z.flush()
        raise ValueError(f"unknown encoding {encoding!r}")

    def stream(self, encoding: str) -> StreamCompressor:
        """A compressor fed chunk by chunk, for replies sent in pieces (a file streamed from disk)."""
        if encoding == "zstd":
            return _Zstd(self.zstd_level)
        if encoding == "br":
            return _Brotli(self.brotli_quality)
        if encoding == "gzip":
            return _Gzip(self.gzip_level)
        raise ValueError(f"unknown encoding {encoding!r}")
