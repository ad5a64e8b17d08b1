"""Two replicas sharing one store behind nginx, started once for the module that asks for them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from cluster import Replica, nginx, replica_env  # noqa: E402


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[tuple[str, list[Replica]]]:
    """(the proxy's URL, [replica a, replica b]); the replicas share the SQLite file of one data directory."""
    data = tmp_path_factory.mktemp("shared")
    env = replica_env(data, UNROLLED_RATE_LIMIT="0")
    replicas = [Replica(env).start(), Replica(env).start()]
    try:
        with nginx([r.port for r in replicas], tmp_path_factory.mktemp("nginx")) as proxy:
            yield proxy, replicas
    finally:
        for replica in replicas:
            replica.stop()
