"""The fixed context vector's bottleneck measured on the shipped presets: accuracy by source length, with and
without attention (core.bottleneck), side by side.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_bottleneck.py   # writes bench/results/bottleneck.md and .json

Nothing is trained here: the presets are those in presets/ (made by ``scripts/train_presets.py
sentences-attention sentences-no-attention``). Each is decoded greedily on fresh sentences of the sentences
task, PER_BAND per length band, drawn with a seed of their own (the presets' metadata holds the same measure on
100 per band with core.bottleneck's default seed). Under teacher forcing the same sentences are scored again,
each decoder step fed the reference's previous word: the gap between the two is what feeding back its own
mistakes costs the decoder.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from results_file import write_results  # noqa: E402

from core import bottleneck  # noqa: E402
from core.presets import load_preset, parameter_count  # noqa: E402
from core.seq2seq import model  # noqa: E402
from core.seq2seq.adapter import token_accuracy  # noqa: E402
from core.tasks import get_task  # noqa: E402

PER_BAND = 500
SEED = 20261204
COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python bench/bench_bottleneck.py"


def forced_word_accuracy(preset, task, band: tuple[int, int]) -> float:
    """Word accuracy of one band's sentences with every decoder step fed the reference's previous word."""
    pairs = [p for p in bottleneck.fresh_pairs(task, SEED, PER_BAND) if band[0] <= len(p[0]) <= band[1]]
    batch = task.make_batch(pairs, 0)
    trace = model.forward(preset.params, preset.config, batch.inputs, batch.targets,
                          source_lengths=batch.lengths)
    return token_accuracy(trace.logits, np.asarray(batch.targets), preset.config.pad_id)


def measure() -> dict:
    task = get_task(bottleneck.TASK, **bottleneck.OPTIONS)
    out: dict = {"per_band": PER_BAND, "seed": SEED, "presets": {}}
    for name in bottleneck.MEMBERS:
        preset = load_preset(name)
        bands = bottleneck.by_length(preset.params, preset.config, task, seed=SEED, per_band=PER_BAND)
        out["presets"][name] = {
            "attention": preset.config.attention,
            "hidden_size": preset.config.hidden_size,
            "parameters": parameter_count(preset.params),
            "training_seconds": preset.meta["training_seconds"],
            "steps": preset.meta["steps"],
            "bands": [
                {**b.to_dict(), "forced_word_accuracy": round(forced_word_accuracy(preset, task, (b.lo, b.hi)), 4)}
                for b in bands
            ],
        }
    return out


def pct(v: float) -> str:
    return f"{100 * v:.0f}%"


def report(data: dict) -> str:
    with_a, without = (data["presets"][n] for n in bottleneck.MEMBERS)
    lines = [
        "# The context vector's bottleneck: accuracy by source length, with and without attention",
        "",
        f"Produced by `{COMMAND}` from the presets made by `OMP_NUM_THREADS=1 .venv/bin/python "
        "scripts/train_presets.py sentences-attention sentences-no-attention`.",
        "",
        "One task (made-up English sentences of 3 to 19 words into French-like words: determiners agree with "
        "their noun, adjectives move after it), one recipe (2500 adam steps, batch 32, lr 0.005, seed 0: the "
        "same minibatches), one size (GRU, embedding 16, hidden 32); only the attention differs. Greedy "
        f"decoding of {data['per_band']} fresh sentences per band (seed {data['seed']}). A sentence is right "
        "when every word and END are; word accuracy counts each target position.",
        "",
        "| | with attention (dot) | without attention |",
        "|---|---|---|",
        f"| parameters | {with_a['parameters']} | {without['parameters']} |",
        f"| training time (1 core) | {with_a['training_seconds']:.0f} s | {without['training_seconds']:.0f} s |",
        "",
        "## Accuracy by source length",
        "",
        "| source length | sentences right, attention | sentences right, no attention "
        "| words right, attention | words right, no attention |",
        "|---|---|---|---|---|",
    ]
    for a, b in zip(with_a["bands"], without["bands"], strict=True):
        lines.append(f"| {a['lo']}–{a['hi']} words | {pct(a['sequence_accuracy'])} | {pct(b['sequence_accuracy'])} "
                     f"| {pct(a['word_accuracy'])} | {pct(b['word_accuracy'])} |")
    lines += [
        "",
        "## Teacher forcing against free running (words right)",
        "",
        "Fed the reference's previous word at every step, the decoder never reads its own mistakes; free "
        "running (greedy), one wrong word can derail the rest.",
        "",
        "| source length | attention, fed the reference | attention, free | no attention, fed the reference "
        "| no attention, free |",
        "|---|---|---|---|---|",
    ]
    for a, b in zip(with_a["bands"], without["bands"], strict=True):
        lines.append(f"| {a['lo']}–{a['hi']} words | {pct(a['forced_word_accuracy'])} | {pct(a['word_accuracy'])} "
                     f"| {pct(b['forced_word_accuracy'])} | {pct(b['word_accuracy'])} |")
    lines += [
        "",
        "Without attention the decoder starts from the encoder's final state alone, 32 numbers for 3 words as "
        "for 19: short sentences partly survive it, long ones do not. With attention each decoder step also "
        "reads a weighted mix of all the encoder's states, and length stops mattering.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    data = measure()
    write_results("bottleneck", report(data), data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
