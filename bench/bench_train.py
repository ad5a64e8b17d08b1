"""Training benchmark: one training step of an LSTM against PyTorch autograd, and each preset's training time.

    .venv/bin/python bench/bench_train.py            # writes bench/results/train.md and train.json
    .venv/bin/python bench/bench_train.py --quick    # fewer repetitions, no preset retraining, prints only

One step = forward (every state and gate recorded) + cross-entropy over all steps + BPTT + global-norm
clipping + Adam, for an LSTM with input size 16, H = 64, batch 32, T = 20 and 16 output classes. PyTorch runs
the same model (nn.LSTM + nn.Linear, F.cross_entropy, loss.backward(), clip_grad_norm_, torch.optim.Adam) in
the same process with the same number of threads (--threads, default 1: the *_NUM_THREADS variables are set
before NumPy and PyTorch load, and torch.set_num_threads). Timings are medians over repetitions, the two sides
called in turn so that noise hits both alike. Target: ours at most 1.5x PyTorch's time per step.
"""

from __future__ import annotations

import os
import sys

THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from results_file import write_results  # noqa: E402

from core import bptt  # noqa: E402
from core.config import NetworkConfig  # noqa: E402
from core.network import forward  # noqa: E402
from core.optim import Adam, clip_by_global_norm  # noqa: E402
from core.params import init_params  # noqa: E402
from core.presets import build_preset  # noqa: E402
from core.tasks import TASKS  # noqa: E402
from core.tasks.base import Batch, NetworkAdapter  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
INPUT, HIDDEN, BATCH, STEPS, CLASSES = 16, 64, 32, 20, 16
TARGET_RATIO = 1.5
CLIP = 5.0
LR = 1e-3


def our_step(config: NetworkConfig, params: dict, batch: Batch) -> Callable[[], None]:
    adapter = NetworkAdapter(config, "cross_entropy")
    optimizer = Adam(LR)

    def step() -> None:
        _, grads, _ = adapter.loss_and_gradients(params, batch)
        grads, _ = clip_by_global_norm(grads, CLIP)
        optimizer.step(params, grads)

    return step


def our_phases(config: NetworkConfig, params: dict, batch: Batch) -> dict[str, Callable[[], object]]:
    """The step cut in parts, to see where time goes: forward alone, forward + loss + BPTT, Adam alone."""
    _, _, grads = bptt.loss_and_gradients(params, config, batch.inputs, batch.targets)
    optimizer = Adam(LR)
    scratch = {k: v.copy() for k, v in params.items()}
    return {
        "forward": lambda: forward(params, config, batch.inputs),
        "forward+bptt": lambda: bptt.loss_and_gradients(params, config, batch.inputs, batch.targets),
        "adam": lambda: optimizer.step(scratch, grads.params),
    }


def torch_step(config: NetworkConfig, params: dict, batch: Batch) -> Callable[[], None]:
    dtype = torch.float64 if config.dtype == "float64" else torch.float32
    lstm = torch.nn.LSTM(INPUT, HIDDEN, dtype=dtype)
    head = torch.nn.Linear(HIDDEN, CLASSES, dtype=dtype)
    with torch.no_grad():
        for name, p in lstm.named_parameters():
            p.copy_(torch.tensor(params[name]))
        head.weight.copy_(torch.tensor(params["output.weight"]))
        head.bias.copy_(torch.tensor(params["output.bias"]))
    modules = [*lstm.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(modules, lr=LR)
    x = torch.tensor(batch.inputs, dtype=dtype)
    y = torch.tensor(batch.targets).reshape(-1)

    def step() -> None:
        optimizer.zero_grad()
        out, _ = lstm(x)
        loss = torch.nn.functional.cross_entropy(head(out).reshape(-1, CLASSES), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(modules, CLIP)
        optimizer.step()

    return step


def timed(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 5) -> dict[str, float]:
    """Median seconds per call of each function, the functions called in turn."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) for name, s in samples.items()}


def step_benchmark(dtype: str, repeats: int) -> dict:
    config = NetworkConfig(
        cell="lstm",
        input_size=INPUT,
        hidden_size=HIDDEN,
        output_size=CLASSES,
        output_activation="softmax",
        dtype=dtype,
    )
    rng = np.random.default_rng(0)
    batch = Batch(
        rng.standard_normal((STEPS, BATCH, INPUT)).astype(dtype), rng.integers(0, CLASSES, (STEPS, BATCH))
    )
    params = init_params(config, 0)
    phases = our_phases(config, params, batch)
    step = our_step(config, {k: v.copy() for k, v in params.items()}, batch)
    times = timed({"ours": step, "torch": torch_step(config, params, batch), **phases}, repeats)
    return {
        "dtype": dtype,
        "ours_ms": 1e3 * times["ours"],
        "torch_ms": 1e3 * times["torch"],
        "ratio": times["ours"] / times["torch"],
        "phases_ms": {k: 1e3 * times[k] for k in phases},
    }


def preset_times() -> list[dict]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from train_presets import RECIPES

    rows = []
    for name, (task, options, settings) in RECIPES.items():
        if task not in TASKS:
            continue
        _, _, meta = build_preset(task, options, settings)
        rows.append(
            {
                "preset": name,
                "steps": meta["steps"],
                "seconds": meta["training_seconds"],
                "ms_per_step": 1e3 * meta["training_seconds"] / meta["steps"],
                "metric": meta["metric"],
                "value": meta["metrics"][meta["metric"]],
                "target": meta["target"],
            }
        )
    return rows


def report(steps: list[dict], presets: list[dict]) -> str:
    lines = [
        "# Training benchmark",
        "",
        f"Produced by `.venv/bin/python bench/bench_train.py`; {THREADS} thread(s), "
        f"{platform.processor() or platform.machine()}, numpy {np.__version__}, torch {torch.__version__}.",
        "",
        f"One step: LSTM, input {INPUT}, H={HIDDEN}, batch {BATCH}, T={STEPS}, {CLASSES}-way cross-entropy "
        f"at every step, clipping, Adam. Target: ours <= {TARGET_RATIO}x PyTorch.",
        "",
        "| dtype | ours (ms) | PyTorch (ms) | ratio | meets target | forward | forward+BPTT | Adam |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in steps:
        p = r["phases_ms"]
        lines.append(
            f"| {r['dtype']} | {r['ours_ms']:.2f} | {r['torch_ms']:.2f} | {r['ratio']:.2f}x | "
            f"{'yes' if r['ratio'] <= TARGET_RATIO else 'no'} | {p['forward']:.2f} | "
            f"{p['forward+bptt']:.2f} | {p['adam']:.2f} |"
        )
    if presets:
        lines += [
            "",
            "## Preset training (scripts/train_presets.py recipes, full budget, same threads)",
            "",
            "| preset | steps | seconds | ms/step | metric | value | target |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in presets:
            lines.append(
                f"| {r['preset']} | {r['steps']} | {r['seconds']:.1f} | {r['ms_per_step']:.1f} | "
                f"{r['metric']} | {r['value']:.4f} | {r['target']} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    repeats = 20 if args.quick else 200
    steps = [step_benchmark(dtype, repeats) for dtype in ("float64", "float32")]
    presets = [] if args.quick else preset_times()
    text = report(steps, presets)
    if args.quick:
        print(text)
    else:
        write_results("train", text, {"threads": args.threads, "steps": steps, "presets": presets})


if __name__ == "__main__":
    main()
