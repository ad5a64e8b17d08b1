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
    """Subclasses set ``schema``: the CREATE ... IF NOT EXISTS statements run when the file is opened."""

    schema: tuple[str, ...] = ()

    def __init__(self, path: str | Path, busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            for statement in self.schema:
                db.execute(statement)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One connection per operation, committed on success and always closed."""
        with closing(sqlite3.connect(self.path, timeout=self.busy_timeout_s)) as db, db:
            db.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_s * 1000)}")
            yield db
