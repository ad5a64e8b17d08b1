"""Fairness under load: how long light page and API requests take while four of the heaviest allowed requests
run, with the heavy-work processes (app.http.heavy_lane) on and off.

For each setting, one `unrolled serve` worker on loopback (rate limit off, a throw-away data directory):

1. unloaded: one client alternates a light page (GET /, the trained English model) and a light API trace
   (POST /api/v1/trace, GRU H=8, a new seed each time) for --seconds;
2. loaded: the same, while four clients each loop the heaviest request the limits allow (a CSV export of an
   LSTM H=256 trace over 1,000 characters: 2.7e8 multiply-adds and 1.5 million numbers), new seed each time.

Reported: light p50/p99 in both phases and their ratio (target: loaded p99 at most 3x unloaded), how many
heavy requests finished or got 503, and the resident memory of the worker and its children at start and end.
Results: bench/results/fairness.md and fairness.json. Usage: .venv/bin/python bench/bench_fairness.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from typing import Any

import httpx
from bench_server import free_port, start_server, tree_rss_mib
from results_file import write_results  # noqa: E402

HEAVY_CLIENTS = 4
LIGHT_TRACE = {"model": {"cell": "gru", "hidden_size": 8}, "input": {"text": "hello there"}}
HEAVY_EXPORT = {"model": {"cell": "lstm", "hidden_size": 256}, "input": {"text": "abcdefghij" * 100}}
SETTINGS = {"heavy lane on (1 process)": {}, "heavy lane off": {"UNROLLED_HEAVY_PROCESSES": "0"}}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def light_loop(client: httpx.AsyncClient, seconds: float) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"page": [], "api": []}
    seed, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        seed += 1
        for kind in ("page", "api"):
            start = time.perf_counter()
            if kind == "page":
                reply = await client.get("/")
            else:
                reply = await client.post("/api/v1/trace", json={**LIGHT_TRACE, "weights": {"seed": seed}})
            assert reply.status_code == 200, reply.text[:200]
            times[kind].append((time.perf_counter() - start) * 1e3)
    return times


async def heavy_loop(client: httpx.AsyncClient, number: int, stop: asyncio.Event, counts: dict[str, int]) -> None:
    seed = number * 100_000
    while not stop.is_set():
        seed += 1
        reply = await client.post(
            "/api/v1/trace/export?format=csv", json={**HEAVY_EXPORT, "weights": {"seed": seed}}, timeout=300
        )
        counts[str(reply.status_code)] = counts.get(str(reply.status_code), 0) + 1


def summary(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {
        kind: {"n": len(v), "p50_ms": statistics.median(v), "p99_ms": percentile(v, 0.99)} for kind, v in times.items()
    }


async def measure(base: str, seconds: float) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=HEAVY_CLIENTS + 2)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        await light_loop(client, 2)  # warm-up
        # One heavy request first, so the heavy-work process has started before anything is timed.
        await client.post("/api/v1/trace/export?format=csv", json=HEAVY_EXPORT, timeout=300)
        unloaded = await light_loop(client, seconds)
        stop, counts = asyncio.Event(), {}
        heavy = [asyncio.create_task(heavy_loop(client, k, stop, counts)) for k in range(HEAVY_CLIENTS)]
        await asyncio.sleep(1)
        loaded = await light_loop(client, seconds)
        stop.set()
        await asyncio.gather(*heavy)
    return {"unloaded": summary(unloaded), "loaded": summary(loaded), "heavy_replies": counts}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    runs = {}
    for name, env in SETTINGS.items():
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        port = free_port()
        with tempfile.TemporaryDirectory(prefix="unrolled-fair-") as data_dir:
            server = start_server(port, data_dir)
            try:
                rss_start = tree_rss_mib(server.pid)
                load_before = os.getloadavg()[0]
                run = asyncio.run(measure(f"http://127.0.0.1:{port}", args.seconds))
                run["rss_mib"] = [rss_start, tree_rss_mib(server.pid)]
                run["load_average_1min"] = [load_before, os.getloadavg()[0]]
            finally:
                server.terminate()
                server.wait(timeout=60)
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
        for kind in ("page", "api"):
            run[f"{kind}_p99_ratio"] = run["loaded"][kind]["p99_ms"] / run["unloaded"][kind]["p99_ms"]
        runs[name] = run
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "seconds": args.seconds,
        "runs": runs,
    }
    write_results("fairness", report(result), result)
    return 0


def report(r: dict[str, Any]) -> str:
    lines = [
        "# Fairness: light requests while four of the heaviest run",
        "",
        f"Recorded {r['date']} by `.venv/bin/python bench/bench_fairness.py --seconds {r['seconds']:g}` on "
        f"{r['cpus']} CPUs shared with other work; one `unrolled serve` worker, the load generator on the same "
        "CPUs. Light: GET / (trained English model) and POST /api/v1/trace (GRU H=8), one client, one after "
        "the other. Heavy: four clients looping POST /api/v1/trace/export?format=csv of an LSTM H=256 over "
        "1,000 characters. Target: light p99 loaded at most 3x unloaded.",
        "",
        "| setting | request | unloaded p50 / p99 ms | loaded p50 / p99 ms | p99 loaded / unloaded | "
        "heavy replies | RSS start -> end MiB | 1-min load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, run in r["runs"].items():
        for kind in ("page", "api"):
            u, lo = run["unloaded"][kind], run["loaded"][kind]
            lines.append(
                f"| {name} | {'GET /' if kind == 'page' else 'POST /trace (light)'} | "
                f"{u['p50_ms']:.1f} / {u['p99_ms']:.1f} (n={u['n']}) | {lo['p50_ms']:.1f} / {lo['p99_ms']:.1f} "
                f"(n={lo['n']}) | **{run[f'{kind}_p99_ratio']:.2f}x** | "
                f"{', '.join(f'{k}: {v}' for k, v in sorted(run['heavy_replies'].items()))} | "
                f"{run['rss_mib'][0]:.0f} -> {run['rss_mib'][1]:.0f} | "
                f"{run['load_average_1min'][0]:.1f} -> {run['load_average_1min'][1]:.1f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
