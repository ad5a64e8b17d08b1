"""The training loop: minibatches from a task, loss and gradients from its adapter, clipping, an optimizer
step.

One step:

    batch  ~ task.sample_batch(data_rng, batch_size)
    L, g   = adapter.loss_and_gradients(params, batch)          (forward + BPTT)
    g      <- g * min(1, clip_norm / (||g|| + 1e-6))             (global-norm clipping, optional)
    params <- optimizer.step(params, g)                          (SGD with momentum or Adam)

``Trainer.run()`` is a generator that yields one :class:`Progress` per step (step, loss, train metrics,
gradient norm before clipping, elapsed seconds) and, every ``eval_every`` steps and at the end, the metrics on
a fixed held-out batch. It stops after ``steps`` steps, after ``time_budget`` seconds, when the held-out
metric reaches the target (``stop_at_target``), when the loss stops being finite, or on request:
``Trainer.stop()`` (thread-safe; the server can call it from another request) or closing the generator. The
last Progress has ``done=True`` and a ``reason`` in STOP_REASONS. The model being trained is
``Trainer.params`` (a private copy, updated in place).

Determinism: initial weights come from ``init_params(config, seed)`` (unless given), minibatches from
``np.random.default_rng(seed)`` and the held-out batch from ``np.random.default_rng([seed, 1])``, so a seed
fixes the whole run whatever the step budget (a time budget can only change where it stops).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from core.optim import OPTIMIZERS, clip_by_global_norm, global_norm, make_optimizer
from core.params import Params
from core.tasks.base import Task

STOP_REASONS = ("steps", "time", "target", "stopped", "diverged")


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 500
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 0.01
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.0
    clip_norm: float | None = 5.0
    seed: int = 0
    time_budget: float | None = None  # seconds
    eval_every: int = 25
    eval_size: int = 256
    stop_at_target: bool = True
    target: float | None = None  # overrides the task's target

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.eval_every < 1 or self.eval_size < 1:
            raise ValueError("steps, batch_size, eval_every and eval_size must be positive")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.clip_norm is not None and not self.clip_norm > 0:
            raise ValueError(f"clip_norm must be positive or None, got {self.clip_norm}")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ValueError(f"time_budget must be positive or None, got {self.time_budget}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def for_task(cls, task: Task, **overrides: Any) -> TrainSettings:
        """The task's recommended settings, with ``overrides`` on top."""
        return cls(**{**task.default_training, **overrides})


@dataclass
class Progress:
    step: int  # steps taken so far (1 after the first update)
    loss: float  # on this step's minibatch, before the update
    metrics: dict[str, float]  # on this step's minibatch, before the update
    grad_norm: float  # global norm before clipping
    clipped: bool
    elapsed: float  # seconds since the run started
    eval: dict[str, float] | None = None  # on the held-out batch, after the update
    done: bool = False
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainResult:
    params: Params
    config: Any
    settings: TrainSettings
    history: list[Progress] = field(default_factory=list)

    @property
    def final(self) -> Progress:
        return self.history[-1]

    @property
    def seconds(self) -> float:
        return self.final.elapsed


class Trainer:
    """One training run of ``task`` (its default model unless ``config``/``params`` are given)."""

    def __init__(
        self,
        task: Task,
        settings: TrainSettings | None = None,
        config: Any = None,
        params: Params | None = None,
    ) -> None:
        self.task = task
        self.settings = settings or TrainSettings.for_task(task)
        self.config = config if config is not None else task.default_config()
        source = params if params is not None else task.init_params(self.config, self.settings.seed)
        self.params: Params = {k: np.array(v, copy=True) for k, v in source.items()}
        self.adapter = task.adapter(self.config)
        s = self.settings
        self.optimizer = make_optimizer(s.optimizer, s.lr, s.momentum, s.weight_decay)
        self.target = task.target if s.target is None else s.target
        self.held_out = task.eval_batch(np.random.default_rng([s.seed, 1]), s.eval_size)
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask a running ``run()`` to finish after the current step."""
        self._stop.set()

    def evaluate(self) -> dict[str, float]:
        return self.adapter.evaluate(self.params, self.held_out)

    def run(self) -> Iterator[Progress]:
        s = self.settings
        data_rng = np.random.default_rng(s.seed)
        start = time.perf_counter()
        for step in range(1, s.steps + 1):
            batch = self.task.sample_batch(data_rng, s.batch_size)
            loss, grads, metrics = self.adapter.loss_and_gradients(self.params, batch)
            if not math.isfinite(loss):
                yield Progress(step - 1, loss, metrics, grad_norm=math.nan, clipped=False,
                               elapsed=time.perf_counter() - start, done=True, reason="diverged")
                return
            if s.clip_norm is None:
                norm = global_norm(grads)
            else:
                grads, norm = clip_by_global_norm(grads, s.clip_norm)
            self.optimizer.step(self.params, grads)
            reason = self._reason(step, start)
            held_out = self.evaluate() if reason is not None or step % s.eval_every == 0 else None
            if reason is None and held_out is not None and s.stop_at_target \
                    and self.task.met(held_out[self.task.metric], self.target):
                reason = "target"
            yield Progress(step, loss, metrics, grad_norm=norm,
                           clipped=s.clip_norm is not None and norm > s.clip_norm,
                           elapsed=time.perf_counter() - start, eval=held_out, done=reason is not None,
                           reason=reason)
            if reason is not None:
                return

    def run_to_end(self) -> Progress:
        """Run without watching; the last Progress."""
        return deque(self.run(), maxlen=1)[0]

    def _reason(self, step: int, start: float) -> str | None:
        if self._stop.is_set():
            return "stopped"
        if step >= self.settings.steps:
            return "steps"
        if self.settings.time_budget is not None and time.perf_counter() - start >= self.settings.time_budget:
            return "time"
        return None


def train(
    task: Task,
    settings: TrainSettings | None = None,
    *,
    config: Any = None,
    params: Params | None = None,
    callback: Callable[[Progress], None] | None = None,
    keep_every: int = 1,
) -> TrainResult:
    """Run a whole training; ``callback`` sees every Progress; the history keeps every ``keep_every``-th step,
    every step with a held-out evaluation, and the last."""
    trainer = Trainer(task, settings, config, params)
    history: list[Progress] = []
    for progress in trainer.run():
        if callback is not None:
            callback(progress)
        if progress.done or progress.eval is not None or progress.step % keep_every == 0:
            history.append(progress)
    return TrainResult(trainer.params, trainer.config, trainer.settings, history)
