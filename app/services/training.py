"""Training jobs: a core.train.Trainer run in a background thread, its progress kept for a live event stream.

    start(task, options, settings) -> Job      (at most ``max_running`` at once per worker process)
    job.progress                                every Progress as a dict, appended as the run goes
    cancel(id)                                  Trainer.stop(): the run ends after its current step
    finished run -> its weights go into the model store (networks and encoder-decoders alike);
                    ``result_id`` is their content id

Every job is also kept in the shared database (app.storage.jobs): the running worker writes its progress
there at least every FLUSH_SECONDS and polls a cancel flag at the same moments, so status, events and cancel
work from any worker process (no sticky sessions). The worker that runs a job answers from memory; the others
read the file, and report a job whose worker has written nothing for LOST_AFTER_SECONDS as failed (its worker
was killed or restarted mid-run). At most ``max_kept`` finished jobs are remembered; the oldest are forgotten first.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from app.errors import ApiError, NotFoundError, UnprocessableError
from app.services.limits import Limits
from app.services.resolve import vocab_tokens
from app.services.training_model import model_config
from app.storage.jobs import JobStore
from app.storage.models import ModelStore
from core.config import NetworkConfig

#: Longest wait before a running job's progress reaches the file and a cancel from another worker is seen.
FLUSH_SECONDS = 0.2
#: A job whose worker has written nothing (progress or heartbeat) for this long is taken to have lost its
#: worker (killed, crashed, restarted) and is reported failed. Far above FLUSH_SECONDS: one training step of
#: the largest model the limits allow takes well under a second.
LOST_AFTER_SECONDS = 30.0
LOST_WORKER = (
    f"the worker process running this job stopped before it finished (nothing written for {LOST_AFTER_SECONDS:.0f} s)"
)


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
    state: str = "running"  # then "done" or "failed"
    progress: list[dict[str, Any]] = field(default_factory=list)
    result_id: str | None = None
    error: str | None = None
    model: dict[str, Any] = field(default_factory=dict)  # the fields changed from the task's default model

    def status(self) -> dict[str, Any]:
        last = self.progress[-1] if self.progress else None
        return {
            "id": self.id,
            "task": self.task,
            "options": self.options,
            "settings": self.settings,
            "model": self.model,
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
        self.jobs: OrderedDict[str, Job] = OrderedDict()  # the jobs this process runs or ran
        self.lock = threading.Lock()
        self.shared = JobStore(store.db)

    def start(
        self,
        task_name: str,
        options: dict[str, Any],
        overrides: dict[str, Any],
        model: dict[str, Any] | None = None,
    ) -> Job:
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
        model = {name: value for name, value in (model or {}).items() if value is not None}
        config = model_config(task, model, self.limits)
        with self.lock:
            running = sum(job.state == "running" for job in self.jobs.values())
            if running >= self.max_running:
                raise BusyError(
                    f"{running} training runs are in progress on this worker (the limit is "
                    f"{self.max_running}); try again when one finishes"
                )
            trainer = Trainer(task, settings, config)
            job = Job(uuid.uuid4().hex, task_name, options, settings.to_dict(), trainer, model=model)
            self.shared.create(
                {
                    "id": job.id,
                    "task": job.task,
                    "options": options,
                    "settings": job.settings,
                    "model": model,
                    "created": job.created,
                }
            )
            self.jobs[job.id] = job
            self._forget_old()
        threading.Thread(target=self._run, args=(job, task), name=f"train-{job.id[:8]}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job:
        """The job, from memory if this process runs it, else as the shared file last recorded it."""
        with self.lock:
            job = self.jobs.get(job_id)
        if job is not None:
            return job
        row = self._shared_row(job_id)
        return Job(
            row["id"],
            row["task"],
            row["options"],
            row["settings"],
            trainer=None,
            created=row["created"],
            state=row["state"],
            progress=self.shared.progress(job_id),
            result_id=row["result_id"],
            error=row["error"],
            model=row["model"],
        )

    def progress_after(self, job_id: str, sent: int) -> tuple[str, list[dict[str, Any]]]:
        """The job's state, then its progress records from number ``sent`` on. The state is read first: a
        job found finished has all its records in place already."""
        with self.lock:
            job = self.jobs.get(job_id)
        if job is not None:
            state = job.state
            return state, job.progress[sent:]
        row = self._shared_row(job_id)
        return row["state"], self.shared.progress(job_id, sent)

    def _shared_row(self, job_id: str) -> dict[str, Any]:
        """The job's row in the shared file, for a job another process runs (or ran). A 'running' job whose
        worker has gone silent is marked failed first, so no client waits on it for ever."""
        row = self.shared.load(job_id)
        if row is None:
            raise NotFoundError(f"no training job {job_id!r}")
        heard = row["heartbeat"]
        silent = heard is None or heard < time.time() - LOST_AFTER_SECONDS
        # The row said so a moment ago; the store changes it only if that still holds (one write, and only then).
        if row["state"] == "running" and silent and self.shared.give_up_if_silent(
            job_id, LOST_AFTER_SECONDS, LOST_WORKER
        ):
            row = {**row, "state": "failed", "error": LOST_WORKER}
        return row

    def cancel(self, job_id: str) -> Job:
        """Stop the job: at once if this process runs it, else at its worker's next flush."""
        with self.lock:
            job = self.jobs.get(job_id)
        if job is not None:
            job.trainer.stop()
        if not self.shared.request_cancel(job_id) and job is None:
            raise NotFoundError(f"no training job {job_id!r}")
        return self.get(job_id)

    def _forget_old(self) -> None:
        finished = [job_id for job_id, job in self.jobs.items() if job.state != "running"]
        while len(self.jobs) > self.max_kept and finished:
            self.jobs.pop(finished.pop(0))
        self.shared.forget_finished(self.max_kept)

    def _run(self, job: Job, task: Any) -> None:
        flushed, last_flush = 0, time.monotonic()

        def flush() -> None:
            nonlocal flushed, last_flush
            available = len(job.progress)
            if self.shared.append_progress(job.id, flushed, job.progress[flushed:available]):
                job.trainer.stop()  # another worker asked
            flushed, last_flush = available, time.monotonic()

        try:
            for progress in job.trainer.run():
                job.progress.append(progress.to_dict())
                if time.monotonic() - last_flush >= FLUSH_SECONDS:
                    flush()
            flush()
            job.result_id = self._store_result(job, task)
            state = "done"
        except Exception as exc:  # the thread must always end in a final state the client can see
            job.error = f"{type(exc).__name__}: {exc}"
            state = "failed"
        try:
            if state == "failed":
                flush()  # what progress there was, before the final state (readers rely on that order)
            self.shared.finish(job.id, state, job.result_id, job.error)
        except Exception as exc:  # the file is unwritable: this worker still reports the outcome itself
            job.error = job.error or f"{type(exc).__name__}: {exc}"
            state = "failed"
        job.state = state

    def _store_result(self, job: Job, task: Any) -> str:
        """Keep the trained model in the store with what its views need: the task, the vocabularies (an
        encoder-decoder also its target vocabulary) and how typed text splits into tokens."""
        config = job.trainer.config
        last = job.progress[-1] if job.progress else {}
        meta = {
            "name": f"{job.task} (trained)",
            "task": job.task,
            "task_options": job.options,
            "settings": job.settings,
            "metrics": last.get("eval") or last.get("metrics"),
            "vocab": vocab_tokens(None if task.vocab is None else list(task.vocab.tokens)),
            # how typed text splits into those tokens (the simulator's input form for this model)
            "tokenizer": None if task.vocab is None else ("chars" if task.vocab.joiner == "" else "words"),
            # how typed tokens outside it are read (app.services.resolve.vocab_folding)
            "fold_case": task.vocab is not None and task.vocab.fold_case,
            "unknown": None if task.vocab is None else task.vocab.unknown,
            "output_labels": None if task.output_labels is None else list(task.output_labels),
            "model": job.model,
        }
        if not isinstance(config, NetworkConfig):  # an encoder-decoder writes the target vocabulary's tokens
            meta["target_vocab"] = list(task.target_vocab.tokens)
            meta["target_joiner"] = task.target_vocab.joiner
        return self.store.put(config, job.trainer.params, meta)
