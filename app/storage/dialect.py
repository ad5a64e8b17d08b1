"""The one place where SQLite's SQL and PostgreSQL's differ, as our stores use them.

The stores and the migrations write SQLite's spelling, with one PostgreSQL clause that :func:`sqlite` drops:

    SELECT ... FOR UPDATE SKIP LOCKED   →  SELECT ...    (a row lock; SQLite has one writer at a time, so the
                                                          statement that writes must check the row is still free)

and :func:`postgres` rewrites a statement for psycopg:

    ?                           →  %s                        (psycopg's placeholder; a literal % becomes %%)
    INSERT OR IGNORE INTO ...   →  INSERT INTO ... ON CONFLICT DO NOTHING
    LIMIT -1 OFFSET n           →  LIMIT ALL OFFSET n        (no upper bound)
    BLOB, REAL  (in DDL)        →  BYTEA, DOUBLE PRECISION   (SQLite's REAL is an 8-byte float; PG's is 4)

Adding a column that may be there already also differs (SQLite has no ADD COLUMN IF NOT EXISTS), so
:func:`add_column` does that for either engine. Statements are translated once and remembered.
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.storage.database import Connection

_INSERT_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_NO_LIMIT = re.compile(r"\bLIMIT\s+-1\b", re.IGNORECASE)
_DDL = re.compile(r"^\s*(CREATE|ALTER)\b", re.IGNORECASE)
_TYPES = {"BLOB": "BYTEA", "REAL": "DOUBLE PRECISION"}
_TYPE = re.compile(r"\b(" + "|".join(_TYPES) + r")\b")
_SKIP_LOCKED = re.compile(r"\s+FOR\s+UPDATE\s+SKIP\s+LOCKED\b", re.IGNORECASE)


@lru_cache(maxsize=512)
def sqlite(sql: str) -> str:
    """SQLite runs the stores' SQL as written, without PostgreSQL's row locks."""
    return _SKIP_LOCKED.sub("", sql)


@lru_cache(maxsize=512)
def postgres(sql: str) -> str:
    """``sql`` (SQLite's spelling, ``?`` placeholders) as PostgreSQL and psycopg want it."""
    out = sql.replace("%", "%%").replace("?", "%s")
    if _INSERT_OR_IGNORE.match(out):
        out = _INSERT_OR_IGNORE.sub("INSERT INTO", out, count=1).rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    out = _NO_LIMIT.sub("LIMIT ALL", out)
    if _DDL.match(out):
        out = _TYPE.sub(lambda m: _TYPES[m.group(1)], out)
    return out


def add_column(db: Connection, dialect: str, table: str, column: str, definition: str) -> None:
    """Give ``table`` the ``column`` (``definition`` as in CREATE TABLE) unless it has it already."""
    if dialect == "postgres":
        db.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {definition}")
        return
    if column in _sqlite_columns(db, table):
        return
    try:
        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    except sqlite3.OperationalError:  # added by another process between our look and our change
        if column not in _sqlite_columns(db, table):
            raise


def _sqlite_columns(db: Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
