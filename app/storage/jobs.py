"""Training jobs in the shared database, so any worker process (or replica) can report on and stop any job.

    training_jobs      one row per job: what was asked, its state, result id or error, and a cancel flag
    training_progress  one row per progress record, numbered from 0 within its job

The worker running a job inserts its row, appends progress rows as the run goes (in batches), polls the
cancel flag between batches and writes the final state; every other worker only reads, except to raise the
cancel flag. Each batch also renews the job's ``heartbeat`` (a timestamp), so a job left 'running' by a
worker that was killed can be told from a live one: ``give_up_if_silent`` marks it failed. Like
app.storage.models, every method is one transaction of the app.storage back-end, safe across threads and
processes; the tables are made by app.storage.migrations.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from app.storage.database import Database

#: The columns a job row is read back with, in this order.
JOB_COLUMNS = ("id", "task", "options", "settings", "model", "created", "state", "result_id", "error", "heartbeat")
JSON_COLUMNS = ("options", "settings", "model")


def _json(value: Any) -> str:
    """JSON text as the API writes it: NumPy scalars as numbers, NaN and infinity as null."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


class JobStore:
    """The ``training_jobs`` and ``training_progress`` tables of ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, job: dict[str, Any]) -> None:
        """Insert a running job (``job`` holds JOB_COLUMNS minus the outcome)."""
        created = job.get("created", time.time())
        with self.db.connect() as db:
            db.execute(
                "INSERT INTO training_jobs (id, task, options, settings, model, created, state, heartbeat) "
                "VALUES (?, ?, ?, ?, ?, ?, 'running', ?)",
                (job["id"], job["task"], *(_json(job[name]) for name in JSON_COLUMNS), created, time.time()),
            )

    def append_progress(self, job_id: str, first_seq: int, records: list[dict[str, Any]]) -> bool:
        """Add ``records`` numbered from ``first_seq`` and renew the job's heartbeat; True if someone asked
        for the job to stop."""
        with self.db.connect() as db:
            if records:
                db.executemany(
                    "INSERT INTO training_progress (job_id, seq, record) VALUES (?, ?, ?)",
                    [(job_id, first_seq + k, _json(r)) for k, r in enumerate(records)],
                )
            db.execute("UPDATE training_jobs SET heartbeat = ? WHERE id = ?", (time.time(), job_id))
            row = db.execute("SELECT cancel FROM training_jobs WHERE id = ?", (job_id,)).fetchone()
        return bool(row and row[0])

    def give_up_if_silent(self, job_id: str, silent_s: float, error: str) -> bool:
        """Mark the job failed with ``error`` if it is still 'running' but its worker has not written for
        ``silent_s`` seconds (or never wrote a heartbeat); True if it did. One statement, so two workers
        looking at once cannot both change it, and a worker that wrote meanwhile keeps its job."""
        with self.db.connect() as db:
            changed = db.execute(
                "UPDATE training_jobs SET state = 'failed', error = ? WHERE id = ? AND state = 'running' "
                "AND (heartbeat IS NULL OR heartbeat < ?)",
                (error, job_id, time.time() - silent_s),
            ).rowcount
        return changed > 0

    def finish(self, job_id: str, state: str, result_id: str | None, error: str | None) -> None:
        with self.db.connect() as db:
            db.execute(
                "UPDATE training_jobs SET state = ?, result_id = ?, error = ? WHERE id = ?",
                (state, result_id, error, job_id),
            )

    def request_cancel(self, job_id: str) -> bool:
        """Raise the job's cancel flag; False if there is no such job."""
        with self.db.connect() as db:
            return db.execute("UPDATE training_jobs SET cancel = 1 WHERE id = ?", (job_id,)).rowcount > 0

    def load(self, job_id: str) -> dict[str, Any] | None:
        """The job's row (JOB_COLUMNS, JSON decoded), or None."""
        with self.db.connect() as db:
            row = db.execute(
                f"SELECT {', '.join(JOB_COLUMNS)} FROM training_jobs WHERE id = ?", (job_id,)
            ).fetchone()
        if row is None:
            return None
        job = dict(zip(JOB_COLUMNS, row, strict=True))
        for name in JSON_COLUMNS:
            job[name] = orjson.loads(job[name])
        return job

    def progress(self, job_id: str, after: int = 0) -> list[dict[str, Any]]:
        """The job's progress records from number ``after`` on, in order."""
        with self.db.connect() as db:
            rows = db.execute(
                "SELECT record FROM training_progress WHERE job_id = ? AND seq >= ? ORDER BY seq",
                (job_id, after),
            ).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    def forget_finished(self, keep: int) -> None:
        """Delete all but the ``keep`` newest finished jobs and their progress."""
        with self.db.connect() as db:
            old = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM training_jobs WHERE state != 'running' ORDER BY created DESC LIMIT -1 OFFSET ?",
                    (keep,),
                )
            ]
            db.executemany("DELETE FROM training_progress WHERE job_id = ?", [(i,) for i in old])
            db.executemany("DELETE FROM training_jobs WHERE id = ?", [(i,) for i in old])
