"""Load test of ``unrolled serve`` on loopback: an LSTM trace (T=50, H=64) against /api/v1/health.

Starts one uvicorn worker on a free 127.0.0.1 port (rate limit off, a throw-away data directory), then for
each scenario runs a closed loop of 64 connections for a fixed time with wrk (or, without wrk, asyncio + httpx
with a bounded number of requests), and writes bench/results/server.md and server.json:

* throughput of the trace as a fraction of /health's (target >= 25%),
* p50 / p99 latency of the trace (target p99 <= 150 ms),
* bytes per recorded number of one default JSON trace (precision 4), raw and gzipped,
* the server's CPU time per request (from /proc, Linux only): on a shared machine the throughput moves with
  whatever else runs, the CPU cost per request much less.

Health and the trace scenarios run back to back in each round, so their ratio compares like with like; the
rounds are repeated (--rounds) and all are reported, with the load average before and after each.

Usage: [UNROLLED_INLINE_COMPUTE=2000000] [UNROLLED_THREADS=2] \
       .venv/bin/python bench/bench_server.py [--seconds 10] [--connections 64] [--rounds 3]
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

from app.cache import request_key  # noqa: E402
from app.resolve import resolve  # noqa: E402
from app.schemas.requests import TraceRequest  # noqa: E402
from app.serialize import dumps, trace_payload  # noqa: E402
from app.service import TraceResult, select_quantities  # noqa: E402
from app.settings import Settings  # noqa: E402
from core.network import forward  # noqa: E402

UNCACHED, UNCACHED_GZIP = "trace (new seed each request)", "trace gzip (new seed each request)"
CACHED = "trace (same request: cached reply)"
MANY = "trace, many clients (new seed each request)"
RESULTS = Path(__file__).resolve().parent / "results"
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
{extra_headers}
local threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local sent = 0
if {distinct} then
  -- a new seed for every request (16 * n + thread id never repeats), so no reply can come from the cache
  request = function()
    sent = sent + 1
    local body = string.gsub(wrk.body, '"seed": 0', '"seed": ' .. (16 * sent + tid))
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


def post(url: str, body: dict[str, Any], gzip_ok: bool = False) -> tuple[bytes, dict[str, str]]:
    headers = {"content-type": "application/json"}
    if gzip_ok:
        headers["accept-encoding"] = "gzip"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as r:
        return r.read(), dict(r.headers)


def count_numbers(payload: dict[str, Any]) -> int:
    """Recorded numbers in a trace reply: every quantity of every layer, input x, y and probs."""

    def size(value: Any) -> int:
        return sum(size(v) for v in value) if isinstance(value, list) else int(value is not None)

    total = sum(size(q) for layer in payload["layers"] for q in layer["quantities"].values())
    output = payload["output"] or {}
    total += size(output.get("y") or []) + size(output.get("probs") or []) + size(payload["input"]["x"] or [])
    return total


def run_wrk(
    url: str, method: str, body: str | None, seconds: int, connections: int, gzip_ok: bool, distinct: bool
) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(
            WRK_SCRIPT.format(
                method=method,
                body=json.dumps(body) if body else "nil",
                extra_headers='wrk.headers["Accept-Encoding"] = "gzip"' if gzip_ok else "",
                distinct="true" if distinct else "false",
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
    gzip_ok: bool,
    distinct: bool,
    max_requests: int = 20_000,
) -> dict:
    import httpx

    headers = {"content-type": "application/json", "accept-encoding": "gzip" if gzip_ok else "identity"}
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
                    content = body.replace('"seed": 0', f'"seed": {len(latencies) + 1}', 1)
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
    gzip_ok: bool = False,
    distinct: bool = False,
) -> dict:
    raw = json.dumps(body) if body is not None else None
    if shutil.which("wrk"):
        return run_wrk(url, method, raw, seconds, connections, gzip_ok, distinct)
    return asyncio.run(run_httpx(url, method, raw, seconds, connections, gzip_ok, distinct))


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` so far (None where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(server: subprocess.Popen, *args: Any, **kwargs: Any) -> dict:
    """``load(...)`` plus the server's CPU milliseconds per request over the run."""
    before = process_cpu_seconds(server.pid)
    result = load(*args, **kwargs)
    after = process_cpu_seconds(server.pid)
    done = max(result["requests"], 1)
    result["server_cpu_ms"] = None if before is None or after is None else (after - before) / done * 1e3
    return result


def one_round(server: subprocess.Popen, base: str, seconds: int, connections: int, many: int) -> dict:
    trace_url, health_url, n, t = f"{base}/api/v1/trace", f"{base}/api/v1/health", connections, seconds
    load_before = os.getloadavg()[0]
    scenarios = {
        "health": measured(server, health_url, "GET", None, t, n),
        UNCACHED: measured(server, trace_url, "POST", TRACE_BODY, t, n, distinct=True),
        UNCACHED_GZIP: measured(server, trace_url, "POST", TRACE_BODY, t, n, True, True),
        CACHED: measured(server, trace_url, "POST", TRACE_BODY, t, n),
        # Far more keep-alive clients than the CPU can serve at once: they should wait, not get 503s.
        MANY: measured(server, trace_url, "POST", TRACE_BODY, t, many, distinct=True),
    }
    time.sleep(3)  # let the server finish what the many clients left queued before the next round starts
    health = scenarios["health"]["rps"]
    return {
        "load_average_1min": [load_before, os.getloadavg()[0]],
        "scenarios": scenarios,
        "throughput_ratio": scenarios[UNCACHED]["rps"] / health,
        "throughput_ratio_gzip": scenarios[UNCACHED_GZIP]["rps"] / health,
        "throughput_ratio_cached": scenarios[CACHED]["rps"] / health,
    }


#: Phases of one computed trace, in the order a request goes through them.
PHASES = ("validate the request", "cache key", "resolve the model, draw seeded weights", "forward pass (core)",
          "round and assemble the reply", "encode JSON")


def phase_costs(requests: int = 400) -> dict[str, float]:
    """Median milliseconds of each phase of a computed trace (new seed each time), run in this process.

    What is left of the server's CPU time per request is the framework and HTTP: parsing, routing, dependency
    injection, middleware, writing the reply to the socket.
    """
    limits = Settings.from_env().limits
    samples: dict[str, list[float]] = {phase: [] for phase in PHASES}
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
        dumps(payload)
        marks.append(time.process_time())
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
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="unrolled-bench-") as data_dir:
        server = start_server(port, data_dir)
        try:
            raw, _ = post(f"{base}/api/v1/trace", TRACE_BODY)
            zipped, headers = post(f"{base}/api/v1/trace", TRACE_BODY, gzip_ok=True)
            assert headers.get("content-encoding") == "gzip"
            numbers = count_numbers(json.loads(raw))
            assert len(gzip.decompress(zipped)) == len(raw)
            load(f"{base}/api/v1/health", "GET", None, 2, args.connections)  # warm-up
            load(f"{base}/api/v1/trace", "POST", TRACE_BODY, 2, args.connections, distinct=True)
            rounds = [one_round(server, base, args.seconds, args.connections, args.many)
                      for _ in range(args.rounds)]
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
            "connections": args.connections,
            "many_connections": args.many,
            "seconds": args.seconds,
            "trace": "LSTM, T=50, H=64, one-hot chars, softmax output, precision 4, default include",
        },
        "rounds": rounds,
        "best_round": best,
        "trace_phases_ms": phases,
        "trace_numbers": numbers,
        "trace_bytes": len(raw),
        "trace_bytes_gzip": len(zipped),
        "bytes_per_number": len(raw) / numbers,
        "bytes_per_number_gzip": len(zipped) / numbers,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "server.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "server.md").write_text(report(result))
    print(report(result))
    return 0


def _cpu(v: dict) -> str:
    return "" if v.get("server_cpu_ms") is None else f"{v['server_cpu_ms']:.2f}"


def report(r: dict) -> str:
    rows = "\n".join(
        f"| {k + 1} | {name} | {v['tool']} | {v['requests']} | {v['rps']:.0f} | {v['p50_ms']:.1f} | "
        f"{v['p99_ms']:.1f} | {_cpu(v)} | {v['errors']} |"
        for k, rnd in enumerate(r["rounds"])
        for name, v in rnd["scenarios"].items()
    )
    ratios = "\n".join(
        f"| {k + 1} | {rnd['load_average_1min'][0]:.1f} -> {rnd['load_average_1min'][1]:.1f} | "
        f"{rnd['throughput_ratio']:.0%} | {rnd['throughput_ratio_gzip']:.0%} | "
        f"{rnd['throughput_ratio_cached']:.0%} | {rnd['scenarios'][UNCACHED]['p99_ms']:.0f} |"
        for k, rnd in enumerate(r["rounds"])
    )
    best = r["rounds"][r["best_round"]]
    s, m, setup = best["scenarios"], r["machine"], r["setup"]
    phases = r["trace_phases_ms"]
    in_process = sum(phases.values())
    server_cpu = s[UNCACHED].get("server_cpu_ms")
    phase_rows = "\n".join(f"| {name} | {ms:.3f} |" for name, ms in phases.items())
    phase_rows += f"\n| **in process, total** | **{in_process:.3f}** |"
    if server_cpu is not None:
        phase_rows += f"\n| framework and HTTP (server CPU per request, best round, minus the above) | " \
                      f"{server_cpu - in_process:.3f} |"
        phase_rows += f"\n| health request (server CPU, best round) | {_cpu(s['health'])} |"
    return f"""# Server benchmark

{r["date"]}; {m["cpus"]} CPUs shared with other work; Python {m["python"]}.
`unrolled serve` with {setup["workers"]} worker ({setup["threads"]} threads for the computing routes;
UNROLLED_INLINE_COMPUTE={setup.get("inline_compute", 0)}: traces up to that many multiply-adds computed on the
event loop), {setup["connections"]} connections on 127.0.0.1, {setup["seconds"]} s per scenario; the load
generator runs on the same CPUs. Trace: {setup["trace"]}. Command: `.venv/bin/python bench/bench_server.py`

| round | scenario | tool | requests | req/s | p50 ms | p99 ms | server CPU ms/request | errors |
|---|---|---|---|---|---|---|---|---|
{rows}

| round | 1-min load (before -> after) | trace / health | gzip / health | cached / health | trace p99 ms |
|---|---|---|---|---|---|
{ratios}

Best round ({r["best_round"] + 1}):
- Trace / health throughput, every reply computed: **{best["throughput_ratio"]:.0%}** (gzip:
  {best["throughput_ratio_gzip"]:.0%}; cached reply: {best["throughput_ratio_cached"]:.0%}). Target >= 25%.
- Trace p99, every reply computed: **{s[UNCACHED]["p99_ms"]:.0f} ms**
  (gzip: {s[UNCACHED_GZIP]["p99_ms"]:.0f} ms; cached: {s[CACHED]["p99_ms"]:.0f} ms). Target <= 150 ms.

Where a computed trace's CPU time goes (medians in ms of {setup["trace"]}, a new seed each time, measured in
the benchmark's own process after the load rounds; `phase_costs`):

| phase | ms |
|---|---:|
{phase_rows}

- Many clients ({setup.get("many_connections")} connections, every reply computed):
  {s[MANY]["rps"]:.0f} requests/s, p99 {s[MANY]["p99_ms"]:.0f} ms, **{s[MANY]["errors"]} errors** (503s included).
- One default JSON trace: {r["trace_numbers"]} numbers in {r["trace_bytes"]} bytes =
  **{r["bytes_per_number"]:.2f} bytes per number** ({r["trace_bytes_gzip"]} bytes gzipped =
  {r["bytes_per_number_gzip"]:.2f} bytes per number).
"""


if __name__ == "__main__":
    raise SystemExit(main())
