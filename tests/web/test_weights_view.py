"""The weight maps of the cell view: the PNG's pixels are the weights on their scale, and the outlined rows are
the ones each sub-step multiplies for the chosen unit."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.web import weights_view
from app.web.colors import Scale
from app.web.simulation import simulate
from app.web.state import ViewState


def decode_png(data: bytes) -> np.ndarray:
    """(rows, cols, 3) pixels of an 8-bit RGB PNG whose scanlines all use filter 0 (what encode_png writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
            assert body[8:10] == b"\x08\x02"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + 3 * width)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(height, width, 3)


@pytest.mark.parametrize("cell, rows", [("lstm", 4 * 5), ("gru", 3 * 5), ("rnn", 5)])
def test_png_pixels_are_the_weights_on_their_scale(cell, rows):
    sim = simulate(ViewState(cell=cell, hidden=5, input="abcd"))
    W = np.asarray(sim.params["weight_hh_l0"])
    pixels = decode_png(weights_view.png(sim, "hh"))
    assert pixels.shape == (rows, 5, 3)
    scale = Scale.for_values(W.ravel())
    for r, c in [(0, 0), (rows - 1, 4), (rows // 2, 2)]:
        assert "#" + bytes(pixels[r, c]).hex() == scale.colour(float(W[r, c]))
    biases = decode_png(weights_view.png(sim, "b"))
    assert biases.shape == (rows, 2, 3)


def test_marks_outline_the_gate_rows_of_unit_j():
    sim = simulate(ViewState(cell="lstm", hidden=5, input="abc", unit=3))
    maps = weights_view.build(sim)
    assert [m.which for m in maps] == ["ih", "hh", "b"]
    marks = {mk.step: mk.row for mk in maps[1].marks}
    assert marks == {1: 5 + 3, 2: 0 + 3, 3: 10 + 3, 5: 15 + 3}  # PyTorch's row blocks i, f, g, o
    assert [g for g, _ in maps[0].blocks] == list("ifgo") and maps[0].cols == sim.trace.layers[0][0].x.shape[-1]


def test_the_png_route_serves_the_layer_shown_and_refuses_bad_requests(tmp_path):
    client = TestClient(create_app(Settings(data_dir=tmp_path, rate_limit_per_minute=0)))
    ok = client.get("/fragment/weights.png?preset=&cell=gru&hidden=4&layers=2&layer=1&which=ih")
    assert ok.status_code == 200 and ok.headers["content-type"] == "image/png"
    sim = simulate(ViewState(cell="gru", hidden=4, layers=2, layer=1))
    assert decode_png(ok.content).shape == (12, 4, 3)  # layer 2 reads layer 1's h: 4 columns
    assert "max-age" in ok.headers["cache-control"] and sim.config.num_layers == 2
    assert client.get("/fragment/weights.png?which=xx").status_code == 422
    assert client.get("/fragment/weights.png?which=hh&hidden=999").status_code == 422
