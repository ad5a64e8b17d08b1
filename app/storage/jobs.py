"""Training jobs in the shared database: a queue that every worker process (or replica) adds to, takes from,
reports on and stops.

    training_jobs      one row per job: what was asked, its state, result id or error, a cancel flag, and the
                       worker that claimed it with its heartbeat
    training_progress  one row per progress record, numbered from 0 within its job

A job's life: ``enqueue`` inserts it 'queued' (or 'running' at once, claimed by the worker that took the
request when that worker has a free slot), ``claim`` hands the oldest queued job to a worker with a free slot,
which appends progress rows as the run goes (in batches), polls the cancel flag between batches and writes the
final state, 'done' or 'failed'. Every other worker only reads, except to raise the cancel flag (a job still
queued is then failed at once: it never ran).

The limit on jobs at once is global: ``enqueue`` counts the queued and running rows and inserts only under
the limit, inside ``Database.locked(JOBS_LOCK)`` (PostgreSQL: an advisory lock for the transaction; SQLite:
the file's write lock, BEGIN IMMEDIATE), so two workers cannot both take the last place. ``claim`` picks the
oldest queued row with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so claimers racing skip each other's row
instead of waiting for it; SQLite has a single writer, and there the UPDATE's ``state = 'queued'`` condition
decides which claimer got the row (the other changes nothing and looks again). Either way a job is claimed
once.

Each progress batch renews the job's ``heartbeat`` (a timestamp), so a job left 'running' by a worker that was
killed can be told from a live one: ``give_up_silent`` marks it failed (the policy: a run is not retried, since
its steps so far are shown to whoever follows it and a second attempt would rewrite them). Every method is one
transaction of the app.storage back-end, safe across threads and processes; the tables are made by
app.storage.migrations.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from app.storage.database import Connection, Database

#: The columns a job row is read back with, in this order.
JOB_COLUMNS = (
    "id", "task", "options", "settings", "model", "created", "state", "result_id", "error", "heartbeat", "worker",
    "started",
)
JSON_COLUMNS = ("options", "settings", "model")
#: States of a job that is not finished: these count towards the limit.
ACTIVE = ("queued", "running")
_ACTIVE_SQL = "(" + ", ".join(f"'{state}'" for state in ACTIVE) + ")"  # ACTIVE as a SQL list, for IN
#: The lock ``enqueue`` holds while it counts and inserts ("unroljob" in ASCII).
JOBS_LOCK = 0x756E726F6C6A6F62
_SELECT = f"SELECT {', '.join(JOB_COLUMNS)} FROM training_jobs WHERE id = ?"


def _json(value: Any) -> str:
    """JSON text as the API writes it: NumPy scalars as numbers, NaN and infinity as null."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _row(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    job = dict(zip(JOB_COLUMNS, row, strict=True))
    for name in JSON_COLUMNS:
        job[name] = orjson.loads(job[name])
    return job


class JobStore:
    """The ``training_jobs`` and ``training_progress`` tables of ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def enqueue(self, job: dict[str, Any], limit: int, worker: str | None, silent_s: float, lost: str) -> int:
        """Insert ``job`` (id, task, options, settings, model, created) unless ``limit`` jobs are queued or
        running already; the number there were (so it was inserted if that is under ``limit``). With a
        ``worker`` the job is inserted running, claimed by it; without, queued. Jobs whose worker has been
        silent for ``silent_s`` are failed first (with the error ``lost``): they hold no place any more."""
        now = time.time()
        with self.db.locked(JOBS_LOCK) as db:
            _give_up(db, silent_s, lost, None)
            active = int(
                db.execute(f"SELECT COUNT(*) FROM training_jobs WHERE state IN {_ACTIVE_SQL}").fetchone()[0]
            )
            if active >= limit:
                return active
            db.execute(
                "INSERT INTO training_jobs (id, task, options, settings, model, created, state, worker, heartbeat, "
                "started) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job["id"],
                    job["task"],
                    *(_json(job[name]) for name in JSON_COLUMNS),
                    job.get("created", now),
                    "queued" if worker is None else "running",
                    worker,
                    None if worker is None else now,
                    None if worker is None else now,
                ),
            )
        return active

    def claim(self, worker: str) -> dict[str, Any] | None:
        """The oldest queued job, now 'running' and ``worker``'s (its row as ``load`` reads it), or None if
        none is queued."""
        while True:
            with self.db.connect() as db:
                row = db.execute(
                    "SELECT id FROM training_jobs WHERE state = 'queued' ORDER BY created, id LIMIT 1 "
                    "FOR UPDATE SKIP LOCKED"
                ).fetchone()
                if row is None:
                    return None
                now = time.time()
                taken = db.execute(
                    "UPDATE training_jobs SET state = 'running', worker = ?, heartbeat = ?, started = ? "
                    "WHERE id = ? AND state = 'queued'",
                    (worker, now, now, row[0]),
                ).rowcount
                if taken:
                    return _row(db.execute(_SELECT, (row[0],)).fetchone())
            # SQLite only: another claimer changed the row between our read and our write; look again.

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

    def give_up_silent(self, silent_s: float, error: str, job_id: str | None = None) -> int:
        """Mark failed with ``error`` the running jobs (or the one ``job_id``) whose worker has not written
        for ``silent_s`` seconds (or never wrote a heartbeat); how many it changed. One statement, so two
        workers looking at once cannot both change a job, and a worker that wrote meanwhile keeps its job."""
        with self.db.connect() as db:
            return _give_up(db, silent_s, error, job_id)

    def finish(self, job_id: str, state: str, result_id: str | None, error: str | None) -> None:
        with self.db.connect() as db:
            db.execute(
                "UPDATE training_jobs SET state = ?, result_id = ?, error = ? WHERE id = ?",
                (state, result_id, error, job_id),
            )

    def request_cancel(self, job_id: str, unstarted: str) -> bool:
        """Raise the job's cancel flag, and fail it with the error ``unstarted`` if it is still queued (no
        worker will claim it then); False if there is no such job. One statement: a claim that comes first
        leaves the flag for the worker, which stops the run at its next batch."""
        with self.db.connect() as db:
            return (
                db.execute(
                    "UPDATE training_jobs SET cancel = 1, "
                    "error = CASE WHEN state = 'queued' THEN ? ELSE error END, "
                    "state = CASE WHEN state = 'queued' THEN 'failed' ELSE state END WHERE id = ?",
                    (unstarted, job_id),
                ).rowcount
                > 0
            )

    def load(self, job_id: str) -> dict[str, Any] | None:
        """The job's row (JOB_COLUMNS, JSON decoded), or None."""
        with self.db.connect() as db:
            return _row(db.execute(_SELECT, (job_id,)).fetchone())

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
                    f"SELECT id FROM training_jobs WHERE state NOT IN {_ACTIVE_SQL} "
                    "ORDER BY created DESC LIMIT -1 OFFSET ?",
                    (keep,),
                )
            ]
            db.executemany("DELETE FROM training_progress WHERE job_id = ?", [(i,) for i in old])
            db.executemany("DELETE FROM training_jobs WHERE id = ?", [(i,) for i in old])


def _give_up(db: Connection, silent_s: float, error: str, job_id: str | None) -> int:
    sql = (
        "UPDATE training_jobs SET state = 'failed', error = ? WHERE state = 'running' "
        "AND (heartbeat IS NULL OR heartbeat < ?)"
    )
    params: tuple[Any, ...] = (error, time.time() - silent_s)
    if job_id is not None:
        sql, params = sql + " AND id = ?", (*params, job_id)
    return int(db.execute(sql, params).rowcount)
