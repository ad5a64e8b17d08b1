"""The played sequence as an animated PNG: one frame per step of the unrolled view, bounded before drawing."""

from __future__ import annotations

import html
import io
import re
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.main import create_app
from app.settings import Settings

QUERY = "preset=&cell=gru&hidden=3&input=abcd"


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path_factory.mktemp("d"), rate_limit_per_minute=0)))


def test_one_frame_per_step_each_the_slide_of_that_step(client):
    r = client.get(f"/export/unrolled.apng?{QUERY}&t=2")
    assert r.status_code == 200 and r.headers["content-type"] == "image/apng"
    assert 'filename="unrolled-unrolled-4-steps.png"' in r.headers["content-disposition"]
    image = Image.open(io.BytesIO(r.content))
    assert image.format == "PNG" and image.n_frames == 4 and image.info["loop"] == 0
    svg = ET.fromstring(client.get(f"/export/unrolled.svg?{QUERY}").content)
    assert image.size == (round(float(svg.get("width"))), round(float(svg.get("height"))))
    # every frame differs from the one before (the highlighted step moves) and shows for FRAME_MS
    from app.web.animation import FRAME_MS

    frames = []
    for k in range(image.n_frames):
        image.seek(k)
        assert image.info["duration"] == FRAME_MS
        frames.append(image.convert("RGB").tobytes())
    assert all(a != b for a, b in zip(frames, frames[1:], strict=False))


def test_the_first_frame_is_step_0s_picture(client):
    from app.web import animation, slides

    first = Image.open(io.BytesIO(client.get(f"/export/unrolled.apng?{QUERY}").content)).convert("RGB")
    step0 = slides.png(client.get(f"/export/unrolled.svg?{QUERY}&t=0").text, animation.ANIMATION_ZOOM)
    assert first.tobytes() == Image.open(io.BytesIO(step0)).convert("RGB").tobytes()


def test_a_sequence_over_the_pixel_budget_is_a_413_before_any_frame_is_drawn(client, monkeypatch):
    from app.web import animation, slides

    monkeypatch.setattr(animation, "MAX_ANIMATION_PIXELS", 10_000)

    def never(svg: str, zoom: float = 1.0) -> bytes:
        raise AssertionError("drawn")

    monkeypatch.setattr(slides, "png", never)
    r = client.get(f"/export/unrolled.apng?{QUERY}")
    assert r.status_code == 413 and "too long to animate: 4 frames of" in r.text and "10,000" in r.text


def test_only_the_unrolled_view_animates_and_bad_input_says_why(client):
    assert client.get(f"/export/heatmaps.apng?{QUERY}").status_code == 404
    bad = client.get("/export/unrolled.apng?hidden=999")
    assert bad.status_code == 422 and "Hidden size" in bad.text


def test_the_unrolled_page_and_its_embed_link_the_animation(client):
    for path in ("/", "/embed"):
        page = client.get(f"{path}?{QUERY}")
        links = [html.unescape(u) for u in re.findall(r'href="(/export/unrolled\.apng[^"]*)"', page.text)]
        assert len(links) == 1 and "input=abcd" in links[0]
