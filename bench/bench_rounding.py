"""Cost and accuracy of rounding a reply's numbers to p significant digits (app.wire.rounding).

Rounds the 22,000 numbers of a default LSTM trace reply (T=50, H=64: tanh-like and sigmoid-like values) with
app.wire.rounding and with the one-step rint(x 10^k) / 10^k it replaced (which rounds twice: x 10^k is itself
rounded), the two called in turn, and reports the median CPU time of each (``time.thread_time``, one BLAS
thread) and how often each differs from the definition ``float(f"{x:.{p-1}e}")``.

Usage: .venv/bin/python bench/bench_rounding.py [--repeats 300]   (writes bench/results/rounding.md/.json)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
from results_file import write_results  # noqa: E402

from app.wire import rounding
from app.wire.rounding import round_together

PRECISIONS = (4, 8, 12, 15, 16, 17)


def trace_like_numbers(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    gates = 1.0 / (1.0 + np.exp(-3.0 * rng.standard_normal(11_000)))
    states = np.tanh(2.0 * rng.standard_normal(11_000))
    return np.concatenate([gates, states])


def rint_once(values: np.ndarray, digits: int) -> np.ndarray:
    """The replaced method, for comparison: the same k as app.wire.rounding, then rint(x 10^k) / 10^k and nothing
    more (numbers of trace replies have 0 <= k <= 22 at these precisions)."""
    out = np.array(values, dtype=np.float64)
    for start in range(0, out.size, rounding.BLOCK):  # in the same cache-sized blocks as app.wire.rounding
        _rint_block(out[start : start + rounding.BLOCK], digits)
    return out


def _rint_block(x: np.ndarray, digits: int) -> None:
    _, exponent = np.frexp(x)
    index = exponent + rounding._EXPONENT_OFFSET
    k = rounding._K_BASE.take(index) - (np.abs(x) >= rounding._THRESHOLD_BY_EXPONENT.take(index))
    k += digits - 1
    scale = rounding.EXACT_POWERS.take(np.clip(k, 0, rounding.MAX_EXACT_POWER))
    x *= scale
    np.rint(x, out=x)
    x /= scale


def formula(values: np.ndarray, digits: int) -> np.ndarray:
    return np.array([float(f"{v:.{digits - 1}e}") for v in values.tolist()])


def measure(values: np.ndarray, repeats: int) -> list[dict]:
    rows = []
    for digits in PRECISIONS:
        times: dict[str, list[float]] = {"app.wire.rounding": [], "rint once": []}
        for _ in range(repeats):
            for name, run in (
                ("app.wire.rounding", lambda d: round_together([values], d)),
                ("rint once", lambda d: rint_once(values, d)),
            ):
                start = time.thread_time()
                run(digits)
                times[name].append(time.thread_time() - start)
        expected = formula(values, digits)
        exact = round_together([values], digits)[0]
        rows.append(
            {
                "precision": digits,
                "ms": {name: statistics.median(t) * 1e3 for name, t in times.items()},
                "differ_from_formula": {
                    "app.wire.rounding": int(np.count_nonzero(exact != expected)),
                    "rint once": int(np.count_nonzero(rint_once(values, digits) != expected)),
                },
            }
        )
    return rows


def report(result: dict) -> str:
    n = result["numbers"]
    rows = "\n".join(
        f"| {r['precision']} | {r['ms']['app.wire.rounding']:.3f} | {r['ms']['rint once']:.3f} | "
        f"{r['differ_from_formula']['app.wire.rounding']} | {r['differ_from_formula']['rint once']} "
        f"({r['differ_from_formula']['rint once'] / n:.1%}) |"
        for r in result["rows"]
    )
    return f"""# Rounding a reply to p significant digits

{result["date"]}; {result["machine"]["cpus"]} CPUs shared with other work; Python {result["machine"]["python"]},
NumPy {result["machine"]["numpy"]}. {n} trace-like numbers (sigmoid and tanh values), median CPU time of
{result["repeats"]} calls each, the two methods called in turn. Command: `.venv/bin/python bench/bench_rounding.py`

| p | app.wire.rounding ms | rint(x 10^k) / 10^k ms | app.wire.rounding != formula | rint once != formula |
|---|---:|---:|---:|---:|
{rows}

The formula is `float(f"{{x:.{{p-1}}e}}")`. At p = 17 app.wire.rounding returns the numbers as they are (17 digits
identify every float64); at p = 16 about a third of these numbers have x 10^k above 2^52 and take the exact
product, and the odd r above 2^53 the exact integer quotient.
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    values = trace_like_numbers()
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__},
        "numbers": int(values.size),
        "repeats": args.repeats,
        "rows": measure(values, args.repeats),
    }
    write_results("rounding", report(result), result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
