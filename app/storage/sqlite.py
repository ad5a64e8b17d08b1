"""The embedded back-end: one SQLite file shared by the threads and worker processes of one machine.

Each operation opens its own connection (cheap for SQLite), committed on success and always closed, so no
connection crosses a thread or process. WAL lets readers run while a writer commits; the busy timeout makes
concurrent writers wait instead of failing. Migrations (and any ``locked`` block) run inside ``BEGIN IMMEDIATE``,
SQLite's write lock, so processes opening a new file at once build it one after the other.

A file that cannot be used (made read-only, deleted, damaged, locked past the timeout) raises
StoreUnavailableError naming the file, a 503. Only the first connection may create the file; later ones open
it read-write without creating it, so a deleted store stays missing (and /ready says so) instead of coming
back empty. Not for a network filesystem: SQLite's locks are not reliable there (use PostgreSQL).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from app.storage import dialect
from app.storage.database import Connection, Database


class SQLiteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: str | Path, busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        self.busy_timeout_s = busy_timeout_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._use_wal()

    def _use_wal(self) -> None:
        """Switch the file to WAL (kept in the file: every later connection uses it too). The switch needs the
        file to itself and SQLite does not wait for that with the busy timeout: when processes open a new file
        at once, one may get "database is locked" here while another switches or migrates. So try again until
        the timeout, and stop as soon as the file is in WAL mode, whoever put it there."""
        deadline, uri = time.monotonic() + self.busy_timeout_s, self.path.resolve().as_uri()
        while True:
            try:
                with closing(sqlite3.connect(uri, timeout=self.busy_timeout_s, uri=True)) as db:
                    if db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                        return
                    db.execute("PRAGMA journal_mode=WAL")
                    return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise self.unavailable(exc) from exc
                time.sleep(0.02)
            except sqlite3.Error as exc:
                raise self.unavailable(exc) from exc

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._open() as db, db:  # the inner ``db`` commits on success and rolls back on error
            yield Connection(db, dialect.sqlite)

    @contextmanager
    def locked(self, key: int) -> Iterator[Connection]:
        """BEGIN IMMEDIATE takes the file's write lock before the first read (every ``key`` is that lock)."""
        with self._open() as db:
            db.isolation_level = None  # we say where the transaction begins: before the first read
            db.execute("BEGIN IMMEDIATE")
            try:
                yield Connection(db, dialect.sqlite)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def check_writable(self) -> None:
        with self.connect() as db:
            db.execute("INSERT OR REPLACE INTO ready_probe (id) VALUES (1)")
            db.rollback()

    @contextmanager
    def _open(self, create: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection to the file, always closed; failures of the file are StoreUnavailableError."""
        target = self.path.resolve().as_uri() + ("" if create else "?mode=rw")
        try:
            with closing(sqlite3.connect(target, timeout=self.busy_timeout_s, uri=True)) as db:
                db.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_s * 1000)}")
                yield db
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise self.unavailable(exc) from exc
