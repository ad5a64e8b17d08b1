"""Replicas behind nginx on loopback: throughput of computed traces with one and two ``unrolled serve``
replicas behind deploy/nginx.conf, and the proxy's cost against a direct connection to one replica.

Scenarios, each a closed loop of --connections for --seconds with wrk (bench_server's load, a new seed per
request so every reply is computed, never cached), repeated --rounds times back to back:

    direct      the client talks to replica 1 itself
    proxy x1    nginx in front of replica 1 only
    proxy x2    nginx in front of replicas 1 and 2 (one shared SQLite store)

nginx's limit_req lines are left out here: one benchmark client is far over any person's rate.

Each replica is one worker process (one GIL), so on a machine with spare cores two replicas should serve
close to twice as many; on this machine's two cores wrk and nginx take their share too. Ratios within one
round compare like with like; absolute figures move with whatever else runs. Writes bench/results/replicas.md
and replicas.json.

Usage: .venv/bin/python bench/bench_replicas.py [--seconds 8] [--connections 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "deploy"))

from bench_server import TRACE_BODY, load  # noqa: E402
from cluster import Replica, nginx, replica_env  # noqa: E402
from results_file import write_results  # noqa: E402

SCENARIOS = ("direct", "proxy x1", "proxy x2")


def one_round(direct: str, proxies: dict[str, str], seconds: int, connections: int) -> dict[str, dict]:
    targets = {"direct": direct, **proxies}
    return {name: load(targets[name] + "/api/v1/trace", "POST", TRACE_BODY, seconds, connections, distinct=True)
            for name in SCENARIOS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = replica_env(Path(tmp) / "data", UNROLLED_RATE_LIMIT="0", UNROLLED_CACHE_BYTES="0")
        replicas = [Replica(env).start(), Replica(env).start()]
        try:
            with nginx([replicas[0].port], Path(tmp) / "nginx1", rate_limit=False) as one, \
                    nginx([r.port for r in replicas], Path(tmp) / "nginx2", rate_limit=False) as two:
                proxies = {"proxy x1": one, "proxy x2": two}
                for url in (replicas[0].url, replicas[1].url):  # warm both replicas' first trace
                    load(url + "/api/v1/trace", "POST", TRACE_BODY, 1, 2, distinct=True)
                rounds = []
                for _ in range(args.rounds):
                    before = os.getloadavg()[0]
                    result = one_round(replicas[0].url, proxies, args.seconds, args.connections)
                    rounds.append({"load_before": before, "load_after": os.getloadavg()[0], "scenarios": result})
        finally:
            for replica in replicas:
                replica.stop()
    summary = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "seconds": args.seconds,
        "connections": args.connections,
        "rounds": rounds,
    }
    write_results("replicas", report(summary), summary)
    return 0


def report(s: dict) -> str:
    lines = [
        "# Replicas behind nginx: computed traces (LSTM, T=50, H=64; a new seed each request)",
        "",
        f"{s['machine']}; {s['when']}; {s['connections']} connections, {s['seconds']} s per scenario; "
        "written by `.venv/bin/python bench/bench_replicas.py`.",
        "",
        "| round | load before/after | direct req/s | proxy x1 req/s | proxy x2 req/s | proxy x1 / direct "
        "| proxy x2 / proxy x1 | p99 direct / x1 / x2 (ms) | errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    overheads, scaling = [], []
    for k, rnd in enumerate(s["rounds"], start=1):
        r = rnd["scenarios"]
        d, one, two = (r[name]["rps"] for name in SCENARIOS)
        overheads.append(one / d)
        scaling.append(two / one)
        p99 = " / ".join(f"{r[name]['p99_ms']:.0f}" for name in SCENARIOS)
        errors = sum(r[name]["errors"] for name in SCENARIOS)
        lines.append(f"| {k} | {rnd['load_before']:.1f} / {rnd['load_after']:.1f} | {d:.0f} | {one:.0f} | {two:.0f} "
                     f"| {one / d:.2f} | {two / one:.2f} | {p99} | {errors} |")
    lines += [
        "",
        f"Median over rounds: the proxy keeps {statistics.median(overheads):.2f}x of a direct connection's "
        f"throughput; a second replica gives {statistics.median(scaling):.2f}x the throughput of one.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
