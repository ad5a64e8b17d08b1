"""Train every built-in task's default model and save it as a preset (presets/<name>.npz + .json).

    .venv/bin/python scripts/train_presets.py              # all presets
    .venv/bin/python scripts/train_presets.py chars copy   # some

Each recipe is (task name, task options, training settings over the task's defaults). Presets train for their
whole step budget (no early stop at the target) so the stored weights clear the target with a margin.

The evidence sets of core.evidence add one preset per cell (e.g. adding-rnn, adding-lstm, adding-gru): the
same task, recipe and seed, the cell and its width changed, with the training loss curve kept in the metadata.
The bottleneck pair of core.bottleneck adds the sentences task trained with and without attention
(sentences-attention, sentences-no-attention), with its accuracy by source length in the metadata.
"""

from __future__ import annotations

import os
import sys

# These models are small: one BLAS thread is faster than several (thread start-up costs more than the GEMMs).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from core import bottleneck  # noqa: E402
from core.evidence import SETS  # noqa: E402
from core.presets import build_preset, save_preset  # noqa: E402
from core.tasks import TASKS  # noqa: E402

FULL_BUDGET = {"stop_at_target": False, "seed": 0}

#: name -> (task, task options, settings) or (task, options, settings, model changes, curve window)
RECIPES: dict[str, tuple] = {
    "chars": ("chars", {}, FULL_BUDGET),
    "english": ("english", {}, FULL_BUDGET),
    "sentiment": ("sentiment", {}, FULL_BUDGET),
    "sine": ("sine", {}, FULL_BUDGET),
    "adding": ("adding", {"lag": 20}, FULL_BUDGET),
    "copy": ("copy", {"lag": 10}, FULL_BUDGET),
    "points": ("points", {}, FULL_BUDGET),
    "melody": ("melody", {}, FULL_BUDGET),
    "translation": ("translation", {}, FULL_BUDGET),
    "reverse": ("reverse", {}, FULL_BUDGET),
}
for _set in SETS.values():
    for _cell, _name in _set.members:
        RECIPES[_name] = (*_set.recipe(_cell), _set.curve_window)
for _name, _attention in bottleneck.MEMBERS.items():
    RECIPES[_name] = bottleneck.recipe(_attention)


def member_meta(name: str, task_title: str) -> dict:
    """The evidence-set fields of a member preset (title, set and role), nothing for the others."""
    if name in bottleneck.MEMBERS:
        return bottleneck.member_meta(name, task_title)
    for evidence in SETS.values():
        for cell, member in evidence.members:
            if member == name:
                return evidence.member_meta(cell, task_title)
    return {}


def main(names: list[str]) -> int:
    names = names or [n for n, recipe in RECIPES.items() if recipe[0] in TASKS]
    for name in names:
        task, options, settings, *model_and_curve = RECIPES[name]
        config, params, meta = build_preset(task, options, settings, *model_and_curve)
        meta.update(member_meta(name, meta["title"]))
        if name in bottleneck.MEMBERS:
            meta["by_length"] = bottleneck.measured(config, params)
        weights, _ = save_preset(name, config, params, meta)
        print(
            f"{name:12s} {meta['metric']}={meta['metrics'][meta['metric']]:.4f} (target {meta['target']}) "
            f"steps={meta['steps']} {meta['training_seconds']:.1f}s {weights.stat().st_size / 1024:.1f} KB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
