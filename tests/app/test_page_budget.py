"""Pages draw within a budget: a model wider than a page draws one page of units at a time, with links to
the others, instead of megabytes of HTML."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from app.web.unit_window import MAX_SQUARES
from core.config import NetworkConfig
from core.params import init_params
from core.weights_io import weights_to_bytes

WIDE = NetworkConfig(cell="lstm", input_size=1, hidden_size=256, num_layers=4, bidirectional=True, output_size=1,
                     dtype="float32")
INPUT = " ".join(["0.5"] * 40)


@pytest.fixture
def wide(make_client) -> tuple[TestClient, str]:
    client = make_client()
    upload = client.post("/api/v1/models", files={"file": ("big.npz", weights_to_bytes(init_params(WIDE, 0), "npz"))})
    assert upload.status_code == 201, upload.text
    return client, upload.json()["id"]


def drawn_units(html: str) -> set[int]:
    """The unit numbers the overview's grids start at and how many they hold, read off their data attributes."""
    units = set()
    for match in re.finditer(r'<g class="grid"[^>]*>', html):
        tag = match.group(0)
        n = int(re.search(r'data-n="(\d+)"', tag).group(1))
        first = re.search(r'data-first="(\d+)"', tag)
        start = int(first.group(1)) if first else 0
        units.update(range(start, start + n))
    return units


def test_a_wide_model_draws_one_page_of_units_with_links_to_the_rest(wide) -> None:
    client, model = wide
    started = time.process_time()
    page = client.get("/", params={"model": model, "input": INPUT})
    assert page.status_code == 200
    assert time.process_time() - started < 5  # a bound, not a benchmark: drawing every unit took 3.5 s, 35 MB
    assert len(page.content) < 2_000_000
    per_page = 24  # whole grid rows of 8 within MAX_SQUARES: 40 steps x 8 rows x (h, c) x 24 = 15,360 squares
    assert 40 * 8 * 2 * per_page <= MAX_SQUARES < 40 * 8 * 2 * (per_page + 8)
    assert drawn_units(page.text) == set(range(per_page))
    assert "units 0–23 of 256" in page.text
    for start in range(per_page, 256, per_page):
        assert f"units={start}" in page.text
    assert "This is too large to draw" not in page.text


def test_the_next_page_draws_the_next_units_with_their_numbers(wide, client) -> None:
    client, model = wide
    page = client.get("/", params={"model": model, "input": "0.5 0.25", "units": 64})  # two steps: 64 a page
    assert page.status_code == 200
    assert drawn_units(page.text) == set(range(64, 128))
    assert 'aria-current="page" href="?' in page.text and ">64–127</a>" in page.text
    trace = client.post("/api/v1/trace", json={"weights": {"source": "stored", "id": model},
                                               "input": {"vectors": [[0.5], [0.25]]}, "precision": 17})
    assert trace.status_code == 200
    for record in trace.json()["layers"]:  # every row's h at t=1, units 64..127, is in the numbers table
        listed = ", ".join(f"{v:.3f}" for v in record["quantities"]["h"][1][64:128])
        assert listed in page.text, (record["layer"], record["direction"])


def test_a_chosen_unit_opens_on_its_page(wide) -> None:
    client, model = wide
    page = client.get("/", params={"model": model, "input": "0.5 0.25", "unit": 200})
    assert drawn_units(page.text) == set(range(192, 256))


def test_heatmaps_draw_the_same_page(wide) -> None:
    client, model = wide
    page = client.get("/heatmaps", params={"model": model, "input": "0.5 0.25", "units": 128})
    assert page.status_code == 200
    assert "h[128] at t=0" in page.text and "h[127] at t=0" not in page.text and "h[192] at t=0" not in page.text
    assert "units 128–191 of 256" in page.text
