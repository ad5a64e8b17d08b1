"""The interface every store is written against, whichever back-end holds the data.

A :class:`Database` hands out one transaction at a time through ``connect()``: the block's statements commit
together when it ends and roll back if it raises. SQL is written once with ``?`` placeholders; the back-end's
dialect (app.storage.dialect) rewrites what its engine spells differently. Errors split in two:

* the caller's own mistakes that the engine refuses (a duplicate key, a NOT NULL column left empty) are the
  driver's IntegrityError, raised unchanged: the store that made the statement knows what they mean;
* everything else (the file is gone or read-only, the server is down, no connection came within the wait) is
  a failure of the store itself: StoreUnavailableError, a 503 whose message names the store, logged once per
  process and kind of failure so that a broken store is one line in the log, not one a request.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from app.errors import StoreUnavailableError

log = logging.getLogger("unrolled.store")
_logged: set[str] = set()  # failures this process has logged already

#: The lock migrations hold (any fixed 64-bit number; this one spells "unroled" in ASCII).
MIGRATION_LOCK = 0x756E726F6C6564


class Cursor(Protocol):
    """What a statement gives back: rows as tuples, and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection:
    """One transaction of a back-end's driver, speaking ``?``-placeholder SQL (translated by ``translate``)."""

    def __init__(self, raw: Any, translate: Callable[[str], str]) -> None:
        self._raw = raw
        self._translate = translate

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        cursor: Cursor = self._raw.execute(self._translate(sql), tuple(params))
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(row) for row in rows]
        if batch:
            self._raw.cursor().executemany(self._translate(sql), batch)

    def rollback(self) -> None:
        """Undo what this transaction wrote so far (the probe of check_writable writes, then undoes)."""
        self._raw.rollback()


class Database(ABC):
    """A place the stores keep their tables. ``name`` is what error messages call it (a path, or a URL
    without its password); ``dialect`` names the SQL the engine speaks ("sqlite" or "postgres")."""

    name: str
    dialect: str

    @abstractmethod
    def connect(self) -> AbstractContextManager[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""

    @abstractmethod
    def locked(self, key: int) -> AbstractContextManager[Connection]:
        """One transaction holding the exclusive lock named ``key`` (a 64-bit number) from its first statement
        to its end, so that the same block run by several processes or replicas at once runs one after the
        other: what it reads cannot change before it writes. SQLite has one such lock per file (its write
        lock), so there every key is the same lock."""

    def migration(self) -> AbstractContextManager[Connection]:
        """One transaction holding the migration lock, so that processes or replicas starting at the same
        moment change the schema one after the other."""
        return self.locked(MIGRATION_LOCK)

    @abstractmethod
    def check_writable(self) -> None:
        """Raise StoreUnavailableError unless a write would succeed now (written, then rolled back)."""

    def close(self) -> None:
        """Let go of pooled connections (nothing to do for a back-end that connects per operation)."""
        return None

    def unavailable(self, exc: BaseException) -> StoreUnavailableError:
        """The 503 for a failure of this store, logged the first time this process sees it."""
        message = f"the store {self.name} cannot be used: {exc}".strip()
        if message not in _logged:
            _logged.add(message)
            log.error("%s", message)
        return StoreUnavailableError(message)
