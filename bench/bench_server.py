"""Load test of ``unrolled serve`` on loopback: an LSTM trace (T=50, H=64) against /api/v1/health.

Starts one uvicorn worker on a free 127.0.0.1 port (rate limit off, a throw-away data directory), then for
each scenario runs a closed loop of 64 connections for a fixed time with wrk (or, without wrk, asyncio + httpx
with a bounded number of requests), and writes bench/results/server.md and server.json:

* throughput of the trace as a fraction of /health's (target >= 25%),
* p50 / p99 latency of the trace (target p99 <= 150 ms),
* bytes per recorded number of one default JSON trace (precision 4), plain and in each encoding,
* the server's CPU per computed trace with the client asking for zstd, br, gzip or nothing (target: a
  compressed reply at most 1.2x the plain reply's CPU), and per cached reply in each (whose compressed bytes
  are cached too), and the CPU per request of a static file (STATIC_FILE) in each encoding,
* the server's CPU time per request (from /proc, Linux only): on a shared machine the throughput moves with
  whatever else runs, the CPU cost per request much less.

Health and the trace scenarios run back to back in each round, so their ratio compares like with like (the
plain and compressed computed traces are interleaved in short turns, --slices, so that they meet the same load); the
rounds are repeated (--rounds) and all are reported, with the load average before and after each.

Usage: [UNROLLED_INLINE_COMPUTE=2000000] [UNROLLED_THREADS=2] \
       .venv/bin/python bench/bench_server.py [--seconds 10] [--connections 64] [--rounds 3] [--slices 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from app.cli import single_blas_thread  # the standard library only: NumPy is not imported yet

# The in-process breakdown runs NumPy here, with one BLAS thread as `unrolled serve` sets for its workers.
single_blas_thread()

from results_file import write_results  # noqa: E402

from app.http.cache import request_key  # noqa: E402
from app.http.compression import Codecs  # noqa: E402
from app.schemas.requests import TraceRequest  # noqa: E402
from app.services.resolve import resolve  # noqa: E402
from app.services.trace import TraceResult, select_quantities  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.wire.serialize import dumps, trace_payload  # noqa: E402
from core.network import forward  # noqa: E402

UNCACHED = "trace (new seed each request)"
#: Content-Encodings the client asks for, each in its own scenario (the plain one is UNCACHED).
ENCODINGS = ("zstd", "br", "gzip")
UNCACHED_ENCODED = {encoding: f"trace {encoding} (new seed each request)" for encoding in ENCODINGS}
CACHED = "trace (same request: cached reply)"
CACHED_ENCODED = {encoding: f"trace {encoding} (same request: cached reply)" for encoding in ENCODINGS}
MANY = "trace, many clients (new seed each request)"
ROOT = Path(__file__).resolve().parents[1]
#: A static file of the pages, asked for plain and in each encoding (compressed once, then sent from memory).
STATIC_FILE = "/static/js/sim.js"
TEXT = "the quick brown fox jumps over the lazy dog; then the"[:50]
VOCAB = sorted(set(TEXT))
TRACE_BODY = {
    "model": {
        "cell": "lstm",
        "hidden_size": 64,
        "output_size": len(VOCAB),
        "output_activation": "softmax",
        "vocab": VOCAB,
    },
    "weights": {"source": "seed", "seed": 0},
    "input": {"text": TEXT},
}
WRK_SCRIPT = """
wrk.method = "{method}"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept-Encoding"] = "{encoding}"
local threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local sent = 0
if {distinct} then
  -- a new seed for every request (16 * n + thread id never repeats, and each run starts past the seeds of
  -- the runs before it), so no reply can come from the cache
  request = function()
    sent = sent + 1
    local body = string.gsub(wrk.body, '"seed": 0', '"seed": ' .. ({first_seed} + 16 * sent + tid))
    return wrk.format(nil, nil, nil, body)
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {{"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, '
    .. '"p99_us": %d, "max_us": %d, "socket_errors": %d, "non_2xx": %d}}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, data_dir: str) -> subprocess.Popen:
    env = {**os.environ, "UNROLLED_DATA_DIR": data_dir, "UNROLLED_RATE_LIMIT": "0"}
    script = Path(sys.executable).parent / "unrolled"
    server = subprocess.Popen(
        [
            str(script),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the server did not start within 30 s")


def post(url: str, body: dict[str, Any], encoding: str = "identity") -> tuple[bytes, dict[str, str]]:
    headers = {"content-type": "application/json", "accept-encoding": encoding}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as r:
        return r.read(), dict(r.headers)


def decode(data: bytes, encoding: str) -> bytes:
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    if encoding == "br":
        import brotli

        return bytes(brotli.decompress(data))
    return gzip.decompress(data)


def count_numbers(payload: dict[str, Any]) -> int:
    """Recorded numbers in a trace reply: every quantity of every layer, input x, y and probs."""

    def size(value: Any) -> int:
        return sum(size(v) for v in value) if isinstance(value, list) else int(value is not None)

    total = sum(size(q) for layer in payload["layers"] for q in layer["quantities"].values())
    output = payload["output"] or {}
    total += size(output.get("y") or []) + size(output.get("probs") or []) + size(payload["input"]["x"] or [])
    return total


_RUNS = [0]


def next_first_seed() -> int:
    """The first seed of a new load run: far past every seed an earlier run of this benchmark sent."""
    _RUNS[0] += 1
    return _RUNS[0] * 10_000_000


def run_wrk(
    url: str, method: str, body: str | None, seconds: int, connections: int, encoding: str, distinct: bool
) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(
            WRK_SCRIPT.format(
                method=method,
                body=json.dumps(body) if body else "nil",
                encoding=encoding,
                distinct="true" if distinct else "false",
                first_seed=next_first_seed(),
            )
        )
        script = f.name
    try:
        done = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--timeout",
                "10s",
                "-s",
                script,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    finally:
        os.unlink(script)
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    r = json.loads(line[len("RESULT ") :])
    return {
        "tool": "wrk",
        "requests": r["requests"],
        "seconds": r["duration_us"] / 1e6,
        "rps": r["requests"] / (r["duration_us"] / 1e6),
        "p50_ms": r["p50_us"] / 1e3,
        "p99_ms": r["p99_us"] / 1e3,
        "max_ms": r["max_us"] / 1e3,
        "errors": r["socket_errors"] + r["non_2xx"],
        "bytes_per_response": r["bytes"] / max(r["requests"], 1),
    }


async def run_httpx(
    url: str,
    method: str,
    body: str | None,
    seconds: int,
    connections: int,
    encoding: str,
    distinct: bool,
    max_requests: int = 20_000,
) -> dict:
    import httpx

    first_seed = next_first_seed()
    headers = {"content-type": "application/json", "accept-encoding": encoding}
    latencies: list[float] = []
    errors = 0
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal errors
            while time.monotonic() < stop_at and len(latencies) < max_requests:
                t0 = time.perf_counter()
                content = body
                if distinct and body is not None:
                    content = body.replace('"seed": 0', f'"seed": {first_seed + len(latencies) + 1}', 1)
                try:
                    r = await client.request(method, url, content=content, headers=headers)
                    errors += r.status_code >= 300
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.monotonic() - start
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3  # noqa: E731
    return {
        "tool": "httpx",
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": pick(0.5),
        "p99_ms": pick(0.99),
        "max_ms": latencies[-1] * 1e3,
        "errors": errors,
    }


def load(
    url: str,
    method: str,
    body: dict | None,
    seconds: int,
    connections: int,
    encoding: str = "identity",
    distinct: bool = False,
) -> dict:
    raw = json.dumps(body) if body is not None else None
    if shutil.which("wrk"):
        return run_wrk(url, method, raw, seconds, connections, encoding, distinct)
    return asyncio.run(run_httpx(url, method, raw, seconds, connections, encoding, distinct))


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` so far (None where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and its children (Linux /proc), in MiB."""
    total, pids = 0, [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        pids += [int(child) for child in children]
    return total / 1024


def measured(server: subprocess.Popen, *args: Any, **kwargs: Any) -> dict:
    """``load(...)`` plus the server's CPU milliseconds per request over the run and its resident memory (with
    its children) at the start and the end."""
    before, rss_start = process_cpu_seconds(server.pid), tree_rss_mib(server.pid)
    result = load(*args, **kwargs)
    after = process_cpu_seconds(server.pid)
    done = max(result["requests"], 1)
    result["server_cpu_ms"] = None if before is None or after is None else (after - before) / done * 1e3
    result["rss_mib"] = [rss_start, tree_rss_mib(server.pid)]
    return result


def merged(runs: list[dict]) -> dict:
    """Several short runs of one scenario as one: requests, time and server CPU summed; latencies are the
    median over the runs of each run's percentile."""
    requests = sum(r["requests"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    cpu = [r.get("server_cpu_ms") for r in runs]
    return {
        "tool": runs[0]["tool"],
        "requests": requests,
        "seconds": seconds,
        "rps": requests / seconds,
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "max_ms": max(r["max_ms"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "server_cpu_ms": None if None in cpu else sum(c * r["requests"] for c, r in zip(cpu, runs, strict=True))
        / max(requests, 1),
        "rss_mib": [runs[0]["rss_mib"][0], runs[-1]["rss_mib"][1]],
        "slices": len(runs),
    }


def interleaved(
    server: subprocess.Popen, url: str, seconds: int, connections: int, slices: int, distinct: bool = True
) -> dict:
    """The trace asked for plain and in each encoding, in ``slices`` turns of seconds/slices each (at least
    1 s), the order rotated every turn: computed every time (``distinct``: a new seed per request) or the same
    request, answered from the cache. Other work on a shared machine comes and goes over seconds: run back to
    back, the encodings would each meet a different load, and the CPU ratio would measure that."""
    order = ["identity", *ENCODINGS]
    runs: dict[str, list[dict]] = {e: [] for e in order}
    each = max(1, round(seconds / slices))
    for turn in range(slices):
        for encoding in order[turn % len(order):] + order[: turn % len(order)]:
            runs[encoding].append(measured(server, url, "POST", TRACE_BODY, each, connections, encoding, distinct))
    plain, encoded = (UNCACHED, UNCACHED_ENCODED) if distinct else (CACHED, CACHED_ENCODED)
    return {plain if e == "identity" else encoded[e]: merged(r) for e, r in runs.items()}


def cpu_ratios(scenarios: dict, plain: str, encoded: dict[str, str]) -> dict[str, float | None]:
    """Server CPU per request of each encoding's scenario over the plain one's."""
    base = scenarios[plain].get("server_cpu_ms")
    ratios: dict[str, float | None] = {}
    for e in ENCODINGS:
        cpu = scenarios[encoded[e]].get("server_cpu_ms")
        ratios[e] = None if base is None or cpu is None else cpu / base
    return ratios


def one_round(
    server: subprocess.Popen, base: str, seconds: int, connections: int, many: int, slices: int
) -> dict:
    trace_url, health_url, n, t = f"{base}/api/v1/trace", f"{base}/api/v1/health", connections, seconds
    load_before = os.getloadavg()[0]
    scenarios = {
        "health": measured(server, health_url, "GET", None, t, n),
        **interleaved(server, trace_url, t, n, slices),
        # The same request in each encoding: every reply's bytes, plain or compressed, come from the cache.
        **interleaved(server, trace_url, t, n, slices, distinct=False),
        # Far more keep-alive clients than the CPU can serve at once: they should wait, not get 503s.
        MANY: measured(server, trace_url, "POST", TRACE_BODY, t, many, distinct=True),
    }
    time.sleep(3)  # let the server finish what the many clients left queued before the next round starts
    health = scenarios["health"]["rps"]
    return {
        "load_average_1min": [load_before, os.getloadavg()[0]],
        "scenarios": scenarios,
        "throughput_ratio": scenarios[UNCACHED]["rps"] / health,
        "throughput_ratio_encoded": {e: scenarios[UNCACHED_ENCODED[e]]["rps"] / health for e in ENCODINGS},
        # Server CPU of a computed trace sent compressed, over the same sent plain (target <= 1.2).
        "cpu_ratio_encoded": cpu_ratios(scenarios, UNCACHED, UNCACHED_ENCODED),
        # The same for a cached reply: its compressed bytes are cached too, so nothing is compressed.
        "cpu_ratio_cached_encoded": cpu_ratios(scenarios, CACHED, CACHED_ENCODED),
        "throughput_ratio_cached": scenarios[CACHED]["rps"] / health,
    }


def static_files(server: subprocess.Popen, base: str, seconds: int, connections: int, turns: int) -> dict:
    """GET STATIC_FILE plain and in each encoding, in interleaved turns as the traces: requests/s and server
    CPU per request."""
    order = ["identity", *ENCODINGS]
    runs: dict[str, list[dict]] = {e: [] for e in order}
    each = max(1, round(seconds / turns))
    for turn in range(turns):
        for encoding in order[turn % len(order):] + order[: turn % len(order)]:
            runs[encoding].append(measured(server, base + STATIC_FILE, "GET", None, each, connections, encoding))
    return {e: merged(r) for e, r in runs.items()}


def one_client(server: subprocess.Popen, port: int, requests: int, turns: int) -> dict[str, float | None]:
    """Server CPU milliseconds per computed trace, plain and in each encoding, with one keep-alive client
    sending one request at a time (``requests`` per turn, the encodings interleaved over ``turns``).

    With no queue and no load generator competing for the CPUs, this is the cost of one reply itself; the
    closed loop of 64 connections adds what contention does to it (cache misses, context switches)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    seed = next_first_seed()
    spent = dict.fromkeys(("identity", *ENCODINGS), 0.0)
    for turn in range(turns):
        order = list(spent)[turn % len(spent):] + list(spent)[: turn % len(spent)]
        for encoding in order:
            before = process_cpu_seconds(server.pid)
            for _ in range(requests):
                seed += 1
                body = json.dumps({**TRACE_BODY, "weights": {"source": "seed", "seed": seed}})
                headers = {"content-type": "application/json", "accept-encoding": encoding}
                conn.request("POST", "/api/v1/trace", body, headers)
                reply = conn.getresponse()
                reply.read()
                assert reply.status == 200 and reply.getheader("content-encoding", "identity") == encoding
            after = process_cpu_seconds(server.pid)
            if before is None or after is None:
                return dict.fromkeys(spent)
            spent[encoding] += after - before
    conn.close()
    return {e: cpu / (requests * turns) * 1e3 for e, cpu in spent.items()}


#: Phases of one computed trace, in the order a request goes through them.
PHASES = ("validate the request", "cache key", "resolve the model, draw seeded weights", "forward pass (core)",
          "round and assemble the reply", "encode JSON")


#: Compressing the rendered reply, measured beside the phases (one of them per reply, as the client asks).
COMPRESS_PHASES = {encoding: f"compress ({encoding})" for encoding in ENCODINGS}


def phase_costs(requests: int = 400) -> dict[str, float]:
    """Median milliseconds of each phase of a computed trace (new seed each time), run in this process.

    What is left of the server's CPU time per request is the framework and HTTP: parsing, routing, dependency
    injection, middleware, writing the reply to the socket.
    """
    limits = Settings.from_env().limits
    served = Settings.from_env()
    codecs = Codecs(served.zstd_level, served.brotli_quality, served.gzip_level)
    samples: dict[str, list[float]] = {phase: [] for phase in (*PHASES, *COMPRESS_PHASES.values())}
    for seed in range(requests + 50):
        body = json.dumps({**TRACE_BODY, "weights": {"source": "seed", "seed": seed}}).encode()
        marks = [time.process_time()]
        req = TraceRequest.model_validate_json(body)
        marks.append(time.process_time())
        request_key("trace", req)
        marks.append(time.process_time())
        model, encoded = resolve(req, None, limits)
        marks.append(time.process_time())
        trace = forward(model.params, model.config, encoded.values, shape=req.shape)
        marks.append(time.process_time())
        quantities = select_quantities(model.config, req.include)
        payload = trace_payload(TraceResult(trace, model, encoded, quantities, limits.default_precision))
        marks.append(time.process_time())
        rendered = dumps(payload)
        marks.append(time.process_time())
        for encoding, phase in COMPRESS_PHASES.items():  # each on the same bytes, as a reply in that encoding
            start = time.process_time()
            codecs.compress(rendered, encoding)
            if seed >= 50:
                samples[phase].append((time.process_time() - start) * 1e3)
        if seed >= 50:  # after warm-up
            for phase, start, end in zip(PHASES, marks[:-1], marks[1:], strict=True):
                samples[phase].append((end - start) * 1e3)
    return {phase: statistics.median(values) for phase, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--many", type=int, default=512, help="connections of the many-clients scenario")
    parser.add_argument("--one-client-requests", type=int, default=100,
                        help="requests per turn and encoding of the one-client measurement")
    parser.add_argument("--slices", type=int, default=5,
                        help="turns in which the plain and compressed traces are interleaved")
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="unrolled-bench-") as data_dir:
        server = start_server(port, data_dir)
        try:
            raw, _ = post(f"{base}/api/v1/trace", TRACE_BODY)
            encoded = {}
            for encoding in ENCODINGS:
                encoded[encoding], headers = post(f"{base}/api/v1/trace", TRACE_BODY, encoding)
                assert headers.get("content-encoding") == encoding
                assert decode(encoded[encoding], encoding) == raw
            numbers = count_numbers(json.loads(raw))
            load(f"{base}/api/v1/health", "GET", None, 2, args.connections)  # warm-up
            load(f"{base}/api/v1/trace", "POST", TRACE_BODY, 2, args.connections, distinct=True)
            rounds = [one_round(server, base, args.seconds, args.connections, args.many, args.slices)
                      for _ in range(args.rounds)]
            time.sleep(3)
            static = static_files(server, base, args.seconds, args.connections, args.slices)
            alone = one_client(server, port, args.one_client_requests, args.slices)
        finally:
            server.terminate()
            server.wait(timeout=30)
    phases = phase_costs()
    best = max(range(len(rounds)), key=lambda k: rounds[k]["throughput_ratio"])
    served = Settings.from_env()
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "setup": {
            "workers": 1,
            # What the server reads from the same environment (defaults included).
            "threads": served.threads,
            "inline_compute": served.inline_compute,
            "coders": {"gzip": served.gzip_level, "br": served.brotli_quality, "zstd": served.zstd_level},
            "connections": args.connections,
            "many_connections": args.many,
            "seconds": args.seconds,
            "slices": args.slices,
            "one_client_requests": args.one_client_requests,
            "trace": "LSTM, T=50, H=64, one-hot chars, softmax output, precision 4, default include",
            "command": " ".join([".venv/bin/python bench/bench_server.py", *sys.argv[1:]]),
        },
        "rounds": rounds,
        "best_round": best,
        "trace_phases_ms": phases,
        "one_client_cpu_ms": alone,
        "static_file": {"path": STATIC_FILE, "bytes": (ROOT / STATIC_FILE.lstrip("/")).stat().st_size,
                        "scenarios": static},
        "trace_numbers": numbers,
        "trace_bytes": len(raw),
        "trace_bytes_encoded": {e: len(body) for e, body in encoded.items()},
        "bytes_per_number": len(raw) / numbers,
        "bytes_per_number_encoded": {e: len(body) / numbers for e, body in encoded.items()},
    }
    write_results("server", report(result), result)
    return 0


def _cpu(v: dict) -> str:
    return "" if v.get("server_cpu_ms") is None else f"{v['server_cpu_ms']:.2f}"


def _ratios(rnd: dict, key: str = "cpu_ratio_encoded") -> str:
    ratios = rnd[key]
    return ", ".join("" if ratios[e] is None else f"{ratios[e]:.2f}" for e in ENCODINGS)


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


ENCODING_HEADER = (
    "| Accept-Encoding | server CPU ms/request (median) | / plain (median) | one client: CPU ms/request | "
    "/ plain | cached reply: CPU ms/request (median) | / plain cached (median) | bytes per reply | "
    "bytes per number |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def _fixed(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _encoding_row(r: dict, encoding: str) -> str:
    name = UNCACHED if encoding == "identity" else UNCACHED_ENCODED[encoding]
    cpu = _median([rnd["scenarios"][name].get("server_cpu_ms") for rnd in r["rounds"]])
    ratio = 1.0 if encoding == "identity" else _median([rnd["cpu_ratio_encoded"][encoding] for rnd in r["rounds"]])
    cached_name = CACHED if encoding == "identity" else CACHED_ENCODED[encoding]
    cached = _median([rnd["scenarios"][cached_name].get("server_cpu_ms") for rnd in r["rounds"]])
    cached_ratio = 1.0 if encoding == "identity" else _median(
        [rnd["cpu_ratio_cached_encoded"][encoding] for rnd in r["rounds"]]
    )
    size = r["trace_bytes"] if encoding == "identity" else r["trace_bytes_encoded"][encoding]
    per_number = r["bytes_per_number"] if encoding == "identity" else r["bytes_per_number_encoded"][encoding]
    shown = "" if cpu is None else f"{cpu:.2f}"
    shown_ratio = "" if ratio is None else f"{ratio:.2f}"
    alone = r.get("one_client_cpu_ms") or {}
    one, plain = alone.get(encoding), alone.get("identity")
    one_shown = "" if one is None else f"{one:.2f}"
    one_ratio = "" if one is None or not plain else f"{one / plain:.2f}"
    return (
        f"| {encoding} | {shown} | {shown_ratio} | {one_shown} | {one_ratio} | {_fixed(cached)} | "
        f"{_fixed(cached_ratio)} | {size} | {per_number:.2f} |"
    )


def _static_rows(r: dict) -> str:
    """The static file's table (runs before the static-file measurement have none)."""
    static = r.get("static_file")
    if static is None:
        return ""
    rows = "\n".join(f"| {e} | {v['rps']:.0f} | {_cpu(v)} |" for e, v in static["scenarios"].items())
    connections = r["setup"]["connections"]
    return f"""A static file, `{static["path"]}` ({static["bytes"]} bytes), {connections} connections, plain
and in each encoding in interleaved turns (compressed once per encoding, then sent from memory; plain, it
is read from disk):

| Accept-Encoding | req/s | server CPU ms/request |
|---|---:|---:|
{rows}

"""


def _coders(setup: dict) -> str:
    """The coders' levels (UNROLLED_GZIP_LEVEL, UNROLLED_BROTLI_QUALITY, UNROLLED_ZSTD_LEVEL), where recorded."""
    levels = setup.get("coders")
    if levels is None:
        return ""
    return (f"\nCoders: gzip by ISA-L at level {levels['gzip']}, brotli at quality {levels['br']}, "
            f"zstd at level {levels['zstd']}.")


def report(r: dict) -> str:
    rows = "\n".join(
        f"| {k + 1} | {name} | {v['tool']} | {v['requests']} | {v['rps']:.0f} | {v['p50_ms']:.1f} | "
        f"{v['p99_ms']:.1f} | {_cpu(v)} | {v['rss_mib'][0]:.0f} -> {v['rss_mib'][1]:.0f} | {v['errors']} |"
        for k, rnd in enumerate(r["rounds"])
        for name, v in rnd["scenarios"].items()
    )
    ratios = "\n".join(
        f"| {k + 1} | {rnd['load_average_1min'][0]:.1f} -> {rnd['load_average_1min'][1]:.1f} | "
        f"{rnd['throughput_ratio']:.0%} | "
        + " | ".join(f"{rnd['throughput_ratio_encoded'][e]:.0%}" for e in ENCODINGS)
        + " | "
        f"{_ratios(rnd)} | "
        f"{rnd['throughput_ratio_cached']:.0%} | {_ratios(rnd, 'cpu_ratio_cached_encoded')} | "
        f"{rnd['scenarios'][UNCACHED]['p99_ms']:.0f} |"
        for k, rnd in enumerate(r["rounds"])
    )
    best = r["rounds"][r["best_round"]]
    s, m, setup = best["scenarios"], r["machine"], r["setup"]
    phases = {name: ms for name, ms in r["trace_phases_ms"].items() if name in PHASES}
    compress = {name: ms for name, ms in r["trace_phases_ms"].items() if name not in PHASES}
    in_process = sum(phases.values())
    server_cpu = s[UNCACHED].get("server_cpu_ms")
    encoding_rows = "\n".join(_encoding_row(r, e) for e in ("identity", *ENCODINGS))
    sizes = ", ".join(
        f"{e} {r['trace_bytes_encoded'][e]} bytes = {r['bytes_per_number_encoded'][e]:.2f}" for e in ENCODINGS
    )
    phase_rows = "\n".join(f"| {name} | {ms:.3f} |" for name, ms in phases.items())
    phase_rows += f"\n| **in process, total** | **{in_process:.3f}** |"
    if server_cpu is not None:
        phase_rows += f"\n| framework and HTTP (server CPU per request, best round, minus the above) | " \
                      f"{server_cpu - in_process:.3f} |"
        phase_rows += f"\n| health request (server CPU, best round) | {_cpu(s['health'])} |"
    phase_rows += "".join(
        f"\n| {name}, on top (in process: {(in_process + ms) / in_process:.2f}x the work; "
        f"{r['trace_bytes'] / ms / 1e3:.0f} MB/s) | {ms:.3f} |"
        for name, ms in compress.items()
    )
    command = setup.get("command", ".venv/bin/python bench/bench_server.py")
    return f"""# Server benchmark

{r["date"]}; {m["cpus"]} CPUs shared with other work; Python {m["python"]}.
`unrolled serve` with {setup["workers"]} worker ({setup["threads"]} threads for the computing routes;
UNROLLED_INLINE_COMPUTE={setup.get("inline_compute", 0)}: traces up to that many multiply-adds computed on the
event loop), {setup["connections"]} connections on 127.0.0.1, {setup["seconds"]} s per scenario (the plain and the
compressed computed traces in {setup.get("slices", 1)} interleaved turns each); the load generator runs on the
same CPUs. Trace: {setup["trace"]}. Command: `{command}`{_coders(setup)}

| round | scenario | tool | requests | req/s | p50 ms | p99 ms | server CPU ms/request | RSS MiB start -> end | errors |
|---|---|---|---|---|---|---|---|---|---|
{rows}

| round | 1-min load | trace / health | zstd | br | gzip | CPU zstd, br, gzip / plain | cached | cached: CPU | p99 ms |
|---|---|---|---|---|---|---|---|---|---|
{ratios}

Best round ({r["best_round"] + 1}):
- Trace / health throughput, every reply computed: **{best["throughput_ratio"]:.0%}** (cached reply:
  {best["throughput_ratio_cached"]:.0%}). Target >= 25%.
- Trace p99, every reply computed: **{s[UNCACHED]["p99_ms"]:.0f} ms**
  (cached: {s[CACHED]["p99_ms"]:.0f} ms). Target <= 150 ms.

Compressed replies, every reply computed (server CPU per request: median over the rounds; the ratio is
taken within each round, against that round's plain trace). Target: at most 1.2x the plain reply's CPU.
The cached columns send the same request in each encoding: its compressed bytes are cached beside the
plain ones, so a hit compresses nothing.

{ENCODING_HEADER}
{encoding_rows}

"One client": after the rounds, one keep-alive connection sends one request at a time
({setup.get("one_client_requests")} per turn and encoding, {setup.get("slices", 1)} interleaved turns), so the
reply's cost is measured without the queue of 64 connections and the load generator competing for the CPUs.

Where a computed trace's CPU time goes (medians in ms of {setup["trace"]}, a new seed each time, measured in
the benchmark's own process after the load rounds; `phase_costs`):

| phase | ms |
|---|---:|
{phase_rows}

{_static_rows(r)}- Many clients ({setup.get("many_connections")} connections, every reply computed):
  {s[MANY]["rps"]:.0f} requests/s, p99 {s[MANY]["p99_ms"]:.0f} ms, **{s[MANY]["errors"]} errors** (503s included).
- One default JSON trace: {r["trace_numbers"]} numbers in {r["trace_bytes"]} bytes =
  **{r["bytes_per_number"]:.2f} bytes per number** plain; {sizes}.
"""


if __name__ == "__main__":
    raise SystemExit(main())
