"""Training jobs: a core.train.Trainer run in a background thread, its progress kept for a live event stream.

    start(task, options, settings) -> Job      (at most ``max_running`` at once per worker process)
    job.progress                                every Progress as a dict, appended as the run goes
    cancel(id)                                  Trainer.stop(): the run ends after its current step
    finished run -> its weights go into the model store; ``result_id`` is their content id

Jobs live in the memory of the worker that started them (a finished job's model is in the shared store): with
several workers, route a job's status and events to the worker that started it (sticky sessions), or run
training on one worker. At most ``max_kept`` jobs are remembered; the oldest finished ones are forgotten
first.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from app.errors import ApiError, NotFoundError, UnprocessableError
from app.limits import Limits, check_config
from app.resolve import vocab_tokens
from app.store import ModelStore
from core.config import NetworkConfig

STATES = ("running", "done", "failed")


class BusyError(ApiError):
    """Every training slot of this worker is taken: 429 with Retry-After, like the rate limit (a 5xx would
    say the server failed; it did not, the client should come back later)."""

    status = 429
    kind = "busy"
    headers = {"retry-after": "5"}


@dataclass
class Job:
    id: str
    task: str
    options: dict[str, Any]
    settings: dict[str, Any]
    trainer: Any
    created: float = field(default_factory=time.time)
    state: str = "running"
    progress: list[dict[str, Any]] = field(default_factory=list)
    result_id: str | None = None
    error: str | None = None

    def status(self) -> dict[str, Any]:
        last = self.progress[-1] if self.progress else None
        return {
            "id": self.id,
            "task": self.task,
            "options": self.options,
            "settings": self.settings,
            "state": self.state,
            "steps_done": last["step"] if last else 0,
            "last": last,
            "result_id": self.result_id,
            "error": self.error,
            "created": self.created,
        }


class JobManager:
    def __init__(self, store: ModelStore, limits: Limits, max_running: int = 2, max_kept: int = 100) -> None:
        self.store = store
        self.limits = limits
        self.max_running = max_running
        self.max_kept = max_kept
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.lock = threading.Lock()

    def start(self, task_name: str, options: dict[str, Any], overrides: dict[str, Any]) -> Job:
        from core.tasks import TASKS, get_task
        from core.train import Trainer, TrainSettings

        if task_name not in TASKS:
            raise NotFoundError(
                f"no task named {task_name!r}; GET /api/v1/tasks lists them", ("body", "task")
            )
        try:
            task = get_task(task_name, **options)
        except (
            Exception
        ) as exc:  # options go straight into the task's constructor: any failure is the input's
            raise UnprocessableError(f"task options: {exc}", ("body", "options")) from None
        overrides = dict(overrides)
        budget = self.limits.max_train_seconds
        overrides["time_budget"] = min(overrides.get("time_budget") or budget, budget)
        if overrides.get("steps", 0) > self.limits.max_train_steps:
            raise UnprocessableError(
                f"steps is over the limit of {self.limits.max_train_steps} (server setting "
                "UNROLLED_MAX_TRAIN_STEPS)",
                ("body", "settings", "steps"),
            )
        try:
            settings = TrainSettings.for_task(task, **overrides)
        except (TypeError, ValueError) as exc:
            raise UnprocessableError(str(exc), ("body", "settings")) from None
        if settings.steps > self.limits.max_train_steps:
            settings = TrainSettings(**{**settings.to_dict(), "steps": self.limits.max_train_steps})
        config = task.default_config()
        if isinstance(config, NetworkConfig):
            check_config(self.limits, config)
        with self.lock:
            running = sum(job.state == "running" for job in self.jobs.values())
            if running >= self.max_running:
                raise BusyError(
                    f"{running} training runs are in progress on this worker (the limit is "
                    f"{self.max_running}); try again when one finishes"
                )
            job = Job(uuid.uuid4().hex, task_name, options, settings.to_dict(), Trainer(task, settings))
            self.jobs[job.id] = job
            self._forget_old()
        threading.Thread(target=self._run, args=(job, task), name=f"train-{job.id[:8]}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job:
        with self.lock:
            job = self.jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no training job {job_id!r} on this worker")
        return job

    def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        job.trainer.stop()
        return job

    def _forget_old(self) -> None:
        finished = [job_id for job_id, job in self.jobs.items() if job.state != "running"]
        while len(self.jobs) > self.max_kept and finished:
            self.jobs.pop(finished.pop(0))

    def _run(self, job: Job, task: Any) -> None:
        try:
            for progress in job.trainer.run():
                job.progress.append(progress.to_dict())
            job.result_id = self._store_result(job, task)
            job.state = "done"
        except Exception as exc:  # the thread must always end in a final state the client can see
            job.error = f"{type(exc).__name__}: {exc}"
            job.state = "failed"

    def _store_result(self, job: Job, task: Any) -> str | None:
        """Keep the trained network in the store (Seq2Seq models are not: the trace API runs networks)."""
        config = job.trainer.config
        if not isinstance(config, NetworkConfig):
            return None
        last = job.progress[-1] if job.progress else {}
        meta = {
            "name": f"{job.task} (trained)",
            "task": job.task,
            "task_options": job.options,
            "settings": job.settings,
            "metrics": last.get("eval") or last.get("metrics"),
            "vocab": vocab_tokens(None if task.vocab is None else list(task.vocab.tokens)),
        }
        return self.store.put(config, job.trainer.params, meta)
