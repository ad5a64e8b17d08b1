"""Where the server keeps what outlives a request: stored models, training jobs and the LTI tool's records.

Each store (models.ModelStore, jobs.JobStore, app.lti.store.DatabaseLtiStore) is written once, in plain SQL with
``?`` placeholders, against the small :class:`~app.storage.database.Database` interface: ``connect()`` gives one
transaction (committed on success, rolled back on error), ``check_writable()`` answers /ready, and a failure of
the store itself is a StoreUnavailableError (503) naming it, logged once. Two back-ends implement it: sqlite.py,
one file shared by the threads and processes of one machine (the default, nothing to install), and postgres.py,
a PostgreSQL server shared by replicas, through a per-process psycopg connection pool; ``UNROLLED_DATABASE_URL``
picks the second. What differs between their SQL is translated in one place (dialect.py), and the tables are
built by numbered, idempotent migrations run on start (migrations.py), under a lock so replicas may start together.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.storage.database import Database

if TYPE_CHECKING:
    from app.settings import Settings

__all__ = ["Database", "open_database"]


def open_database(
    where: Settings | str | Path, *, wait_s: float = 5.0, pool_size: int = 4, migrate: bool = True
) -> Database:
    """The database ``where`` names, migrated to the current schema: a Settings (its ``database_url`` if set,
    else its SQLite file), a ``postgresql://`` URL, or the path of a SQLite file. ``migrate=False`` skips the
    migrations (for a child process of a server that ran them)."""
    from app.storage import migrations

    if not isinstance(where, (str, Path)):
        settings = where
        where = settings.database_url or settings.database
        wait_s, pool_size = settings.database_wait, settings.database_pool
    database: Database
    if isinstance(where, str) and where.startswith(("postgresql://", "postgres://")):
        from app.storage.postgres import PostgresDatabase  # imported only when used: psycopg loads libpq

        database = PostgresDatabase(where, wait_s=wait_s, pool_size=pool_size)
    else:
        from app.storage.sqlite import SQLiteDatabase

        database = SQLiteDatabase(Path(where))
    if migrate:
        migrations.migrate(database)
    return database
