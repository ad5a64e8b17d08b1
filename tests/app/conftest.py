"""Fixtures: the real app on a fresh SQLite file in tmp_path, rate limit off unless a test turns it on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", rate_limit_per_minute=0)


@pytest.fixture
def make_client(settings: Settings) -> Callable[..., TestClient]:
    """A TestClient for an app built with ``settings`` changed by the keyword arguments."""

    def build(**changes: object) -> TestClient:
        return TestClient(create_app(replace(settings, **changes)), raise_server_exceptions=False)

    return build


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
