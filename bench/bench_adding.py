"""The adding problem at growing lags: vanilla RNN, LSTM and GRU with the same budget.

    .venv/bin/python bench/bench_adding.py           # writes bench/results/adding.md and adding.json

Every model has H = 16 hidden units and trains for the same number of Adam steps (batch 32, lr 0.01, clipping
at global norm 1) from the same seed on the same minibatches; the error is the MSE on 512 held-out sequences.
Always answering 1 scores 1/6 ~ 0.167, so an error near that means the model never learned to carry the first
marked value to the end of the sequence.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from results_file import write_results  # noqa: E402

from core.tasks.memory import AddingTask
from core.train import Trainer, TrainSettings

LAGS = (10, 50, 100)
CELLS = ("rnn", "lstm", "gru")
BASELINE = 1 / 6


def run(lag: int, cell: str, steps: int, seed: int) -> dict:
    task = AddingTask(lag=lag)
    config = replace(task.default_config(), cell=cell)
    settings = TrainSettings(
        steps=steps,
        batch_size=32,
        lr=0.01,
        clip_norm=1.0,
        seed=seed,
        eval_every=steps,
        eval_size=512,
        stop_at_target=False,
    )
    trainer = Trainer(task, settings, config=config)
    start = time.perf_counter()
    final = trainer.run_to_end()
    assert final.eval is not None
    return {
        "lag": lag,
        "cell": cell,
        "steps": final.step,
        "mse": final.eval["mse"],
        "seconds": time.perf_counter() - start,
        "stop": final.reason,
    }


def report(rows: list[dict], steps: int, seed: int) -> str:
    by = {(r["lag"], r["cell"]): r for r in rows}
    lines = [
        "# The adding problem: RNN vs LSTM vs GRU",
        "",
        f"Produced by `.venv/bin/python bench/bench_adding.py --steps {steps} --seed {seed}`. H = 16, "
        f"{steps} Adam steps (batch 32, lr 0.01, clip 1.0), MSE on 512 held-out sequences; predicting the "
        f"mean scores {BASELINE:.3f}.",
        "",
        "| lag (sequence length) | " + " | ".join(f"{c.upper()} MSE (time)" for c in CELLS) + " |",
        "|---|" + "---|" * len(CELLS),
    ]
    for lag in sorted({r["lag"] for r in rows}):
        cells = (f"{by[lag, c]['mse']:.4f} ({by[lag, c]['seconds']:.0f} s)" for c in CELLS)
        lines.append(f"| {lag} | " + " | ".join(cells) + " |")
    total = sum(r["seconds"] for r in rows)
    lines += ["", f"Total training time {total:.0f} s."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = []
    for lag in LAGS:
        for cell in CELLS:
            rows.append(run(lag, cell, args.steps, args.seed))
            r = rows[-1]
            print(f"lag {lag:4d} {cell:5s} mse {r['mse']:.4f} ({r['seconds']:.1f} s)", flush=True)
    write_results("adding", report(rows, args.steps, args.seed), {"steps": args.steps, "seed": args.seed, "rows": rows})


if __name__ == "__main__":
    main()
