"""One training job as this process runs it: the Trainer, its progress in memory, and the run's loop.

``run_job`` drives core.train.Trainer.run() in the calling thread, appends each Progress to ``job.progress``
and flushes the new records to the shared store at least every FLUSH_SECONDS (each flush also renews the
job's heartbeat and reads its cancel flag, so a cancel from any worker stops the run after its current step).
A finished run's weights go into the model store (networks and encoder-decoders alike) with what their views
need; ``result_id`` is their content id. Whatever happens, the job ends 'done' or 'failed', its progress
written before its final state (readers on other workers rely on that order).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from app.services.resolve import vocab_tokens
from app.storage.jobs import JobStore
from app.storage.models import ModelStore
from core.config import NetworkConfig

#: Longest wait before a running job's progress reaches the file and a cancel from another worker is seen.
FLUSH_SECONDS = 0.2


@dataclass
class Job:
    id: str
    task: str
    options: dict[str, Any]
    settings: dict[str, Any]
    trainer: Any
    created: float = field(default_factory=time.time)
    state: str = "running"  # then "done" or "failed" ("queued" only as read from the store)
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


def run_job(job: Job, task: Any, shared: JobStore, store: ModelStore) -> None:
    """Run ``job`` to its end in this thread, its progress flushed to ``shared``, its result kept in ``store``;
    it always ends in a final state, in memory and (unless the store fails) in ``shared``."""
    flushed, last_flush = 0, time.monotonic()

    def flush() -> None:
        nonlocal flushed, last_flush
        available = len(job.progress)
        if shared.append_progress(job.id, flushed, job.progress[flushed:available]):
            job.trainer.stop()  # another worker asked
        flushed, last_flush = available, time.monotonic()

    try:
        for progress in job.trainer.run():
            job.progress.append(progress.to_dict())
            if time.monotonic() - last_flush >= FLUSH_SECONDS:
                flush()
        flush()
        job.result_id = store_result(store, job, task)
        state = "done"
    except Exception as exc:  # the thread must always end in a final state the client can see
        job.error = f"{type(exc).__name__}: {exc}"
        state = "failed"
    try:
        if state == "failed":
            flush()  # what progress there was, before the final state (readers rely on that order)
        shared.finish(job.id, state, job.result_id, job.error)
    except Exception as exc:  # the file is unwritable: this worker still reports the outcome itself
        job.error = job.error or f"{type(exc).__name__}: {exc}"
        state = "failed"
    job.state = state


def store_result(store: ModelStore, job: Job, task: Any) -> str:
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
    return store.put(config, job.trainer.params, meta)
