"""The gradients, compare, what-if and Seq2Seq views as slides (SVG with values in titles, and PNG), and the
download links on their pages and in their embeds."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from test_slides import SVG, png_size

from app.main import create_app
from app.settings import Settings


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path_factory.mktemp("d"), rate_limit_per_minute=0)))


def svg_of(client: TestClient, url: str) -> tuple[ET.Element, list[str], list[str]]:
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml"), r.text
    assert "attachment" in r.headers["content-disposition"]
    root = ET.fromstring(r.content)
    return root, [t.text or "" for t in root.iter(f"{SVG}text")], [t.text or "" for t in root.iter(f"{SVG}title")]


def cursor_x(root: ET.Element) -> list[float]:
    return [float(line.get("x1")) for line in root.iter(f"{SVG}line") if line.get("class") == "slide-now"]


def test_the_gradients_slide_keys_its_three_lines_and_marks_the_step(client):
    root, texts, titles = svg_of(client, "/export/gradients.svg?preset=&hidden=3&input=abcd&t=2")
    assert texts[0] == "Gradients through time"
    assert texts[1] == "RNN, LSTM and GRU, 1 layer, hidden size 3, random weights, seed 0"
    assert "input “abcd” · step 2, x_t = “c”" in texts[2]
    assert {"RNN (tanh)", "LSTM", "GRU"} <= set(texts)  # the key under the chart
    # each of the three lines keeps its value at each of the four steps
    assert sum("at t=" in t and "e" in t for t in titles) == 3 * 4
    assert root.find(f".//{SVG}desc") is not None
    # the cursor stands on the marks of step 2
    marks = [float(c.get("cx")) for c in root.iter(f"{SVG}circle") if c.get("class") == "mark"]
    assert cursor_x(root) == [marks[2]]


def test_the_trained_gradients_slide_adds_the_influence_row_and_its_legend(client):
    root, texts, titles = svg_of(client, "/export/gradients.svg?evidence=adding&t=3")
    assert "trained" in texts[1] and "‖∂y_T/∂x_t‖, log scale" in texts
    assert any(t.startswith("LSTM: ||dy_T/dx_t|| at t=3") for t in titles)
    assert len(cursor_x(root)) == 2


def test_the_compare_slide_draws_three_unrolled_pictures_on_the_current_step(client):
    root, texts, titles = svg_of(client, "/export/compare.svg?preset=&hidden=2&input=abc&t=1")
    assert texts[0] == "RNN vs LSTM vs GRU on the same input" and {"RNN", "LSTM", "GRU"} <= set(texts)
    current = [g.get("data-t") for g in root.iter(f"{SVG}g") if "is-current" in (g.get("class") or "")]
    assert current == ["1", "1", "1"]
    strips = [g for g in root.iter(f"{SVG}g") if g.get("class") == "slide-legend-strip"]
    assert len(strips) == 2  # h shared by all three, and the LSTM's c
    assert sum(t.startswith("h at t=1: 2 units") for t in titles) == 3


def test_the_whatif_slide_names_the_change_and_keeps_both_runs(client):
    root, texts, titles = svg_of(client, "/export/whatif.svg?preset=&cell=lstm&hidden=3&input=abcd&t=1&iv=f@2=0")
    assert "what if f_2 := 0" in texts[2] and {"original (ghost)", "what-if"} <= set(texts)
    series = [g.get("class") for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("series")]
    assert "series ghost" in series and len(series) >= 4
    assert len(cursor_x(root)) == len(series) // 2 + 1  # every chart and the bars
    assert any(t.startswith("Largest change of any unit of h per step") for t in titles)


def test_a_bad_whatif_is_a_422_not_a_slide(client):
    r = client.get("/export/whatif.svg?preset=&cell=lstm&hidden=3&input=abcd&iv=f9@2=0")
    assert r.status_code == 422 and "unit" in r.text


def test_the_seq2seq_slide_fills_the_steps_so_far_and_outlines_the_rest(client):
    root, texts, titles = svg_of(client, "/export/seq2seq.svg?t=2")
    assert texts[0] == "Encoder-decoder (Seq2Seq)" and "encoder-decoder, hidden size" in texts[1]
    assert "encoder step 3 reads" in texts[2]
    cols = [g for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("s2x-col")]
    assert ["is-current" in (g.get("class") or "") for g in cols].count(True) == 1
    filled = [t for t in titles if t.startswith("h_1[")]
    assert filled and all(" = " in t for t in filled)
    assert "not yet computed" in titles and not any(t.startswith("s_1[") for t in titles)
    done = svg_of(client, f"/export/seq2seq.svg?t={len(cols) - 1}")[2]
    assert any(t.startswith("s_1[") for t in done)


@pytest.mark.parametrize("view", ["gradients", "compare", "whatif", "seq2seq"])
def test_each_png_is_its_svg_at_twice_the_size(client, view):
    query = "t=1" if view == "seq2seq" else "preset=&hidden=2&input=abc&t=1"
    root = svg_of(client, f"/export/{view}.svg?{query}")[0]
    r = client.get(f"/export/{view}.png?{query}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert png_size(r.content) == (round(2 * float(root.get("width"))), round(2 * float(root.get("height"))))


@pytest.mark.parametrize("path", ["/gradients", "/compare", "/whatif", "/seq2seq"])
@pytest.mark.parametrize("embed", [False, True])
def test_pages_and_their_embeds_link_downloads_that_work(client, path, embed):
    page = client.get(("/embed" if embed else "") + path + "?t=1")
    assert page.status_code == 200
    links = [html.unescape(u) for u in re.findall(r'href="(/export/[^"]+)"[^>]* download', page.text)]
    view = path.strip("/")
    assert [u.split("?")[0] for u in links][:2] == [f"/export/{view}.svg", f"/export/{view}.png"]
    if view == "seq2seq":  # and the cell of the current step, in the (closed) cell pane
        assert [u.split("?")[0] for u in links][2:] == ["/export/seq2seq-cell.svg", "/export/seq2seq-cell.png"]
    else:
        assert len(links) == 2
    for url in links:
        r = client.get(url)
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        assert "t=1" in url


def test_the_seq2seq_cell_slide_draws_the_decoder_cell_of_the_step(client):
    overview = svg_of(client, "/export/seq2seq.svg?t=0")[0]
    encoder_steps = sum(
        1 for g in overview.iter(f"{SVG}g") if (g.get("class") or "").startswith("s2x-col enc")
    )
    t = encoder_steps + 1  # the decoder's second step
    root, texts, titles = svg_of(client, f"/export/seq2seq-cell.svg?t={t}&unit=2&s=2")
    assert texts[0] == "Inside the encoder-decoder's cell" and "encoder-decoder" in texts[1]
    assert "decoder step 2 reads" in texts[2] and "sub-step 2" in texts[2] and "unit 2, in the decoder" in texts[2]
    now = [g for g in root.iter(f"{SVG}g") if "sub-now" in (g.get("class") or "")]
    assert [g.get("data-s") for g in now] == ["2"]
    r = client.get(f"/export/seq2seq-cell.png?t={t}&unit=2&s=2")
    assert r.status_code == 200 and png_size(r.content) == (
        round(2 * float(root.get("width"))), round(2 * float(root.get("height"))))
