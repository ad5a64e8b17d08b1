"""The shared back-end: a PostgreSQL server, for several replicas (or machines) serving one course.

Connections come from a psycopg_pool pool of at most ``pool_size`` per process, opened on first use, never
at import or construction: a process forked after the parent made its pool must not share the parent's
sockets, so the pool belongs to the process id that opened it, and a child opens its own (the parent's is
left alone, not closed: closing it from the child would end the parent's sessions). Each checked-out
connection is tested first (``check_connection``), so one the server dropped is replaced, not used.

A request that gets no connection within ``wait_s`` (the server is down or unreachable, every connection is
busy) fails as StoreUnavailableError naming the server, as does any driver error except IntegrityError. Such
a timeout also retires the pool (at most once per ``wait_s``) if it has failed to connect: psycopg_pool
retries a lost server with a doubling back-off, so after an outage of a minute a pool could wait another
minute before it tried again, while a fresh pool connects at once, and a server that is back serves the next
request. A pool that timed out only because every connection was busy is kept.
Migrations (and any ``locked`` block) hold ``pg_advisory_xact_lock`` for their transaction, so replicas starting
at once take turns.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from app.storage import dialect
from app.storage.database import Connection, Database

_inherited: list[ConnectionPool[Any]] = []  # pools a forked child found in its parent: kept, never used
# Databases whose pool is open, held until closed: a pool dropped unclosed would be collected in one of its own
# threads, which cannot join itself.
_opened: set[PostgresDatabase] = set()


def display_name(url: str) -> str:
    """The URL without password or query, as messages may show it: postgresql://user@host:port/db."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


class PostgresDatabase(Database):
    dialect = "postgres"

    def __init__(self, url: str, *, wait_s: float = 5.0, pool_size: int = 4) -> None:
        self.url = url
        self.name = display_name(url)
        self.wait_s = wait_s
        self.pool_size = pool_size
        self._lock = threading.Lock()
        self._pool: ConnectionPool[Any] | None = None
        self._pid = 0
        self._opened_at = 0.0  # time.monotonic() when this process's pool was opened

    def pool(self) -> ConnectionPool[Any]:
        """This process's pool, opened the first time it is needed."""
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                if self._pool is not None:
                    _inherited.append(self._pool)
                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=max(1, self.pool_size),
                    timeout=self.wait_s,
                    check=ConnectionPool.check_connection,
                    name=f"unrolled {self.name}",
                    open=True,
                )
                self._pid = os.getpid()
                self._opened_at = time.monotonic()
                _opened.add(self)
            return self._pool

    def _retire(self, pool: ConnectionPool[Any]) -> None:
        """Drop ``pool`` after it timed out, if it has failed to connect (so it may be in its back-off), unless
        it is no longer ours or was opened within ``wait_s`` (then it has had no time to connect yet, and a new
        one would only add threads during an outage). A pool that never failed to connect timed out because
        every connection was busy: the server is fine, and closing the pool would only fail its waiting clients."""
        never_failed = pool.get_stats().get("connections_errors", 0) == 0
        with self._lock:
            if never_failed or self._pool is not pool or time.monotonic() - self._opened_at < self.wait_s:
                return
            self._pool = None
        # Connections still checked out return to the closed pool and are closed there; waiting clients fail.
        threading.Thread(target=pool.close, kwargs={"timeout": 0}, daemon=True).start()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        pool = self.pool()
        try:
            with pool.connection() as raw:  # commits when the block ends, rolls back if it raises
                yield Connection(raw, dialect.postgres)
        except psycopg.IntegrityError:
            raise
        except PoolTimeout as exc:
            self._retire(pool)
            raise self.unavailable(exc) from exc
        except psycopg.Error as exc:  # PoolClosed too (a retired pool), an OperationalError
            raise self.unavailable(exc) from exc

    @contextmanager
    def locked(self, key: int) -> Iterator[Connection]:
        with self.connect() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (key,))  # released at commit or rollback
            yield db

    def check_writable(self) -> None:
        """A write the server accepts (not a read-only standby, not default_transaction_read_only), undone."""
        with self.connect() as db:
            db.execute("INSERT OR IGNORE INTO ready_probe (id) VALUES (1)")
            db.rollback()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.close()
            self._pool = None
            _opened.discard(self)


def close_all() -> None:
    """Close every pool this process opened (at exit, or between tests that each built a server)."""
    for database in list(_opened):
        database.close()
