"""A client of the real app (fresh SQLite file, rate limit off), for comparing the package with the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    settings = Settings(data_dir=tmp_path / "data", rate_limit_per_minute=0)
    return TestClient(create_app(settings), raise_server_exceptions=False)
