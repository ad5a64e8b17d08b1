"""app.storage on both back-ends: the dialect's rewrites, migrations applied once however many processes or
threads start at the same moment, a file from before the migrations table recorded as migrated, and the
errors: IntegrityError passed through, failures of the store itself a 503 naming it."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from app.errors import StoreUnavailableError
from app.storage import dialect, open_database
from app.storage.database import Database
from app.storage.jobs import JobStore
from app.storage.migrations import LATEST, MIGRATIONS, migrate

VERSIONS = [version for version, _, _ in MIGRATIONS]


def test_the_postgres_dialect_rewrites_what_sqlite_spells_differently() -> None:
    assert dialect.postgres("SELECT a FROM t WHERE b = ? AND c LIKE '5%'") == (
        "SELECT a FROM t WHERE b = %s AND c LIKE '5%%'"
    )
    assert dialect.postgres("INSERT OR IGNORE INTO t (a, b) VALUES (?, ?)") == (
        "INSERT INTO t (a, b) VALUES (%s, %s) ON CONFLICT DO NOTHING"
    )
    assert dialect.postgres("SELECT id FROM t ORDER BY c DESC LIMIT -1 OFFSET ?") == (
        "SELECT id FROM t ORDER BY c DESC LIMIT ALL OFFSET %s"
    )
    assert dialect.postgres("CREATE TABLE t (w BLOB NOT NULL, x REAL, y INTEGER)") == (
        "CREATE TABLE t (w BYTEA NOT NULL, x DOUBLE PRECISION, y INTEGER)"
    )
    assert dialect.postgres("SELECT 'REAL BLOB' FROM t") == "SELECT 'REAL BLOB' FROM t"  # types only in DDL
    assert dialect.sqlite("INSERT OR IGNORE INTO t VALUES (?)") == "INSERT OR IGNORE INTO t VALUES (?)"


def target(backend: str, database_url: str, tmp_path: Path) -> str | Path:
    return database_url if backend == "postgres" else tmp_path / "store.sqlite3"


def applied(database: Database) -> list[int]:
    with database.connect() as db:
        return [int(r[0]) for r in db.execute("SELECT version FROM schema_migrations ORDER BY version")]


def test_migrations_are_applied_once_and_again_change_nothing(backend, database_url, tmp_path) -> None:
    database = open_database(target(backend, database_url, tmp_path))
    assert applied(database) == VERSIONS and VERSIONS[-1] == LATEST
    assert migrate(database) == []
    assert applied(database) == VERSIONS


def test_threads_migrating_at_once_apply_each_migration_once(backend, database_url, tmp_path) -> None:
    where = target(backend, database_url, tmp_path)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            open_database(where)
        except BaseException as exc:  # re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert applied(open_database(where, migrate=False)) == VERSIONS


def _migrate_in_child(where: str, start: Any) -> None:
    start.wait()  # a multiprocessing Barrier: every process begins its migration at the same moment
    open_database(where)


def test_processes_migrating_at_once_apply_each_migration_once(backend, database_url, tmp_path) -> None:
    """Replicas starting together: separate processes, each with its own connections, on one new database."""
    where = str(target(backend, database_url, tmp_path))
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(4)
    children = [context.Process(target=_migrate_in_child, args=(where, start)) for _ in range(4)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    assert [child.exitcode for child in children] == [0, 0, 0, 0]
    assert applied(open_database(where, migrate=False)) == VERSIONS


def test_a_file_from_before_the_migrations_table_is_recorded_as_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # as the release before app.storage left it: every table, no versions
        db.execute("CREATE TABLE models (id TEXT PRIMARY KEY, config TEXT NOT NULL, meta TEXT NOT NULL, "
                   "weights BLOB NOT NULL, created REAL NOT NULL, kind TEXT NOT NULL DEFAULT 'network')")
    db.close()
    assert applied(open_database(path)) == VERSIONS


def test_integrity_errors_pass_through_and_store_failures_name_the_store(backend, database_url, tmp_path) -> None:
    database = open_database(target(backend, database_url, tmp_path))
    jobs = JobStore(database)
    job = {"id": "j1", "task": "sine", "options": {}, "settings": {}, "model": {}}
    jobs.enqueue(job, 10, None, 30.0, "lost")
    with pytest.raises(Exception) as raised:
        jobs.enqueue(job, 10, None, 30.0, "lost")  # the same id again: the caller's mistake, not the store's failure
    assert "IntegrityError" in type(raised.value).__name__ or "UniqueViolation" in type(raised.value).__name__
    assert not isinstance(raised.value, StoreUnavailableError)
    with pytest.raises(StoreUnavailableError) as down, database.connect() as db:
        db.execute("SELECT * FROM no_such_table")
    assert database.name in down.value.message


def _session(database: Database) -> int:
    """Which server session a connection of ``database`` belongs to (PostgreSQL's backend PID; 0 for SQLite)."""
    if database.dialect != "postgres":
        return 0
    with database.connect() as db:
        return int(db.execute("SELECT pg_backend_pid()").fetchone()[0])


def _write_in_forked_child(database: Database) -> None:
    """In a child forked from a process whose pool is open: the same object must open a pool of its own."""
    with database.connect() as db:
        db.execute("INSERT INTO ready_probe (id) VALUES (?)", (_session(database) + 1,))


def test_a_forked_child_opens_its_own_pool_and_the_parent_keeps_its_connections(backend, database_url, tmp_path):
    database = open_database(target(backend, database_url, tmp_path))
    parent = _session(database)  # the parent's pool (PostgreSQL) is open and holds this session now
    child = multiprocessing.get_context("fork").Process(target=_write_in_forked_child, args=(database,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    with database.connect() as db:
        (written,) = db.execute("SELECT id FROM ready_probe").fetchone()
    if backend == "postgres":
        assert written - 1 != parent  # the child spoke through a session of its own, not the parent's socket
    for _ in range(3):  # and the parent's connections still work
        assert _session(database) == parent
        database.check_writable()
