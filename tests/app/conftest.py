"""Fixtures: the real app on a fresh store, rate limit off unless a test turns it on.

Every test that builds the app through ``settings`` runs on both store back-ends: ``[sqlite]`` on a fresh SQLite
file in tmp_path, ``[postgres]`` on a fresh schema of one PostgreSQL server started for the session
(tests/app/postgres_server.py) and stopped by PID at its end. ``UNROLLED_TEST_BACKENDS=sqlite`` (or
``postgres``) runs one only; without the postgresql package the ``[postgres]`` runs are skipped, except under CI
(``CI`` set), where that is an error. Tests about the SQLite file itself are marked ``sqlite_only``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from postgres_server import PostgresServer, binaries

from app.main import create_app
from app.settings import Settings

BACKENDS = tuple(
    name for name in os.environ.get("UNROLLED_TEST_BACKENDS", "sqlite,postgres").split(",") if name.strip()
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: a test of the SQLite file itself; not run on PostgreSQL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the [postgres] run of tests marked sqlite_only (they delete or freeze the SQLite file)."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("backend") == "postgres"
        (drop if on_postgres and item.get_closest_marker("sqlite_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (apt-get install -y postgresql); CI runs both back-ends")
        pytest.skip("PostgreSQL is not installed: apt-get install -y postgresql")
    server = PostgresServer().start()
    yield server
    server.remove()


def fresh_schema(server: PostgresServer) -> Iterator[str]:
    """A URL whose connections use a new, empty schema of ``server``; the schema is dropped afterwards."""
    import psycopg

    from app.storage.postgres import close_all

    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server.url, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    yield f"{server.url}&options={quote(f'-csearch_path={schema}')}"
    close_all()  # the apps the test built leave no connection (nor pool thread) behind
    with psycopg.connect(server.url, autocommit=True) as db:
        db.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """"" for SQLite (the file under data_dir), else a postgresql:// URL of a fresh schema."""
    if backend == "sqlite":
        yield ""
        return
    yield from fresh_schema(request.getfixturevalue("postgres_server"))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", rate_limit_per_minute=0, database_url=database_url)


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """A TestClient for an app built with ``settings`` changed by the keyword arguments. At the end the apps'
    training queues are closed (their claimers stopped, their runs stopped and joined) before the store goes."""
    from app.services.training import close_all

    def build(**changes: object) -> TestClient:
        return TestClient(create_app(replace(settings, **changes)), raise_server_exceptions=False)

    yield build
    close_all()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
