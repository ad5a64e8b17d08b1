"""Heavy requests go to the heavy-work processes (app.http.heavy_lane) and come back exactly as the worker would have
answered them; a full lane answers 503 with Retry-After, a job over its CPU time 422; light requests never
leave the worker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

HEAVY = {"model": {"cell": "lstm", "hidden_size": 96, "output_size": 4}, "input": {"text": "a cat sat. " * 20}}
LIGHT = {"model": {"cell": "gru", "hidden_size": 8}, "input": {"text": "hello"}}
THRESHOLD = 5_000_000  # HEAVY costs about 2e7 multiply-adds, LIGHT about 2e3


def lane_settings(base: Settings | Path, **changes: int) -> Settings:
    """``base`` (the conftest's settings, on either back-end; or a directory for a SQLite file) for these tests."""
    if isinstance(base, Path):
        base = Settings(data_dir=base, rate_limit_per_minute=0)
    return replace(base, cache_bytes=0, heavy_compute=THRESHOLD, **changes)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, TestClient]]:
    """The same app with the lane (one child) and without it."""
    tmp = tmp_path_factory.mktemp("heavy")
    without = create_app(lane_settings(tmp, heavy_processes=0))
    with TestClient(create_app(lane_settings(tmp))) as lane, TestClient(without) as here:
        yield lane, here


def completed(client: TestClient) -> int:
    return client.app.state.heavy.completed  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/trace", HEAVY),
        ("/api/v1/trace", {**HEAVY, "input": None, "inputs": [HEAVY["input"], {"text": "tail " * 30}]}),
        ("/api/v1/trace/step?t=7", HEAVY),
        ("/api/v1/trace/export?format=csv", HEAVY),
        ("/api/v1/trace/export?format=npz", {**HEAVY, "precision": 17}),
        ("/api/v1/trace/export?format=svg&t=7", HEAVY),
        ("/api/v1/gradients", {**HEAVY, "targets": [1] * 220, "include_jacobian": False}),
    ],
)
def test_a_heavy_request_is_computed_by_a_child_with_the_same_bytes(pair, path, body) -> None:
    lane, here = pair
    before = completed(lane)
    far, near = lane.post(path, json=body), here.post(path, json=body)
    assert far.status_code == near.status_code == 200, far.text
    assert far.content == near.content and far.headers["content-type"] == near.headers["content-type"]
    assert completed(lane) == before + 1 and completed(here) == 0


def test_a_light_request_stays_in_the_worker(pair) -> None:
    lane, _ = pair
    before = completed(lane)
    assert lane.post("/api/v1/trace", json=LIGHT).status_code == 200
    assert completed(lane) == before


def test_an_error_found_by_the_child_keeps_its_field(pair) -> None:
    lane, here = pair
    far, near = (c.post("/api/v1/trace/step?t=999", json=HEAVY) for c in (lane, here))
    assert far.status_code == near.status_code == 422
    assert far.json() == near.json() and far.json()["detail"][0]["loc"] == ["query", "t"]


def test_over_budget_is_refused_in_the_worker_before_any_child_is_asked(pair) -> None:
    lane, _ = pair
    before = completed(lane)
    huge = {**HEAVY, "model": {"cell": "lstm", "hidden_size": 512, "num_layers": 4}, "input": {"text": "x" * 900}}
    reply = lane.post("/api/v1/trace", json=huge)
    assert reply.status_code == 422 and "compute budget" in reply.text
    assert completed(lane) == before


def test_a_full_lane_answers_503_with_retry_after(settings: Settings) -> None:
    app = create_app(lane_settings(settings, heavy_queue=0))

    async def both() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = asyncio.create_task(client.post("/api/v1/trace", json=HEAVY))
            while app.state.heavy.in_flight == 0:
                await asyncio.sleep(0.001)
            second = await client.post("/api/v1/trace", json={**HEAVY, "weights": {"seed": 2}})
            light = await client.post("/api/v1/trace", json=LIGHT)  # light work is never turned away
            return [await first, second, light]

    try:
        first, second, light = asyncio.run(both())
    finally:
        app.state.heavy.close()
    assert first.status_code == 200 and light.status_code == 200
    assert second.status_code == 503 and second.headers["retry-after"] == "2"
    assert "UNROLLED_HEAVY_PROCESSES + UNROLLED_HEAVY_QUEUE = 1" in second.json()["detail"]


def test_a_job_over_its_cpu_time_is_stopped_and_the_child_goes_on(settings: Settings) -> None:
    with TestClient(create_app(lane_settings(settings, heavy_cpu_seconds=1))) as client:
        # About 2e6 numbers written as CSV after a 3e8 multiply-add run: several seconds of CPU.
        big = {"model": {"cell": "lstm", "hidden_size": 256}, "input": {"text": "abcdefghij" * 100}}
        stopped = client.post("/api/v1/trace/export?format=csv", json=big)
        assert stopped.status_code == 422, stopped.text[:300]
        assert "used its 1 s of CPU time" in stopped.json()["detail"][0]["msg"]
        assert client.post("/api/v1/trace", json=HEAVY).status_code == 200  # the same child, next job


def test_a_reply_of_many_numbers_is_heavy_whatever_its_compute(settings: Settings) -> None:
    """16,000 numbers from a run of under 1e6 multiply-adds: the writing, not the arithmetic, is the work."""
    long_light = {"model": {"cell": "gru", "hidden_size": 8}, "input": {"text": "abcde" * 100}}
    with TestClient(create_app(lane_settings(settings, heavy_numbers=10_000))) as client:
        assert client.post("/api/v1/trace", json=long_light).status_code == 200
        assert completed(client) == 1
        assert client.post("/api/v1/trace", json=LIGHT).status_code == 200
        assert completed(client) == 1


def test_a_slide_png_is_drawn_by_a_child_with_the_same_pixels(pair) -> None:
    """PNG drawing holds the GIL, so every slide PNG leaves the worker; the bytes are those drawn in the worker."""
    lane, here = pair
    before = completed(lane)
    url = "/export/unrolled.png?preset=&cell=lstm&hidden=6&input=hello&t=3"
    far, near = lane.get(url), here.get(url)
    assert far.status_code == near.status_code == 200 and far.headers["content-type"] == "image/png"
    assert far.content == near.content and far.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'filename="unrolled-unrolled-t3.png"' in far.headers["content-disposition"]
    assert completed(lane) == before + 1 and completed(here) == 0
    refused = lane.get("/export/unrolled.png?preset=&hidden=999")  # refused in the worker, before any drawing
    assert refused.status_code == 422 and completed(lane) == before + 1


def test_a_slide_png_gets_503_when_the_lane_is_full(settings: Settings) -> None:
    app = create_app(lane_settings(settings, heavy_queue=0))

    async def both() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = asyncio.create_task(client.post("/api/v1/trace", json=HEAVY))
            while app.state.heavy.in_flight == 0:
                await asyncio.sleep(0.001)
            png = await client.get("/export/unrolled.png?preset=&cell=gru&hidden=4&input=abc")
            svg = await client.get("/export/unrolled.svg?preset=&cell=gru&hidden=4&input=abc")
            return [await first, png, svg]

    try:
        first, png, svg = asyncio.run(both())
    finally:
        app.state.heavy.close()
    assert first.status_code == 200 and svg.status_code == 200  # the SVG is text: written in the worker
    assert png.status_code == 503 and png.headers["retry-after"] == "2"


def test_an_animation_draws_each_frame_in_a_child_with_the_same_pixels(pair) -> None:
    """One heavy-work job per frame: the same file as drawn in the worker."""
    lane, here = pair
    before = completed(lane)
    url = "/export/unrolled.apng?preset=&cell=gru&hidden=3&input=abc"
    far, near = lane.get(url), here.get(url)
    assert far.status_code == near.status_code == 200 and far.headers["content-type"] == "image/apng"
    assert far.content == near.content and completed(lane) == before + 3 and completed(here) == 0


def test_an_api_slide_png_is_drawn_by_a_child_with_the_same_pixels(pair) -> None:
    lane, here = pair
    before = completed(lane)
    url = "/api/v1/trace/export?format=png&t=2"
    far, near = lane.post(url, json=LIGHT), here.post(url, json=LIGHT)
    assert far.status_code == near.status_code == 200 and far.headers["content-type"] == "image/png"
    assert far.content == near.content and completed(lane) == before + 1 and completed(here) == 0
