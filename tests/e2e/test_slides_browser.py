"""Slides in a real browser: each view's download links give an SVG (with the picture's <title>/<desc> and
every value's <title>) and a PNG that open, at the step the page shows; the unrolled view's animation opens as
an APNG with one frame per step; the pages stay clean under axe."""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET

import pytest

SVG = "{http://www.w3.org/2000/svg}"

pytestmark = pytest.mark.e2e


def download(page, link, tmp_path, name: str):
    with page.expect_download() as info:
        link.click()
    path = tmp_path / name
    info.value.save_as(path)
    return info.value.suggested_filename, path.read_bytes()


def check_svg_and_png(page, scope, tmp_path, stem: str) -> ET.Element:
    """Download the SVG and the PNG of ``scope``'s links; both open, the PNG at twice the SVG's size."""
    svg_name, svg_bytes = download(page, scope.locator(".downloads a", has_text="SVG"), tmp_path, "s.svg")
    assert svg_name == f"{stem}.svg"
    root = ET.fromstring(svg_bytes)
    assert root.tag == f"{SVG}svg" and root.find(f".//{SVG}title") is not None
    assert root.find(f".//{SVG}desc") is not None
    png_name, png = download(page, scope.locator(".downloads a", has_text="PNG"), tmp_path, "s.png")
    assert png_name == f"{stem}.png" and png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (round(2 * float(root.get("width"))), round(2 * float(root.get("height"))))
    return root


def test_the_gradients_page_downloads_its_chart_at_the_step_it_shows(server, page, tmp_path, axe):
    page.goto(server + "/gradients?preset=&hidden=3&input=abcde")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # sim.js keeps the links on the step
    root = check_svg_and_png(page, page, tmp_path, "unrolled-gradients-t2")
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "step 2, x_t = “c”" in texts[2] and {"RNN (tanh)", "LSTM", "GRU"} <= set(texts)
    titles = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert any(t.startswith("LSTM: ") and "t=2" in t for t in titles)  # each mark's value
    assert axe(page) == []
    assert page.errors_seen == []


def test_the_whatif_page_downloads_both_runs_with_the_change_named(server, page, tmp_path, axe):
    page.goto(server + "/whatif?preset=&cell=lstm&hidden=3&input=abcd&iv=f@1=0")
    root = check_svg_and_png(page, page, tmp_path, "unrolled-whatif-t0")
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "what if f_1 := 0" in texts[2] and "original (ghost)" in texts
    assert axe(page) == []


def test_the_compare_and_seq2seq_pages_download_their_pictures(server, page, tmp_path, axe):
    page.goto(server + "/compare?preset=&hidden=2&input=abc&t=1")
    check_svg_and_png(page, page, tmp_path, "unrolled-compare-t1")
    assert axe(page) == []
    page.goto(server + "/seq2seq?t=2")
    root = check_svg_and_png(page, page.locator("#overview"), tmp_path, "unrolled-seq2seq-t2")
    assert any(t.startswith("h_1[") for t in (x.text or "" for x in root.iter(f"{SVG}title")))
    assert axe(page) == []


def test_the_unrolled_page_downloads_the_played_sequence_as_an_apng(server, page, tmp_path):
    from PIL import Image

    page.goto(server + "/?preset=&cell=gru&hidden=3&input=abc")
    link = page.locator(".overview .downloads a", has_text="animated")
    name, data = download(page, link, tmp_path, "a.png")
    image = Image.open(io.BytesIO(data))
    assert name == "unrolled-unrolled-3-steps.png" and image.format == "PNG" and image.n_frames == 3
