"""Each module's apps (built once per module) stop their training queues when the module is done: no claimer
thread outlives the tests that started it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="module")
def _training_queues_closed() -> Iterator[None]:
    yield
    from app.services.training import close_all

    close_all()
