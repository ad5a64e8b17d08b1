"""Training jobs: a queue in the shared store, worked by every worker process of every replica.

    start(task, options, settings) -> Job   validated (404/422), then a row in the store: refused with 429
                                            when ``max_jobs`` jobs are queued or running over ALL workers
    the job runs                            in a thread of the worker that took the request if it has a free
                                            slot (``threads`` per process), else it waits 'queued' until the
                                            claimer (app.services.job_queue) of any worker with a free slot
                                            claims it, oldest first, and runs it
    job.progress                            every Progress as a dict, appended as the run goes
    cancel(id)                              Trainer.stop(): the run ends after its current step (a queued
                                            job is failed at once: it never ran)
    finished run -> its weights go into the model store (networks and encoder-decoders alike);
                    ``result_id`` is their content id

A job's row holds all that is needed to rebuild it (task and options, TrainSettings.to_dict(), the model's
changes), so any worker can run it. The running worker writes its progress there at least every
FLUSH_SECONDS and polls a cancel flag at the same moments, so status, events and cancel work from any worker
process (no sticky sessions). The worker that runs a job answers from memory; the others read the store.

Dead-worker policy: a running job whose worker has written nothing for LOST_AFTER_SECONDS (it was killed or
restarted mid-run) is failed, not retried: its steps so far were streamed to whoever followed it, and a
second attempt from step 0 would contradict them. Whoever reads such a job fails it, and every claimer sweeps
for them every SWEEP_SECONDS, so none holds a place under the limit for ever. A worker shutting down
(``close``) stops its runs as a cancel would: they end 'done', their partial weights kept. At most
``max_kept`` finished jobs are remembered; the oldest are forgotten first.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any

from app.errors import ApiError, NotFoundError, UnprocessableError
from app.services.job_queue import Claimer
from app.services.limits import Limits
from app.services.training_model import model_config
from app.services.training_run import Job, run_job
from app.storage.jobs import ACTIVE, JobStore
from app.storage.models import ModelStore

#: A job whose worker has written nothing (progress or heartbeat) for this long is taken to have lost its
#: worker (killed, crashed, restarted) and is reported failed. Far above FLUSH_SECONDS: one training step of
#: the largest model the limits allow takes well under a second.
LOST_AFTER_SECONDS = 30.0
LOST_WORKER = (
    f"the worker process running this job stopped before it finished (nothing written for {LOST_AFTER_SECONDS:.0f} s)"
)
CANCELLED_QUEUED = "cancelled while queued, before any worker started it"
#: How often an idle worker looks for queued jobs, and sweeps for jobs whose worker died.
POLL_SECONDS = 0.5
SWEEP_SECONDS = 5.0
_open: set[JobManager] = set()  # managers whose claimer runs, until closed


class BusyError(ApiError):
    """Every training place is taken: 429 with Retry-After, like the rate limit (a 5xx would say the server
    failed; it did not, the client should come back later)."""

    status = 429
    kind = "busy"
    headers = {"retry-after": "5"}


class JobManager:
    def __init__(
        self,
        store: ModelStore,
        limits: Limits,
        max_jobs: int = 2,
        threads: int = 2,
        max_kept: int = 100,
        poll_s: float = POLL_SECONDS,
    ) -> None:
        self.store = store
        self.limits = limits
        self.max_jobs = max_jobs  # queued or running at once, over every worker of every replica
        self.threads = threads  # runs at once in this process
        self.max_kept = max_kept
        self.jobs: OrderedDict[str, Job] = OrderedDict()  # the jobs this process runs or ran
        self.runs: dict[str, threading.Thread] = {}  # the threads of the runs in progress here
        self.busy = 0  # slots taken: runs in progress, or being claimed
        self.lock = threading.Lock()
        self.shared = JobStore(store.db)
        self.tag = uuid.uuid4().hex[:8]
        self.claimer = Claimer(self._fill, self._sweep, poll_s, SWEEP_SECONDS, f"claimer-{self.tag}")

    @property
    def worker(self) -> str:
        """What the store records as the claiming worker: host, process id, this manager."""
        return f"{socket.gethostname()}:{os.getpid()}:{self.tag}"

    def open(self) -> None:
        """Start claiming queued jobs (at app startup, or at the first job started here)."""
        _open.add(self)
        self.claimer.start()

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop claiming, stop this process's runs after their current step, and wait for them to write
        their final state."""
        _open.discard(self)
        self.claimer.stop(timeout_s)
        with self.lock:
            running = [(self.jobs[job_id], thread) for job_id, thread in self.runs.items()]
        for job, _ in running:
            job.trainer.stop()
        deadline = time.monotonic() + timeout_s
        for _, thread in running:
            thread.join(max(0.0, deadline - time.monotonic()))

    def start(
        self,
        task_name: str,
        options: dict[str, Any],
        overrides: dict[str, Any],
        model: dict[str, Any] | None = None,
    ) -> Job:
        from core.tasks import TASKS, get_task
        from core.train import TrainSettings

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
        model_config(task, model, self.limits)  # 422 now for a model the limits refuse, not when it runs
        row: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "task": task_name,
            "options": options,
            "settings": settings.to_dict(),
            "model": model,
            "created": time.time(),
        }
        here = self._reserve()  # a free slot: this worker runs the job at once, no claim needed
        try:
            found = self.shared.enqueue(
                row, self.max_jobs, self.worker if here else None, LOST_AFTER_SECONDS, LOST_WORKER
            )
        except BaseException:
            if here:
                self._release()
            raise
        if found >= self.max_jobs:
            if here:
                self._release()
            raise BusyError(
                f"{found} training runs are queued or in progress on this server (the limit is "
                f"{self.max_jobs}); try again when one finishes"
            )
        self.open()  # this worker claims queued jobs from now on (unless its app's startup did already)
        if here:
            self._launch(row, task)
        self._forget_old()
        return self.get(row["id"])

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
        if row["state"] == "running" and silent and self.shared.give_up_silent(
            LOST_AFTER_SECONDS, LOST_WORKER, job_id
        ):
            row = {**row, "state": "failed", "error": LOST_WORKER}
        return row

    def cancel(self, job_id: str) -> Job:
        """Stop the job: at once if this process runs it, else at its worker's next flush; a job still queued
        is failed at once."""
        with self.lock:
            job = self.jobs.get(job_id)
        if job is not None:
            job.trainer.stop()
        if not self.shared.request_cancel(job_id, CANCELLED_QUEUED) and job is None:
            raise NotFoundError(f"no training job {job_id!r}")
        return self.get(job_id)

    def _forget_old(self) -> None:
        with self.lock:
            finished = [job_id for job_id, job in self.jobs.items() if job.state not in ACTIVE]
            while len(self.jobs) > self.max_kept and finished:
                self.jobs.pop(finished.pop(0))
        self.shared.forget_finished(self.max_kept)

    def _reserve(self) -> bool:
        """Take one of this process's slots if one is free."""
        with self.lock:
            if self.busy >= self.threads:
                return False
            self.busy += 1
            return True

    def _release(self, wake: bool = True) -> None:
        with self.lock:
            self.busy -= 1
        if wake:
            self.claimer.wake()  # a slot is free: a queued job may take it

    def _fill(self) -> None:
        """Claim queued jobs, oldest first, while a slot is free (the claimer's work)."""
        while self._reserve():
            try:
                row = self.shared.claim(self.worker)
            except BaseException:
                self._release()
                raise
            if row is None:
                self._release(wake=False)  # the queue is empty: waking the claimer would only look again
                return
            self._launch(row)

    def _sweep(self) -> None:
        self.shared.give_up_silent(LOST_AFTER_SECONDS, LOST_WORKER)

    def _launch(self, row: dict[str, Any], task: Any = None) -> None:
        """Run the job of ``row`` (claimed by this worker, a slot reserved for it) in a thread of its own;
        ``task`` is the row's task when the caller built it already (a job started here), else it is rebuilt."""
        from core.tasks import get_task
        from core.train import Trainer, TrainSettings

        try:
            task = task if task is not None else get_task(row["task"], **row["options"])
            trainer = Trainer(task, TrainSettings(**row["settings"]), model_config(task, row["model"], self.limits))
        except Exception as exc:  # a row this version cannot rebuild (written by another, say): not run
            self._release()
            self.shared.finish(row["id"], "failed", None, f"the job could not be set up: {type(exc).__name__}: {exc}")
            return
        job = Job(
            row["id"], row["task"], row["options"], row["settings"], trainer, created=row["created"], model=row["model"]
        )
        thread = threading.Thread(target=self._run, args=(job, task), name=f"train-{job.id[:8]}", daemon=True)
        with self.lock:
            self.jobs[job.id] = job
            self.runs[job.id] = thread
        thread.start()

    def _run(self, job: Job, task: Any) -> None:
        try:
            run_job(job, task, self.shared, self.store)
        finally:
            with self.lock:
                self.runs.pop(job.id, None)
            self._release()


def close_all() -> None:
    """Close every manager whose claimer runs (between tests that each built an app)."""
    for manager in list(_open):
        manager.close()
