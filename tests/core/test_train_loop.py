"""The training loop: progress reports, stopping rules, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.tasks import get_task
from core.tasks.base import Batch
from core.train import Progress, Trainer, TrainSettings, train


def small(**overrides) -> TrainSettings:
    base = {"steps": 30, "batch_size": 8, "lr": 0.02, "eval_every": 10, "eval_size": 16, "seed": 3}
    return TrainSettings(**{**base, **overrides})


def test_progress_is_reported_every_step_with_held_out_metrics_on_schedule():
    task = get_task("adding", lag=6)
    steps = list(Trainer(task, small(stop_at_target=False)).run())
    assert [p.step for p in steps] == list(range(1, 31))
    assert all(math.isfinite(p.loss) and p.grad_norm > 0 and "mse" in p.metrics for p in steps)
    assert [p.step for p in steps if p.eval is not None] == [10, 20, 30]
    assert all(b.elapsed >= a.elapsed for a, b in zip(steps, steps[1:], strict=False))
    assert [p.done for p in steps] == [False] * 29 + [True]
    assert steps[-1].reason == "steps"
    assert set(steps[-1].to_dict()) >= {"step", "loss", "metrics", "grad_norm", "elapsed", "eval", "reason"}


def test_same_seed_same_run_and_another_seed_another():
    task = get_task("sine", length=10, warmup=2)
    a = train(task, small(steps=12))
    b = train(task, small(steps=12))
    c = train(task, small(steps=12, seed=4))
    assert [p.loss for p in a.history] == [p.loss for p in b.history]
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert a.history[0].loss != c.history[0].loss


def test_training_learns_and_stops_at_the_target():
    task = get_task("sentiment")
    result = train(task, TrainSettings.for_task(task, seed=1))
    assert result.final.reason == "target"
    assert result.final.eval["accuracy"] == 1.0
    assert result.final.step < TrainSettings.for_task(task).steps
    assert result.history[0].metrics["accuracy"] < 0.9  # it was not born knowing


def test_gradients_are_clipped_before_the_update():
    task = get_task("adding", lag=6)
    steps = list(Trainer(task, small(clip_norm=1e-3, steps=5)).run())
    assert all(p.clipped and p.grad_norm > 1e-3 for p in steps)
    unclipped = list(Trainer(task, small(clip_norm=None, steps=5)).run())
    assert not any(p.clipped for p in unclipped)


def test_stop_flag_ends_the_run_after_the_current_step():
    trainer = Trainer(get_task("adding", lag=6), small(steps=1000))
    seen: list[Progress] = []
    for progress in trainer.run():
        seen.append(progress)
        if progress.step == 4:
            trainer.stop()
    assert seen[-1].step == 5 and seen[-1].reason == "stopped" and seen[-1].eval is not None


def test_closing_the_generator_stops_training():
    trainer = Trainer(get_task("adding", lag=6), small(steps=1000))
    run = trainer.run()
    for progress in run:
        if progress.step == 3:
            break
    run.close()
    before = {k: v.copy() for k, v in trainer.params.items()}
    with pytest.raises(StopIteration):
        next(run)
    for k in before:
        np.testing.assert_array_equal(before[k], trainer.params[k])


def test_time_budget_stops_the_run():
    steps = list(Trainer(get_task("adding", lag=6), small(steps=100000, time_budget=1e-9)).run())
    assert len(steps) == 1 and steps[0].reason == "time"


def test_sgd_with_momentum_trains_too():
    task = get_task("points")
    result = train(task, TrainSettings.for_task(task, optimizer="sgd", lr=0.3, momentum=0.9, steps=600))
    assert result.final.eval["accuracy"] > 0.9


class ExplodingAdapter:
    """Reports an infinite loss from the third step on, like a relu RNN blowing up."""

    def __init__(self) -> None:
        self.calls = 0

    def loss_and_gradients(self, params, batch):
        self.calls += 1
        loss = math.inf if self.calls >= 3 else 1.0
        return loss, {k: np.ones_like(v) for k, v in params.items()}, {"mse": loss}

    def evaluate(self, params, batch):
        return {"mse": 1.0}


def test_a_diverging_run_stops_and_says_so():
    task = get_task("adding", lag=6)
    task.adapter = lambda config: ExplodingAdapter()  # type: ignore[method-assign]
    steps = list(Trainer(task, small()).run())
    assert [p.reason for p in steps] == [None, None, "diverged"]
    assert steps[-1].step == 2 and steps[-1].done


def test_the_trainer_works_on_a_copy_of_given_params():
    task = get_task("adding", lag=6)
    config = task.default_config()
    params = task.init_params(config, 0)
    original = {k: v.copy() for k, v in params.items()}
    train(task, small(steps=3), config=config, params=params)
    for k in params:
        np.testing.assert_array_equal(params[k], original[k])


def test_bad_settings_are_refused():
    for bad in ({"steps": 0}, {"optimizer": "lbfgs"}, {"lr": 0.0}, {"clip_norm": -1.0}, {"time_budget": 0}):
        with pytest.raises(ValueError):
            TrainSettings(**bad)


def test_batches_carry_their_size():
    assert Batch(np.zeros((5, 3), np.int64), np.zeros((5, 3), np.int64)).size == 3
