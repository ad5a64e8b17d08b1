"""The trained evidence sets (core.evidence): same task, recipe and seed for RNN, LSTM and GRU; the gated
cells clearly beat the RNN at the long lag, and each preset carries the loss curve a page draws."""

from __future__ import annotations

import numpy as np
import pytest

from core.evidence import ADDING, SETS
from core.influence import influence_norms
from core.presets import load_preset, loss_curve, parameter_count
from core.tasks import get_task

MEMBERS = {cell: load_preset(name) for cell, name in ADDING.members}


def fresh_mse(preset, lag: int, seed: int = 20261203, size: int = 512) -> float:
    task = get_task("adding", lag=lag)
    batch = task.eval_batch(np.random.default_rng(seed), size)
    return task.adapter(preset.config).evaluate(preset.params, batch)["mse"]


def test_members_share_task_recipe_and_seed_and_have_similar_sizes():
    metas = [p.meta for p in MEMBERS.values()]
    assert {m["task"] for m in metas} == {"adding"}
    assert all(m["task_options"] == ADDING.options for m in metas)
    assert all(m["settings"] == metas[0]["settings"] for m in metas)
    assert [p.config.cell for p in MEMBERS.values()] == ["rnn", "lstm", "gru"]
    counts = [parameter_count(p.params) for p in MEMBERS.values()]
    assert counts == [m["parameters"] for m in metas]
    assert max(counts) / min(counts) < 1.15  # similar parameter counts, not the same hidden size
    assert [m["evidence"]["counter_example"] for m in metas] == [True, False, False]


def test_gated_cells_clearly_beat_the_rnn_at_the_long_lag():
    lag = ADDING.options["lag"]
    mse = {cell: fresh_mse(p, lag) for cell, p in MEMBERS.items()}
    baseline = 1 / 6  # always answering the mean, 1
    assert mse["rnn"] > 0.6 * baseline, mse  # no better than guessing, loosely
    assert mse["lstm"] < 0.01 and mse["gru"] < 0.01, mse
    assert mse["rnn"] > 20 * max(mse["lstm"], mse["gru"]), mse


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_each_preset_keeps_its_training_loss_curve(cell):
    meta = MEMBERS[cell].meta
    curve = meta["curve"]
    steps, loss = curve["steps"], curve["loss"]
    assert len(steps) == len(loss) == meta["steps"] // curve["window"]
    assert steps == sorted(steps) and steps[-1] == meta["steps"]
    assert all(np.isfinite(loss)) and all(v > 0 for v in loss)
    held = curve["held_out"]
    assert held["steps"][-1] == meta["steps"] and len(held["mse"]) == len(held["steps"])
    if cell != "rnn":  # it learned: the last window's loss is a small fraction of the first
        assert loss[-1] < 0.05 * loss[0]


def test_loss_curve_averages_windows():
    curve = loss_curve([1.0, 3.0, 2.0, 4.0, 10.0], 2)
    assert curve == {"window": 2, "steps": [2, 4, 5], "loss": [2.0, 3.0, 10.0]}
    with pytest.raises(ValueError):
        loss_curve([1.0], 0)


def test_the_lstm_looks_further_back_than_the_rnn():
    """On sequences with the first marker early, the trained LSTM's output still depends on that marked
    value; the RNN's influence from that far back is orders of magnitude smaller."""
    task = get_task("adding", **ADDING.options)
    batch = task.sample_batch(np.random.default_rng(0), 16)
    ratios = []
    for b in range(16):
        x = batch.inputs[:, b]
        first = int(np.flatnonzero(x[:, 1])[0])
        rnn = influence_norms(MEMBERS["rnn"].params, MEMBERS["rnn"].config, x)
        lstm = influence_norms(MEMBERS["lstm"].params, MEMBERS["lstm"].config, x)
        ratios.append(lstm[first] / max(rnn[first], 1e-300))
    assert np.median(ratios) > 100


def test_sets_name_existing_presets():
    for evidence in SETS.values():
        for cell, name in evidence.members:
            assert load_preset(name).config.cell == cell


def test_build_preset_changes_the_model_and_keeps_the_curve():
    from core.presets import build_preset

    settings = {"steps": 5, "eval_every": 2, "eval_size": 16, "stop_at_target": False, "seed": 1}
    config, params, meta = build_preset("points", {}, settings, {"cell": "gru", "hidden_size": 3}, 2)
    assert config.cell == "gru" and config.hidden_size == 3
    assert meta["model_changes"] == {"cell": "gru", "hidden_size": 3}
    assert meta["parameters"] == parameter_count(params)
    assert meta["curve"]["steps"] == [2, 4, 5] and len(meta["curve"]["loss"]) == 3
    assert meta["curve"]["held_out"]["steps"] == [2, 4, 5]
    _, _, plain = build_preset("points", {}, settings)
    assert "curve" not in plain and "model_changes" not in plain
