"""Every HTTP content coder within reach, at its fast levels, on the server benchmark's computed trace reply.

The server benchmark (bench_server.py) finds a compressed computed trace costing 1.2-1.4x the plain reply's CPU
against a target of 1.2x, and the time is spent inside the coder. This script asks whether another registry
package, or another level, would do the same job for less: for each coder it measures the CPU time of
compressing the reply (``time.process_time``, median over distinct replies: a new seed each, as in the server
benchmark), its throughput, and the bytes per recorded number, beside the in-process work of computing that
reply (validate, resolve, forward pass, round, encode JSON), all in one run so that the ratios compare like
with like. Every coder's output is decoded by the standard decoder of its coding and checked against the reply.

The coders the server uses (isal, zstandard, brotli) are dependencies; the others are measured when installed
(``pip install zlib-ng deflate cramjam`` into the virtualenv) and listed as missing otherwise.

    "work + coder / work" is (in-process work + compress) / in-process work. The server's plain reply also
    pays the framework and HTTP (about 0.3 ms here), so the ratio the server benchmark measures is lower than
    this one for a quiet single request and higher under 64 connections, where the coders slow down most.

Usage: .venv/bin/python bench/bench_codecs.py [--replies 40] [--repeats 15]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from app.cli import single_blas_thread

single_blas_thread()

import brotli  # noqa: E402
import zstandard  # noqa: E402
from isal import isal_zlib  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import TRACE_BODY, count_numbers  # noqa: E402
from results_file import write_results  # noqa: E402

from app.schemas.requests import TraceRequest  # noqa: E402
from app.services.resolve import resolve  # noqa: E402
from app.services.trace import TraceResult, select_quantities  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.wire.serialize import dumps, trace_payload  # noqa: E402
from core.network import forward  # noqa: E402

Coder = Callable[[bytes], bytes]


def render(seed: int) -> bytes:
    """The body of ``POST /api/v1/trace`` for the benchmark's request with weights drawn from ``seed``."""
    limits = Settings.from_env().limits
    req = TraceRequest.model_validate_json(
        json.dumps({**TRACE_BODY, "weights": {"source": "seed", "seed": seed}})
    )
    model, encoded = resolve(req, None, limits)
    trace = forward(model.params, model.config, encoded.values, shape=req.shape)
    quantities = select_quantities(model.config, req.include)
    return dumps(trace_payload(TraceResult(trace, model, encoded, quantities, limits.default_precision)))


def _gzip_isal(level: int) -> Coder:
    def coder(body: bytes) -> bytes:
        z = isal_zlib.compressobj(level, zlib.DEFLATED, 31)
        return z.compress(body) + z.flush()

    return coder


def _gzip_stdlib(level: int, strategy: int = zlib.Z_DEFAULT_STRATEGY) -> Coder:
    def coder(body: bytes) -> bytes:
        z = zlib.compressobj(level, zlib.DEFLATED, 31, 8, strategy)
        return z.compress(body) + z.flush()

    return coder


def coders() -> tuple[dict[str, tuple[str, Coder]], list[str]]:
    """{name: (coding, compress)} of every coder installed, and the names of the optional ones missing."""
    found: dict[str, tuple[str, Coder]] = {}
    for level in range(4):
        found[f"gzip: isal (ISA-L igzip) level {level}"] = ("gzip", _gzip_isal(level))
    found["gzip: zlib (stdlib) level 1"] = ("gzip", _gzip_stdlib(1))
    found["gzip: zlib (stdlib) Huffman only"] = ("gzip", _gzip_stdlib(1, zlib.Z_HUFFMAN_ONLY))
    for level in (1, -1, -5, -12, -20, -50):
        found[f"zstd: zstandard level {level}"] = ("zstd", zstandard.ZstdCompressor(level=level).compress)
    for quality in (0, 1):
        found[f"br: brotli quality {quality}"] = ("br", lambda b, q=quality: brotli.compress(b, quality=q))
    missing = []
    try:
        from zlib_ng import zlib_ng

        def ng(level: int, strategy: int) -> Coder:
            def coder(body: bytes) -> bytes:
                z = zlib_ng.compressobj(level, zlib_ng.DEFLATED, 31, 8, strategy)
                return z.compress(body) + z.flush()

            return coder

        found["gzip: zlib-ng level 1"] = ("gzip", ng(1, zlib_ng.Z_DEFAULT_STRATEGY))
        found["gzip: zlib-ng Huffman only"] = ("gzip", ng(1, zlib_ng.Z_HUFFMAN_ONLY))
    except ImportError:
        missing.append("zlib-ng")
    try:
        import deflate

        found["gzip: deflate (libdeflate) level 1"] = ("gzip", lambda b: deflate.gzip_compress(b, 1))
    except ImportError:
        missing.append("deflate (libdeflate)")
    try:
        import cramjam

        found["gzip: cramjam level 1"] = ("gzip", lambda b: bytes(cramjam.gzip.compress(b, level=1)))
        found["zstd: cramjam level 1"] = ("zstd", lambda b: bytes(cramjam.zstd.compress(b, level=1)))
        found["br: cramjam quality 0"] = ("br", lambda b: bytes(cramjam.brotli.compress(b, level=0)))
    except ImportError:
        missing.append("cramjam")
    return found, missing


def decode(data: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip.decompress(data)
    if coding == "zstd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return bytes(brotli.decompress(data))


def cpu_ms(fn: Callable[[], object], repeats: int) -> float:
    """Median CPU milliseconds of ``fn()`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append((time.process_time() - start) * 1e3)
    return statistics.median(times)


def measure(replies: int, repeats: int) -> dict:
    for seed in range(5):  # warm-up: imports, caches
        render(seed)
    bodies = [render(1000 + k) for k in range(replies)]
    work = statistics.median(cpu_ms(lambda s=1000 + k: render(s), 3) for k in range(replies))
    numbers = count_numbers(json.loads(bodies[0]))
    found, missing = coders()
    rows = {}
    for name, (coding, coder) in found.items():
        assert all(decode(coder(body), coding) == body for body in bodies[:3]), name
        ms = statistics.median(cpu_ms(lambda b=body, c=coder: c(b), repeats) for body in bodies)
        size = statistics.median(len(coder(body)) for body in bodies)
        rows[name] = {
            "coding": coding,
            "compress_ms": ms,
            "mb_per_s": len(bodies[0]) / ms / 1e3,
            "bytes_per_number": size / numbers,
            "work_ratio": (work + ms) / work,
        }
    return {
        "reply_bytes": len(bodies[0]),
        "numbers": numbers,
        "work_ms": work,
        "coders": rows,
        "missing": missing,
        "replies": replies,
        "repeats": repeats,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "cpu": _cpu_model()},
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")


def report(r: dict) -> str:
    rows = "\n".join(
        f"| {name} | {v['compress_ms']:.3f} | {v['mb_per_s']:.0f} | {v['bytes_per_number']:.2f} | "
        f"{v['work_ratio']:.2f} |"
        for name, v in sorted(r["coders"].items(), key=lambda item: item[1]["compress_ms"])
    )
    budget = 0.2 * r["work_ms"]
    plain = r["reply_bytes"] / r["numbers"]
    within = [
        f"{name} ({v['bytes_per_number']:.2f} bytes per number)"
        for name, v in r["coders"].items()
        if v["compress_ms"] <= budget
    ]
    halving = [
        (v["compress_ms"], name, v) for name, v in r["coders"].items() if v["bytes_per_number"] <= plain / 2
    ]
    ms, name, v = min(halving)
    missing = ", ".join(r["missing"]) or "none"
    return f"""# Content coders on a computed trace reply

{r["when"]}; {r["machine"]["cpus"]} CPUs ({r["machine"]["cpu"]}), shared with other work, load
{r["loadavg"][0]}; Python {r["machine"]["python"]}. Command: `.venv/bin/python bench/bench_codecs.py`

The reply of bench_server.py's computed trace (LSTM, T=50, H=64, precision 4, default include):
{r["reply_bytes"]} bytes, {r["numbers"]} numbers, {plain:.2f} bytes per number plain.
Computing it in process costs **{r["work_ms"]:.3f} ms** of CPU (median over {r["replies"]} seeds); each
coder's time is the median over the same {r["replies"]} replies of the median of {r["repeats"]} calls.
Optional coders not installed: {missing}.

| coder | compress ms | MB/s | bytes per number | work + coder / work |
|---|---:|---:|---:|---:|
{rows}

For a compressed reply to cost at most 1.2x the plain one, compressing must cost at most a fifth of the
work: {budget:.3f} ms, {r["reply_bytes"] / budget / 1e3:.0f} MB/s for this reply (the server's plain reply also
pays about 0.3 ms of framework and HTTP, which widens the budget for one quiet client; under 64 connections the
coders slow down more than the rest, which narrows it). Within {budget:.3f} ms: {", ".join(within) or "no coder"}.
The cheapest coder that at least halves the bytes is {name}: {ms:.3f} ms ({v["mb_per_s"]:.0f} MB/s,
{v["bytes_per_number"]:.2f} bytes per number), {v["work_ratio"]:.2f}x the work.
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    result = measure(args.replies, args.repeats)
    write_results("codecs", report(result), result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
