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


def test_the_heatmaps_slide_stacks_every_quantity_with_each_cells_value_and_a_legend_each(client):
    r = client.get("/export/heatmaps.svg?preset=&cell=lstm&hidden=3&input=ab&t=1")
    assert r.status_code == 200 and 'filename="unrolled-heatmaps-t1.svg"' in r.headers["content-disposition"]
    root = ET.fromstring(r.content)
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert texts[0] == "Every unit over time" and "step 1, x_t = “b”" in texts[2]
    titles = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert titles[0] == "Heatmaps of every unit over time" and root.find(f".//{SVG}desc") is not None
    # six quantities of an LSTM, each 3 units by 2 steps, every cell carrying its value
    assert sum(t.startswith("c[2] at t=1 (b): ") for t in titles) == 1
    assert sum(" at t=" in t for t in titles) == 6 * 3 * 2
    assert len(list(root.iter(f"{SVG}g"))) > 6 and len([g for g in root.iter(f"{SVG}g")
                                                        if g.get("class") == "slide-legend-strip"]) == 6


def test_the_heatmaps_png_opens_at_twice_the_slides_size(client):
    query = "preset=&cell=gru&hidden=4&input=hey&t=2"
    svg = ET.fromstring(client.get(f"/export/heatmaps.svg?{query}").content)
    r = client.get(f"/export/heatmaps.png?{query}")
    assert r.status_code == 200 and png_size(r.content) == (
        round(float(svg.get("width")) * 2), round(float(svg.get("height")) * 2))


def test_tiles_sit_side_by_side_and_wrap_past_the_row_width():
    from app.web.slides import TILE_GAP, TILE_ROW, TILE_TITLE, tile

    assert tile([]) == ((), 0.0, 0.0)
    spots, width, height = tile([(100.0, 50.0), (100.0, 80.0)])
    assert spots == ((0.0, 0.0), (100.0 + TILE_GAP, 0.0)) and width == 200.0 + TILE_GAP
    assert height == TILE_TITLE + 80.0
    spots, width, height = tile([(TILE_ROW, 10.0), (20.0, 30.0)])
    assert spots[1] == (0.0, TILE_TITLE + 10.0 + TILE_GAP) and width == TILE_ROW
    assert height == 2 * TILE_TITLE + 40.0 + TILE_GAP
