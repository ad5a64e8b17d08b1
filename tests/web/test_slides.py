"""Pictures as slides: the standalone SVG (the picture at the URL's step, legends, caption) and its PNG."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path_factory.mktemp("d"), rate_limit_per_minute=0)))


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_unrolled_slide_is_a_standalone_svg_with_its_values_legends_and_caption(client):
    r = client.get("/export/unrolled.svg?preset=&cell=gru&hidden=4&input=abc&t=1")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert 'filename="unrolled-unrolled-t1.svg"' in r.headers["content-disposition"]
    root = ET.fromstring(r.content)
    assert root.tag == f"{SVG}svg" and float(root.get("width")) > 0
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert texts[0] == "Unrolled network" and "GRU, 1 layer, hidden size 4, random weights, seed 0" in texts[1]
    assert "input “abc” · step 1, x_t = “b”" in texts[2]
    titles = [t.text or "" for t in root.iter(f"{SVG}title")]
    # Every value is in the picture: each state grid's title lists its units (there is no table beside it).
    grid_titles = [t for t in titles if t.startswith("h at t=1: 4 units")]
    assert len(grid_titles) == 1 and grid_titles[0].count("h[") == 4 and "; h[3] = " in grid_titles[0]
    assert root.find(f".//{SVG}desc") is not None
    assert "hidden state h" in texts and root.find(f"{SVG}style") is not None
    current = [g for g in root.iter(f"{SVG}g") if "is-current" in (g.get("class") or "")]
    assert [g.get("data-t") for g in current] == ["1"]


def test_the_cell_slide_names_its_sub_step_and_marks_it(client):
    r = client.get("/export/cell.svg?preset=&cell=lstm&hidden=3&input=ab&t=1&s=2&unit=1")
    root = ET.fromstring(r.content)
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "sub-step 2: input · unit 1, layer 1" in texts[2]
    now = [g for g in root.iter(f"{SVG}g") if "sub-now" in (g.get("class") or "")]
    assert [g.get("data-s") for g in now] == ["2"]
    assert {"Gates and probabilities", "tanh outputs, hidden state"} <= set(texts)


def test_the_png_is_the_svg_drawn_at_twice_its_size(client):
    query = "preset=&cell=rnn&hidden=3&input=hey&t=2"
    svg = ET.fromstring(client.get(f"/export/unrolled.svg?{query}").content)
    r = client.get(f"/export/unrolled.png?{query}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    w, h = png_size(r.content)
    assert (w, h) == (round(2 * float(svg.get("width"))), round(2 * float(svg.get("height"))))


def test_typed_markup_stays_text_and_bad_requests_say_why(client):
    r = client.get("/export/unrolled.svg?preset=&input=%3Cscript%3Ex%3C/script%3E")
    assert r.status_code == 200 and b"<script>" not in r.content
    ET.fromstring(r.content)  # still well-formed XML
    assert client.get("/export/heatmaps-x.svg").status_code == 404
    bad = client.get("/export/unrolled.png?hidden=999")
    assert bad.status_code == 422 and "Hidden size" in bad.text


def test_a_png_too_large_to_draw_is_refused_before_drawing(client, monkeypatch):
    from app.web import slides

    monkeypatch.setattr(slides, "MAX_PIXELS", 1000)
    r = client.get("/export/unrolled.png?preset=&hidden=3&input=ab")
    assert r.status_code == 413 and "download the SVG" in r.text
    assert client.get("/export/unrolled.svg?preset=&hidden=3&input=ab").status_code == 200
