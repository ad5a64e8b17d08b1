"""The trained evidence presets (core.evidence) measured: held-out error by lag and by how far back the first
marked value lies, for the RNN, LSTM and GRU trained by one recipe.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_evidence.py    # writes bench/results/evidence.md and .json

Nothing is trained here: the presets are those shipped in presets/ (made by
``scripts/train_presets.py adding-rnn adding-lstm adding-gru``). Each is evaluated on fresh sequences (a seed of
its own, 2048 per lag) of the adding problem:

    MSE      = mean (y_T - (u_a + u_b))^2             (always answering 1 scores Var(u_a + u_b) = 1/6)
    accuracy = share of sequences with |y_T - (u_a + u_b)| < 0.04   (Hochreiter & Schmidhuber's criterion)

"By lag" runs each preset on sequences of other lengths than the one it was trained on (the task's ``lag``);
"by distance" splits the trained length's sequences by T - a, the number of steps from the first marked value
u_a to the output. "Trained at each lag" (skipped with --no-train, ~4 minutes on one core) repeats the presets'
recipe at shorter lags, to show where the RNN stops learning; those models are measured, not shipped.
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from results_file import write_results  # noqa: E402

from core.evidence import ADDING, CELL_NAMES  # noqa: E402
from core.network import forward  # noqa: E402
from core.presets import Preset, build_preset, load_preset  # noqa: E402
from core.tasks import get_task  # noqa: E402

LAGS = (10, 20, 30, 40)
SIZE = 2048
SEED = 20261203
TOLERANCE = 0.04
COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python bench/bench_evidence.py"


def errors(preset, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """(y_T - sum, T - a) for SIZE fresh sequences of length ``lag``."""
    batch = get_task("adding", lag=lag).sample_batch(np.random.default_rng([SEED, lag]), SIZE)
    trace = forward(preset.params, preset.config, batch.inputs, shape="many_to_one")
    assert trace.logits is not None
    error = trace.logits[-1, :, 0] - batch.targets[-1, :, 0]
    first = batch.inputs[:, :, 1].argmax(axis=0)  # the first marked step of each sequence
    return error, lag - first


def scores(error: np.ndarray) -> dict[str, float]:
    return {
        "mse": float(np.mean(error**2)),
        "accuracy": float(np.mean(np.abs(error) < TOLERANCE)),
        "n": int(error.size),
    }


def measure() -> dict:
    trained_lag = ADDING.options["lag"]
    rows = []
    for cell, name in ADDING.members:
        preset = load_preset(name)
        meta = preset.meta
        by_lag = {lag: scores(errors(preset, lag)[0]) for lag in LAGS}
        error, distance = errors(preset, trained_lag)
        edges = list(range(trained_lag // 2, trained_lag + 1, 5))
        by_distance = {
            f"{lo + 1}-{hi}": scores(error[(distance > lo) & (distance <= hi)])
            for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        }
        rows.append(
            {
                "cell": cell,
                "preset": name,
                "hidden_size": preset.config.hidden_size,
                "parameters": meta["parameters"],
                "training_seconds": meta["training_seconds"],
                "final_train_loss": meta["curve"]["loss"][-1],
                "held_out_mse": meta["metrics"]["mse"],
                "by_lag": by_lag,
                "by_distance": by_distance,
            }
        )
    settings = load_preset(ADDING.preset_name("lstm")).meta["settings"]
    return {
        "command": COMMAND,
        "trained_lag": trained_lag,
        "size": SIZE,
        "seed": SEED,
        "tolerance": TOLERANCE,
        "settings": settings,
        "rows": rows,
    }


def trained_at_each_lag() -> list[dict]:
    """The presets' recipe (same settings, sizes and seed) trained at each of LAGS; error at the lag trained."""
    rows = []
    for lag in LAGS:
        for cell in ADDING.hidden_sizes:
            task, options, settings, model = ADDING.recipe(cell)
            config, params, meta = build_preset(task, {**options, "lag": lag}, settings, model)
            error, _ = errors(Preset(f"lag{lag}-{cell}", config, params, meta), lag)
            rows.append({"lag": lag, "cell": cell, "seconds": meta["training_seconds"], **scores(error)})
            print(
                f"lag {lag} {cell}: mse {rows[-1]['mse']:.4f} ({meta['training_seconds']:.0f} s)", flush=True
            )
    return rows


def report(result: dict) -> str:
    rows, lag = result["rows"], result["trained_lag"]
    s = result["settings"]
    names = [CELL_NAMES[r["cell"]] for r in rows]
    lines = [
        "# Trained evidence: RNN vs LSTM vs GRU on the adding problem",
        "",
        f"Produced by `{result['command']}` from the presets made by "
        "`OMP_NUM_THREADS=1 .venv/bin/python scripts/train_presets.py adding-rnn adding-lstm adding-gru`.",
        "",
        f"All three trained on the adding problem at lag {lag} with one recipe: {s['steps']} {s['optimizer']} steps, "
        f"batch {s['batch_size']}, lr {s['lr']}, clip {s['clip_norm']}, seed {s['seed']} (the same minibatches). "
        "Sizes are matched by parameter count, not hidden size. Errors are measured on "
        f"{result['size']} fresh sequences per row; always answering 1 scores MSE 1/6 ≈ 0.167; accuracy is the "
        f"share of answers within {result['tolerance']} of the true sum.",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(rows),
        "| hidden size | " + " | ".join(str(r["hidden_size"]) for r in rows) + " |",
        "| parameters | " + " | ".join(str(r["parameters"]) for r in rows) + " |",
        "| training time (1 core) | " + " | ".join(f"{r['training_seconds']:.0f} s" for r in rows) + " |",
        "| final training loss (mean of the last 50 steps) | "
        + " | ".join(f"{r['final_train_loss']:.4f}" for r in rows)
        + " |",
        "| held-out MSE (512 sequences of the training run) | "
        + " | ".join(f"{r['held_out_mse']:.4f}" for r in rows)
        + " |",
        "",
        "## MSE and accuracy by lag (sequence length)",
        "",
        f"Each preset (trained at lag {lag}) run on sequences of other lengths.",
        "",
        "| lag | " + " | ".join(f"{n} MSE (accuracy)" for n in names) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for k in LAGS:
        cells = (f"{r['by_lag'][k]['mse']:.4f} ({r['by_lag'][k]['accuracy']:.0%})" for r in rows)
        lines.append(f"| {k}{' (trained)' if k == lag else ''} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"## MSE by distance from the first marked value to the output (lag {lag})",
        "",
        "| steps back | sequences | " + " | ".join(f"{n} MSE (accuracy)" for n in names) + " |",
        "|---|---|" + "---|" * len(rows),
    ]
    for band in rows[0]["by_distance"]:
        n = rows[0]["by_distance"][band]["n"]
        cells = (
            f"{r['by_distance'][band]['mse']:.4f} ({r['by_distance'][band]['accuracy']:.0%})" for r in rows
        )
        lines.append(f"| {band} | {n} | " + " | ".join(cells) + " |")
    if result.get("trained_at_each_lag"):
        by = {(r["lag"], r["cell"]): r for r in result["trained_at_each_lag"]}
        lines += [
            "",
            "## The same recipe trained at each lag (measured, not shipped)",
            "",
            "| lag | " + " | ".join(f"{n} MSE (accuracy, time)" for n in names) + " |",
            "|---|" + "---|" * len(rows),
        ]
        for k in LAGS:
            found = [by[k, r["cell"]] for r in rows]
            cells = (f"{f['mse']:.4f} ({f['accuracy']:.0%}, {f['seconds']:.0f} s)" for f in found)
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-train", action="store_true", help="measure the shipped presets only")
    args = parser.parse_args()
    result = measure()
    if not args.no_train:
        result["trained_at_each_lag"] = trained_at_each_lag()
    write_results("evidence", report(result), result)


if __name__ == "__main__":
    main()
