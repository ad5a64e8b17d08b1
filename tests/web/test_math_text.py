"""The pictures' symbols are typeset with real subscripts (app.web.math_text), in the browser's SVG and HTML."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.web.math_text import html_subscripts, svg_subscripts


@pytest.mark.parametrize(
    ("symbol", "html"),
    [
        ("c_{t-1}", "c<sub>t−1</sub>"),
        ("h_t", "h<sub>t</sub>"),
        ("W_hn h + b_hn", "W<sub>hn</sub> h + b<sub>hn</sub>"),
        ("tanh(c_t)", "tanh(c<sub>t</sub>)"),
        ("h_{t-1}[3]", "h<sub>t−1</sub>[3]"),
        ("σ", "σ"),
        ("1−", "1−"),
        ("“_”", "“_”"),  # an underscore after no letter is not a subscript
        ("h_t after “new_york”", "h<sub>t</sub> after “new_york”"),  # quoted text (user input, words) stays
        ("<b>_t", "&lt;b&gt;_t"),  # escaped first: markup in a symbol stays text
        ("∏_{t=k+1}^{T} W_hhᵀ", "∏<sub>t=k+1</sub><sup>T</sup> W<sub>hh</sub>ᵀ"),
        ("‖∂y_T/∂x_t‖_F", "‖∂y<sub>T</sub>/∂x<sub>t</sub>‖<sub>F</sub>"),
        ("c̃_t", "c̃<sub>t</sub>"),
    ],
)
def test_subscripts_are_lowered_and_everything_else_is_escaped(symbol, html) -> None:
    assert str(html_subscripts(symbol)) == html
    svg = str(svg_subscripts(symbol))
    for tag, shift in (("sub", "sub"), ("sup", "super")):
        opening = f'<tspan class="{tag}" baseline-shift="{shift}" font-size="72%">'
        svg = re.sub(f"{opening}([^<]*)</tspan>", rf"<{tag}>\1</{tag}>", svg)
    assert svg == html


def test_the_cell_drawing_and_its_table_show_subscripts(tmp_path) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path, rate_limit_per_minute=0)))
    page = client.get("/cell?t=2").text
    assert 'c<tspan class="sub" baseline-shift="sub" font-size="72%">t−1</tspan>' in page
    assert '<th scope="row">h<sub>t−1</sub></th>' in page
    assert ">c_{t-1}<" not in page


def test_the_readout_markup_escapes_what_the_user_typed(tmp_path) -> None:
    """data-readout holds HTML the page inserts as markup: a typed "<i>" must arrive there as text."""
    client = TestClient(create_app(Settings(data_dir=tmp_path, rate_limit_per_minute=0)))
    page = client.get("/cell", params={"preset": "", "input": "<i>x"}).text
    readouts = [html.unescape(v) for v in re.findall(r'data-readout="([^"]*)"', page)]
    assert readouts and "input x<sub>t</sub>: “&lt;”" in readouts
    assert not any("<i>" in v for v in readouts)


def test_the_heatmaps_page_typesets_its_headings_and_keeps_its_ids_unique(tmp_path) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path, rate_limit_per_minute=0)))
    page = client.get("/heatmaps").text
    assert "Hidden state h<sub>t</sub>" in page and "Forget gate f<sub>t</sub>" in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_every_part_of_the_cell_drawing_has_a_typeset_readout(tmp_path, cell) -> None:
    """The readout under the drawing shows data-readout for whatever is pointed at: operations and wires."""
    client = TestClient(create_app(Settings(data_dir=tmp_path, rate_limit_per_minute=0)))
    page = client.get("/cell", params={"preset": "", "cell": cell, "t": 1}).text
    start = page.index('<svg class="celldiagram"')
    drawing = page[start : page.index("</svg>", start)]
    parts = re.findall(r"<g class=\"(?:op|wire)[^\"]*\" data-key=\"[^\"]+\"[^>]*>", drawing)
    assert parts and all("data-readout=" in p for p in parts)
    assert any("h&lt;sub&gt;t−1&lt;/sub&gt;" in p for p in parts if 'class="wire' in p)
