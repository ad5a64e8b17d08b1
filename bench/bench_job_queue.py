"""The training queue's store operations (app.storage.jobs) on both back-ends: what claiming and enqueueing
cost, and how racing claimers share a queue.

    claims      --jobs queued jobs taken by --claimers threads at once, each with its own Database (as
                separate processes would have): claims a second, and how many each claimer got; every job
                must be claimed exactly once (checked)
    idle poll   one claim on an empty queue: what every idle worker pays each POLL_SECONDS
    enqueue     one count-and-insert under the queue's lock (the global limit's cost on each POST)

SQLite is a file in a temporary directory; PostgreSQL a throwaway server of Debian's package
(tests/app/postgres_server.py), skipped when it is not installed. Timings move with whatever else runs on the
machine (loadavg is recorded). Writes bench/results/job_queue.md and job_queue.json.

Usage: .venv/bin/python bench/bench_job_queue.py [--jobs 400] [--claimers 4] [--polls 200]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "app")]

from results_file import write_results  # noqa: E402

from app.storage import open_database  # noqa: E402
from app.storage.jobs import JobStore  # noqa: E402


def job(job_id: str, created: float | None = None) -> dict:
    row = {"id": job_id, "task": "sine", "options": {}, "settings": {"steps": 10}, "model": {}}
    return row if created is None else {**row, "created": created}


def measure(where: str, jobs: int, claimers: int, polls: int) -> dict:
    stores = [JobStore(open_database(where)) for _ in range(claimers)]
    for k in range(jobs):
        stores[0].enqueue(job(f"{k:032x}", float(k)), jobs + 1, None, 30.0, "lost")

    def claim_all(n: int) -> list[str]:
        taken = []
        while (row := stores[n].claim(f"worker-{n}")) is not None:
            taken.append(row["id"])
        return taken

    start = time.perf_counter()
    with ThreadPoolExecutor(claimers) as pool:
        taken = list(pool.map(claim_all, range(claimers)))
    seconds = time.perf_counter() - start
    every = sorted(job_id for got in taken for job_id in got)
    assert every == [f"{k:032x}" for k in range(jobs)], "a job was claimed twice, or not at all"

    start = time.perf_counter()
    for _ in range(polls):
        assert stores[0].claim("idle") is None
    idle_ms = (time.perf_counter() - start) / polls * 1e3
    start = time.perf_counter()
    for k in range(polls):
        stores[0].enqueue(job(f"e{k:031x}"), jobs + polls + 1, None, 30.0, "lost")
    enqueue_ms = (time.perf_counter() - start) / polls * 1e3
    return {
        "claims_per_s": jobs / seconds,
        "per_claimer": [len(got) for got in taken],
        "idle_poll_ms": idle_ms,
        "enqueue_ms": enqueue_ms,
    }


def report(result: dict) -> str:
    args = result["args"]
    lines = [
        "# Training queue: claims, idle polls, enqueues",
        "",
        f"{args['jobs']} queued jobs, {args['claimers']} claimers racing (each its own connection); "
        f"idle poll and enqueue: mean of {args['polls']}. loadavg {result['loadavg']}.",
        "",
        "| store | claims/s | jobs per claimer | idle poll (ms) | enqueue (ms) |",
        "|---|---|---|---|---|",
    ]
    for name, row in result["stores"].items():
        lines.append(
            f"| {name} | {row['claims_per_s']:.0f} | {row['per_claimer']} | {row['idle_poll_ms']:.2f} "
            f"| {row['enqueue_ms']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--claimers", type=int, default=4)
    parser.add_argument("--polls", type=int, default=200)
    args = parser.parse_args()
    stores = {}
    with tempfile.TemporaryDirectory() as tmp:
        stores["sqlite"] = measure(str(Path(tmp) / "queue.sqlite3"), args.jobs, args.claimers, args.polls)
    from postgres_server import PostgresServer, binaries

    if binaries() is not None:
        from app.storage.postgres import close_all

        server = PostgresServer().start()
        try:
            stores["postgres"] = measure(server.url, args.jobs, args.claimers, args.polls)
        finally:
            close_all()
            server.remove()
    result = {
        "args": vars(args),
        "stores": stores,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    write_results("job_queue", report(result), result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
