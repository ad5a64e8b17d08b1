"""A SQLite file shared by threads and worker processes, as the model store and the job store use it.

Each operation opens its own connection (cheap for SQLite), committed on success and always closed, so no
connection crosses a thread or process. WAL lets readers run while a writer commits; the busy timeout makes
concurrent writers wait instead of failing.

A file that cannot be used (made read-only, deleted, damaged, locked past the timeout) raises
StoreUnavailableError naming the file, a 503, and is logged once per kind of failure; connections after the
first open the file in read-write mode without creating it, so a deleted store stays missing (and /ready says
so) instead of coming back empty.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from app.errors import StoreUnavailableError

log = logging.getLogger("unrolled.store")
_logged: set[str] = set()  # failures already logged by this process, so a broken store is one line, not one a request


class SQLiteFile:
    """Subclasses set ``schema``: the CREATE ... IF NOT EXISTS statements run when the file is opened, and
    ``added_columns``: (table, column, definition) of columns added after a file may have been created, which
    opening adds to such a file."""

    schema: tuple[str, ...] = ()
    added_columns: tuple[tuple[str, str, str], ...] = ()

    def __init__(self, path: str | Path, busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect(create=True) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS ready_probe (id INTEGER PRIMARY KEY)")
            for statement in self.schema:
                db.execute(statement)
            for table, column, definition in self.added_columns:
                _add_column(db, table, column, definition)

    def check_writable(self) -> None:
        """Raise StoreUnavailableError unless a write to the file would succeed (written, then rolled back)."""
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO ready_probe (id) VALUES (1)")
            db.rollback()

    @contextmanager
    def _connect(self, create: bool = False) -> Iterator[sqlite3.Connection]:
        """One connection per operation, committed on success and always closed; a failure of the file itself
        is a StoreUnavailableError (constraint violations stay what they are: they are the caller's to handle)."""
        target = self.path.resolve().as_uri() + ("" if create else "?mode=rw")
        try:
            with closing(sqlite3.connect(target, timeout=self.busy_timeout_s, uri=True)) as db, db:
                db.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_s * 1000)}")
                yield db
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            message = f"the store {self.path} cannot be used: {exc}"
            if message not in _logged:
                _logged.add(message)
                log.error("%s", message)
            raise StoreUnavailableError(message) from exc


def _add_column(db: sqlite3.Connection, table: str, column: str, definition: str) -> None:
    """Migrate a file from before ``column``: add it to ``table`` (``definition`` as in CREATE TABLE) unless
    it is there already, also when another process adds it at the same moment."""
    if column in _columns(db, table):
        return
    try:
        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    except sqlite3.OperationalError:  # another process added it between our look and our change
        if column not in _columns(db, table):
            raise


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
