"""Shipped presets: every one loads, is small, and still meets its stated metric on fresh samples."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import NetworkConfig
from core.params import check_params
from core.presets import PRESETS_DIR, build_preset, load_preset, preset_names, save_preset
from core.tasks import get_task

NAMES = preset_names()


def meets_or_fails_as_intended(task, meta, value) -> bool:
    """Whether a preset scores as it should: at its target, or, for an evidence set's counter-example
    (core.evidence: the RNN trained beside gated cells), clearly short of it."""
    if meta.get("evidence", {}).get("counter_example"):
        return not task.met(value, meta["target"])
    return task.met(value, meta["target"])


def test_every_built_in_task_of_ours_has_a_preset():
    assert {"chars", "english", "sentiment", "sine", "adding", "copy", "points", "melody"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_preset_loads_with_its_metadata(name):
    preset = load_preset(name)
    meta = preset.meta
    assert preset.name == meta["name"] == name
    # The simulator's default English model is wider than the others (and still well under 1 MB).
    assert (PRESETS_DIR / f"{name}.npz").stat().st_size < (256 if name == "english" else 64) * 1024
    for key in (
        "task",
        "description",
        "metrics",
        "metric",
        "target",
        "seed",
        "steps",
        "training_seconds",
        "vocab",
    ):
        assert key in meta
    assert all(v.dtype == np.dtype(preset.config.dtype) for v in preset.params.values())
    task = get_task(meta["task"], **meta["task_options"])
    if task.vocab is not None:
        assert meta["vocab"]["tokens"] == list(task.vocab.tokens)
    assert meets_or_fails_as_intended(task, meta, meta["metrics"][meta["metric"]])


@pytest.mark.parametrize("name", NAMES)
def test_preset_meets_its_metric_on_fresh_samples(name):
    preset = load_preset(name)
    if isinstance(preset.config, NetworkConfig):
        check_params(preset.params, preset.config)
    meta = preset.meta
    task = get_task(meta["task"], **meta["task_options"])
    fresh = task.eval_batch(np.random.default_rng(20261125), meta["settings"]["eval_size"])
    metrics = task.adapter(preset.config).evaluate(preset.params, fresh)
    assert meets_or_fails_as_intended(task, meta, metrics[meta["metric"]]), metrics


def test_retraining_a_small_preset_reproduces_its_metric(tmp_path):
    meta = load_preset("points").meta
    config, params, again = build_preset(meta["task"], meta["task_options"], meta["settings"])
    assert again["steps"] == meta["steps"]
    assert again["metrics"][meta["metric"]] == pytest.approx(meta["metrics"][meta["metric"]], abs=0.01)
    save_preset("points-copy", config, params, again, tmp_path)
    reloaded = load_preset("points-copy", tmp_path)
    for k, v in params.items():
        np.testing.assert_allclose(reloaded.params[k], v, rtol=1e-6, atol=1e-7)  # stored as float32


def test_unknown_or_unsafe_names_are_refused():
    with pytest.raises(KeyError, match="unknown preset"):
        load_preset("no-such-model")
    with pytest.raises(KeyError, match="invalid preset name"):
        load_preset("../pyproject")
