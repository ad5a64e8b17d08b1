"""One batched POST /trace against the same sequences posted one by one, in process (ASGI, cache off).

    python bench/bench_batches.py [--sequences N] [--steps T] [--repeats R]

Reports the median CPU time of the process (time.process_time: the app runs on TestClient's own thread) and
the median wall time of each way over R repeats, with one BLAS thread and the load average, and writes
bench/results/batches.md and .json.
Both ways compute the same numbers (tests/app/test_trace_batches.py); the batch saves the per-request work
(HTTP parsing, validation, model resolution, seeded weights drawn once instead of N times).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy is imported
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from results_file import write_results  # noqa: E402

from app.main import create_app  # noqa: E402
from app.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), rate_limit_per_minute=0, cache_bytes=0)
    client = TestClient(create_app(settings))
    common = {"model": {"cell": "lstm", "hidden_size": args.hidden, "output_size": 4}, "precision": 6}
    inputs = [{"vectors": [[0.01 * (s + t)] * 8 for t in range(args.steps)]} for s in range(args.sequences)]

    def one_by_one() -> None:
        for inp in inputs:
            assert client.post("/api/v1/trace", json={**common, "input": inp}).status_code == 200

    def batched() -> None:
        assert client.post("/api/v1/trace", json={**common, "inputs": inputs}).status_code == 200

    load_start = os.getloadavg()
    timings: dict[str, dict[str, float]] = {}
    for name, run in (("one by one", one_by_one), ("batch", batched)):
        run()  # warm up
        cpu, wall = [], []
        for _ in range(args.repeats):
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            run()
            cpu.append(time.process_time() - cpu_start)
            wall.append(time.perf_counter() - wall_start)
        timings[name] = {"cpu": statistics.median(cpu), "wall": statistics.median(wall)}
    load = {"loadavg_start": load_start[0], "loadavg_end": os.getloadavg()[0]}
    setup = f"{args.sequences} sequences x {args.steps} steps, LSTM H={args.hidden}, input 8, output 4"
    lines = [
        "# Batched POST /trace vs one request per sequence (in process, cache off)",
        "",
        f"`python bench/bench_batches.py --sequences {args.sequences} --steps {args.steps} "
        f"--hidden {args.hidden} --repeats {args.repeats}`: {setup}; median of {args.repeats}; one BLAS "
        f"thread; load average {load['loadavg_start']:.2f} at the start, {load['loadavg_end']:.2f} at the end.",
        "",
        "| way | CPU time | CPU per sequence | wall time |",
        "|---|---|---|---|",
    ]
    for name, t in timings.items():
        lines.append(
            f"| {name} | {t['cpu'] * 1e3:.1f} ms | {t['cpu'] / args.sequences * 1e3:.2f} ms "
            f"| {t['wall'] * 1e3:.1f} ms |"
        )
    write_results("batches", "\n".join(lines) + "\n", {"setup": setup, "seconds": timings, **load})


if __name__ == "__main__":
    main()
