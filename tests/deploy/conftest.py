"""Two replicas sharing one store behind nginx, started once per back-end for the module that asks for them:
the SQLite file of one data directory (replicas on one machine) and a PostgreSQL server (replicas anywhere)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "app"))  # postgres_server, the API tests' throwaway PostgreSQL

from cluster import Replica, nginx, replica_env  # noqa: E402
from postgres_server import PostgresServer, binaries  # noqa: E402


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[tuple[str, list[Replica]]]:
    """(the proxy's URL, [replica a, replica b]) on the store of ``request.param``."""
    server = None
    if request.param == "postgres":
        if binaries() is None:
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL is not installed (apt-get install -y postgresql); CI runs both back-ends")
            pytest.skip("PostgreSQL is not installed: apt-get install -y postgresql")
        server = PostgresServer().start()
    env = replica_env(tmp_path_factory.mktemp("shared"), server.url if server else None, UNROLLED_RATE_LIMIT="0")
    replicas: list[Replica] = []
    try:
        replicas = [Replica(env).start(), Replica(env).start()]
        with nginx([r.port for r in replicas], tmp_path_factory.mktemp("nginx")) as proxy:
            yield proxy, replicas
    finally:
        for replica in replicas:
            replica.stop()
        if server is not None:
            server.remove()
