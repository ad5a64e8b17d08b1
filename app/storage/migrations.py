"""The schema, as numbered migrations that every process runs on start, on either back-end.

``schema_migrations`` records each version applied. :func:`migrate` takes the back-end's migration lock
(SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock for the transaction), reads what is applied and
applies the rest in order, each recorded in the same transaction, so that N processes or replicas starting at
once apply each migration exactly once and none sees a half-built schema. Every step is idempotent as well
(CREATE ... IF NOT EXISTS, a column added only when missing), because a SQLite file written before this table
existed already holds some of them: on such a file the early migrations find their work done and are recorded.

Migrations are only ever appended: a released one is never edited, since databases out there have run it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.storage import dialect
from app.storage.database import Connection, Database


@dataclass(frozen=True)
class AddColumn:
    """A column added after the table was first released (``definition`` as in CREATE TABLE)."""

    table: str
    column: str
    definition: str


Step = str | AddColumn

#: (version, what it does, its steps). SQL in SQLite's spelling; app.storage.dialect translates it.
MIGRATIONS: tuple[tuple[int, str, tuple[Step, ...]], ...] = (
    (
        1,
        "models, training jobs, LTI records, the readiness probe",
        (
            "CREATE TABLE IF NOT EXISTS ready_probe (id INTEGER PRIMARY KEY)",
            """CREATE TABLE IF NOT EXISTS models (
                id TEXT PRIMARY KEY, config TEXT NOT NULL, meta TEXT NOT NULL, weights BLOB NOT NULL,
                created REAL NOT NULL)""",
            """CREATE TABLE IF NOT EXISTS training_jobs (
                id TEXT PRIMARY KEY, task TEXT NOT NULL, options TEXT NOT NULL, settings TEXT NOT NULL,
                model TEXT NOT NULL, created REAL NOT NULL, state TEXT NOT NULL, result_id TEXT, error TEXT,
                cancel INTEGER NOT NULL DEFAULT 0)""",
            """CREATE TABLE IF NOT EXISTS training_progress (
                job_id TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (job_id, seq))""",
            """CREATE TABLE IF NOT EXISTS lti_platforms (
                issuer TEXT NOT NULL, client_id TEXT NOT NULL, deployment_ids TEXT NOT NULL,
                auth_login_url TEXT NOT NULL, auth_token_url TEXT NOT NULL, jwks_url TEXT NOT NULL,
                name TEXT NOT NULL DEFAULT '', frame_origins TEXT NOT NULL DEFAULT '[]',
                PRIMARY KEY (issuer, client_id))""",
            """CREATE TABLE IF NOT EXISTS lti_logins (
                state TEXT PRIMARY KEY, nonce TEXT NOT NULL, issuer TEXT NOT NULL, client_id TEXT NOT NULL,
                created REAL NOT NULL)""",
            """CREATE TABLE IF NOT EXISTS lti_launches (
                launch_id TEXT PRIMARY KEY, claims TEXT NOT NULL, created REAL NOT NULL)""",
            """CREATE TABLE IF NOT EXISTS lti_keys (
                kid TEXT PRIMARY KEY, private_pem TEXT NOT NULL, created REAL NOT NULL, retired REAL)""",
            """CREATE TABLE IF NOT EXISTS lti_attempts (
                attempt_id TEXT PRIMARY KEY, launch_id TEXT NOT NULL, score REAL NOT NULL, maximum REAL NOT NULL,
                status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '')""",
        ),
    ),
    # Rows from before the column held networks (core.config.NetworkConfig) only.
    (2, "a model's kind: network or seq2seq", (AddColumn("models", "kind", "TEXT NOT NULL DEFAULT 'network'"),)),
    # Renewed by the worker running a job, so a job left 'running' by a killed worker can be told apart.
    (3, "a training job's heartbeat", (AddColumn("training_jobs", "heartbeat", "REAL"),)),
    # Jobs wait as 'queued' rows until a worker claims one (app.storage.jobs): which worker, and since when;
    # the index serves the claim (the oldest queued job) and the count of queued and running jobs.
    (
        4,
        "training jobs as a queue: the claiming worker, when it started",
        (
            AddColumn("training_jobs", "worker", "TEXT"),
            AddColumn("training_jobs", "started", "REAL"),
            "CREATE INDEX IF NOT EXISTS training_jobs_by_state ON training_jobs (state, created)",
        ),
    ),
)

LATEST = MIGRATIONS[-1][0]


def migrate(database: Database) -> list[int]:
    """Apply the migrations ``database`` has not had yet; the versions applied now (usually none)."""
    applied: list[int] = []
    with database.migration() as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied REAL NOT NULL)"
        )
        done = {int(row[0]) for row in db.execute("SELECT version FROM schema_migrations")}
        for version, name, steps in MIGRATIONS:
            if version in done:
                continue
            for step in steps:
                _apply(db, database.dialect, step)
            db.execute("INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)",
                       (version, name, time.time()))
            applied.append(version)
    return applied


def _apply(db: Connection, engine: str, step: Step) -> None:
    if isinstance(step, AddColumn):
        dialect.add_column(db, engine, step.table, step.column, step.definition)
    else:
        db.execute(step)
