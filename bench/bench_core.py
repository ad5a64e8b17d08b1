"""Core benchmark: the fully recorded LSTM forward pass (core.network.forward) against three baselines.

    .venv/bin/python bench/bench_core.py            # full grid, writes bench/results/core.md and core.json
    .venv/bin/python bench/bench_core.py --quick    # smoke run on a few small sizes, prints only

Grid: input size 32, batch 1, H in {16, 64, 256, 1024}, T in {50, 500}, float32 and float64. Baselines
(bench/lstm_baselines.py): a naive NumPy loop, PyTorch's fused nn.LSTM (records nothing) and a per-step
PyTorch loop that captures every gate. Every run uses one thread: OMP/OPENBLAS/MKL_NUM_THREADS=1 are set
below before NumPy and PyTorch are imported (threadpoolctl limits on top when installed), and
torch.set_num_threads(1).

Each timing is the median, over several calls after warm-up, of the calling thread's CPU time (wall-clock
medians are kept too); the methods of one configuration are called in turn (round-robin) so that machine noise
hits them alike, and every ratio compares medians from the same run. Peak memory of a traced forward pass
comes from tracemalloc (NumPy reports its buffers to it) in a separate call.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from contextlib import nullcontext  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lstm_baselines import TorchFused, TorchGateLoop, naive_numpy  # noqa: E402
from results_file import write_results  # noqa: E402

from core.config import NetworkConfig  # noqa: E402
from core.network import forward  # noqa: E402
from core.params import init_params  # noqa: E402

try:
    from threadpoolctl import threadpool_limits
except ImportError:
    threadpool_limits = None

INPUT_SIZE = 32
METHODS = ("core", "naive_numpy", "torch_fused", "torch_loop")
# Targets (float32, one thread, T = 500, H in TARGET_H).
TARGET_H = (64, 256)
MAX_CORE_OVER_FUSED = 2.0
MIN_LOOP_OVER_CORE = 5.0
MAX_MEMORY_RATIO = 1.5


def time_calls(calls: dict[str, Callable[[], object]], budget_s: float, min_reps: int, max_reps: int
               ) -> dict[str, dict[str, list[float]]]:
    """CPU and wall-clock seconds of every call of each callable: warm-up, then round-robin repeats.

    CPU time is this thread's (every method runs on the calling thread, with one BLAS/torch thread), so time
    spent descheduled while other processes use the CPU is left out; wall-clock time is kept alongside.
    """
    first = {}
    for name, call in calls.items():
        call()
        start = time.perf_counter()
        call()
        first[name] = time.perf_counter() - start
    reps = int(min(max_reps, max(min_reps, budget_s / max(sum(first.values()), 1e-9))))
    samples: dict[str, dict[str, list[float]]] = {clock: {n: [] for n in calls} for clock in ("cpu", "wall")}
    gc.collect()
    gc.disable()  # as timeit does: a collection landing in one call would be noise, not the method's cost
    try:
        for _ in range(reps):
            for name, call in calls.items():
                cpu, wall = time.thread_time(), time.perf_counter()
                call()
                samples["wall"][name].append(time.perf_counter() - wall)
                samples["cpu"][name].append(time.thread_time() - cpu)
    finally:
        gc.enable()
    return samples


def traced_memory(params: dict[str, np.ndarray], config: NetworkConfig, x: np.ndarray) -> dict[str, float]:
    """Peak bytes allocated while core.forward runs, against the bytes it records (plus the weights)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        trace = forward(params, config, x)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    record = sum(b.nbytes for b in trace.record_buffers())
    weights = sum(v.nbytes for v in params.values())
    return {
        "peak_bytes": peak,
        "record_bytes": record,
        "param_bytes": weights,
        # The weights exist before the call, so they are added to both sides.
        "memory_ratio": (peak + weights) / (record + weights),
    }


def run_config(H: int, T: int, dtype: str, budget_s: float, min_reps: int, max_reps: int) -> dict:
    config = NetworkConfig(cell="lstm", input_size=INPUT_SIZE, hidden_size=H, dtype=dtype)
    params = init_params(config, seed=0)
    x = np.random.default_rng(1).standard_normal((T, 1, INPUT_SIZE)).astype(dtype)
    fused = TorchFused(params, INPUT_SIZE, H)
    loop = TorchGateLoop(params)
    calls = {
        "core": lambda: forward(params, config, x),
        "naive_numpy": lambda: naive_numpy(params, x),
        "torch_fused": lambda: fused(x),
        "torch_loop": lambda: loop(x),
    }
    expected = forward(params, config, x).layers[0][0].h[-1]
    tol = 1e-4 if dtype == "float32" else 1e-10
    for name in METHODS[1:]:
        got = calls[name]()
        if not np.allclose(got, expected, rtol=tol, atol=tol):
            raise AssertionError(f"{name} disagrees with core at H={H} T={T} {dtype}")
    samples = time_calls(calls, budget_s, min_reps, max_reps)
    seconds = {name: statistics.median(s) for name, s in samples["cpu"].items()}
    wall = {name: statistics.median(s) for name, s in samples["wall"].items()}
    row = {"dtype": dtype, "H": H, "T": T, "repeats": len(samples["cpu"]["core"]),
           "ms": {k: v * 1e3 for k, v in seconds.items()}, "ms_wall": {k: v * 1e3 for k, v in wall.items()}}
    row["core_over_fused"] = seconds["core"] / seconds["torch_fused"]
    row["core_over_fused_wall"] = wall["core"] / wall["torch_fused"]
    row["loop_over_core"] = seconds["torch_loop"] / seconds["core"]
    row["naive_over_core"] = seconds["naive_numpy"] / seconds["core"]
    row.update(traced_memory(params, config, x))
    return row


def environment() -> dict:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
               platform.processor())
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": f"{blas.get('name', '?')} {blas.get('version', '')}".strip(),
        "torch": torch.__version__,
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "threads": "OMP/OPENBLAS/MKL_NUM_THREADS=1 set before import; torch.set_num_threads(1)"
                   + ("; threadpoolctl limits=1" if threadpool_limits else "; threadpoolctl not installed"),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "loadavg_start": os.getloadavg()[0],
    }


def verdicts(rows: list[dict]) -> list[str]:
    lines = []
    for row in rows:
        if row["dtype"] != "float32" or row["T"] != 500 or row["H"] not in TARGET_H:
            continue
        tag = f"H={row['H']}, T=500, float32"
        r = row["core_over_fused"]
        miss = f"NOT MET (by {r / MAX_CORE_OVER_FUSED:.2f}x)"
        lines.append(f"- core / fused nn.LSTM <= {MAX_CORE_OVER_FUSED}x ({tag}): {r:.2f}x "
                     + ("MET" if r <= MAX_CORE_OVER_FUSED else miss)
                     + f" (wall clock: {row['core_over_fused_wall']:.2f}x)")
        r = row["loop_over_core"]
        lines.append(f"- core >= {MIN_LOOP_OVER_CORE}x faster than the gate-capturing torch loop ({tag}): "
                     f"{r:.1f}x " + ("MET" if r >= MIN_LOOP_OVER_CORE else "NOT MET"))
    worst = max(rows, key=lambda row: row["memory_ratio"])
    lines.append(f"- peak memory <= {MAX_MEMORY_RATIO}x (record + weights), every configuration: worst "
                 f"{worst['memory_ratio']:.3f}x at H={worst['H']} T={worst['T']} {worst['dtype']} "
                 + ("MET" if worst["memory_ratio"] <= MAX_MEMORY_RATIO else "NOT MET"))
    return lines


def markdown(env: dict, rows: list[dict]) -> str:
    out = ["# Core benchmark: fully recorded LSTM forward pass", "",
           "Produced by `.venv/bin/python bench/bench_core.py`; input size 32, batch 1, one thread.", ""]
    out += [f"- {k}: {v}" for k, v in env.items()]
    out += ["", "Times are medians of CPU time (this thread) in ms. core/fused: core's time over nn.LSTM's;",
            "loop/core and naive/core: how many times faster core is than the gate-capturing torch loop and",
            "the naive NumPy loop.",
            "(wall): the core/fused ratio from wall-clock medians, which load from other processes inflates.",
            "mem: peak bytes during core.forward plus weights, over recorded bytes plus weights.", "",
            "| dtype | H | T | core | naive NumPy | torch fused | torch loop | core/fused "
            "| core/fused (wall) | loop/core | naive/core | mem |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ms = r["ms"]
        out.append(f"| {r['dtype']} | {r['H']} | {r['T']} | {ms['core']:.3f} | {ms['naive_numpy']:.3f} "
                   f"| {ms['torch_fused']:.3f} | {ms['torch_loop']:.3f} | {r['core_over_fused']:.2f} "
                   f"| {r['core_over_fused_wall']:.2f} "
                   f"| {r['loop_over_core']:.1f} | {r['naive_over_core']:.1f} | {r['memory_ratio']:.3f} |")
    out += ["", "## Targets", ""] + verdicts(rows)
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few small sizes, few repeats, print only")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.quick:
        grid = [(H, 50, "float32") for H in (16, 64)]
        budget, min_reps, max_reps = 0.2, 3, 5
    else:
        grid = [(H, T, dtype) for dtype in ("float32", "float64") for H in (16, 64, 256, 1024)
                for T in (50, 500)]
        budget, min_reps, max_reps = 3.0, 5, 41
    env = environment()
    limits = threadpool_limits(limits=1) if threadpool_limits else nullcontext()
    rows = []
    with limits:
        for H, T, dtype in grid:
            row = run_config(H, T, dtype, budget, min_reps, max_reps)
            rows.append(row)
            print(f"{dtype} H={H:5d} T={T:4d}  core {row['ms']['core']:9.3f} ms"
                  f"  core/fused {row['core_over_fused']:.2f}  loop/core {row['loop_over_core']:5.1f}"
                  f"  naive/core {row['naive_over_core']:5.1f}"
                  f"  mem {row['memory_ratio']:.3f}", flush=True)
    env["loadavg_end"] = os.getloadavg()[0]
    report = markdown(env, rows)
    if args.quick:
        print(report)
    else:
        write_results("core", report, {"environment": env, "rows": rows})


if __name__ == "__main__":
    main()
