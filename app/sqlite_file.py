"""A SQLite file shared by threads and worker processes, as the model store and the job store use it.

Each operation opens its own connection (cheap for SQLite), committed on success and always closed, so no
connection crosses a thread or process. WAL lets readers run while a writer commits; the busy timeout makes
concurrent writers wait instead of failing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path


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
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            for statement in self.schema:
                db.execute(statement)
            for table, column, definition in self.added_columns:
                _add_column(db, table, column, definition)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One connection per operation, committed on success and always closed."""
        with closing(sqlite3.connect(self.path, timeout=self.busy_timeout_s)) as db, db:
            db.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_s * 1000)}")
            yield db


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
