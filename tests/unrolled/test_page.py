"""trace.show(): one standalone HTML file, with nothing fetched from elsewhere, that draws the unrolled network
and holds every number of every step."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pytest

import unrolled
from core.config import NetworkConfig
from core.params import init_params
from unrolled.page import number

CONFIG = NetworkConfig("lstm", input_size=2, hidden_size=3, num_layers=2, bidirectional=True, output_size=2,
                       output_activation="softmax")
X = np.random.default_rng(12).normal(size=(4, 2))


class References(HTMLParser):
    """Every attribute that could load something (src, href, xlink:href, srcset, data, action)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.found += [f"{tag}[{k}]={v}" for k, v in attrs if k in {"src", "href", "xlink:href", "srcset",
                                                                    "data", "action", "poster"}]


def page(tmp_path, **options) -> str:
    trace = unrolled.trace((CONFIG, init_params(CONFIG, 12)), X)
    path = trace.show(tmp_path / "trace.html", open_browser=False, **options)
    assert path == tmp_path / "trace.html"
    return path.read_text(encoding="utf-8")


def test_the_page_is_self_contained(tmp_path) -> None:
    html = page(tmp_path)
    parser = References()
    parser.feed(html)
    assert parser.found == []
    assert not re.search(r"https?:|//[a-z]|@import|url\((?!#)", html, re.IGNORECASE)  # url(#id): a marker in the page
    assert {"svg", "style", "script", "table"} <= set(parser.tags)


def test_the_page_shows_the_numbers_of_every_step(tmp_path) -> None:
    html = page(tmp_path, t=2)
    trace = unrolled.trace((CONFIG, init_params(CONFIG, 12)), X)
    for t in range(trace.num_steps):
        assert f'data-t="{t}"' in html
        for lt in (trace.layers[0][1], trace.layers[1][0]):
            for name in ("f", "c", "h", "i_pre"):
                for v in lt.quantities()[name][t, 0]:
                    assert f"<td>{number(v)}</td>" in html, (t, name)
        for v in trace.probs[t, 0]:
            assert f"<td>{number(v)}</td>" in html
    assert 'class="col is-current" data-t="2"' in html  # the picture opens on the step asked for
    assert "Unrolled LSTM over 4 steps" in html


def test_show_opens_the_file_in_a_browser_and_returns_its_path(monkeypatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    trace = unrolled.trace((CONFIG, init_params(CONFIG, 12)), X)
    path = unrolled.show(trace)
    try:
        assert opened == [path.resolve().as_uri()] and path.suffix == ".html"
        assert "<svg" in path.read_text(encoding="utf-8")
    finally:
        path.unlink()


def test_token_inputs_are_labelled_by_the_vocabulary(tmp_path) -> None:
    config = NetworkConfig("rnn", input_size=3, hidden_size=2, input_encoding="onehot", vocab_size=3,
                           output_size=3, output_activation="softmax")
    trace = unrolled.trace((config, init_params(config, 0)), np.array([0, 2, 1]), vocab=["a", " ", "z"])
    html = trace.show(tmp_path / "tokens.html", open_browser=False).read_text(encoding="utf-8")
    assert "input x_0: a" in html and "input x_1: z" in html and "input x_2: ␣" in html


def test_batches_pick_a_sequence_and_out_of_range_steps_are_refused(tmp_path) -> None:
    trace = unrolled.trace((CONFIG, init_params(CONFIG, 12)), np.zeros((3, 2, 2)), lengths=[3, 1])
    with pytest.raises(ValueError, match="pick one with b="):
        trace.show(open_browser=False)
    html = trace.show(tmp_path / "b1.html", b=1, open_browser=False).read_text(encoding="utf-8")
    assert "over 1 steps" in html
    with pytest.raises(ValueError, match="t=5 is outside"):
        trace.show(tmp_path / "x.html", t=5, b=0, open_browser=False)


def test_a_trace_too_large_to_draw_points_at_the_exports(tmp_path) -> None:
    config = NetworkConfig("lstm", input_size=1, hidden_size=128, num_layers=4, bidirectional=True)
    trace = unrolled.trace((config, init_params(config, 0)), np.zeros((40, 1)))
    with pytest.raises(ValueError, match=r"too large to draw.*to_csv"):
        trace.show(tmp_path / "big.html", open_browser=False)
