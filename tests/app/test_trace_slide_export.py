"""POST /api/v1/trace/export?format=svg|png&t=K: the unrolled view's slide of an API request's trace."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient

SVG = "{http://www.w3.org/2000/svg}"
BODY = {
    "model": {"cell": "lstm", "hidden_size": 4, "output_size": 4, "output_activation": "softmax"},
    "weights": {"source": "seed", "seed": 0},
    "input": {"text": "hello", "tokenizer": "chars"},
}


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_svg_is_the_slide_at_step_t_with_values_legends_and_caption(client: TestClient) -> None:
    r = client.post("/api/v1/trace/export?format=svg&t=2", json=BODY)
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert 'filename="trace-t2.svg"' in r.headers["content-disposition"]
    root = ET.fromstring(r.content)
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert texts[:2] == ["Unrolled network", "LSTM, 1 layer, hidden size 4, random weights, seed 0"]
    assert texts[2] == "input “hello” · step 2, x_t = “l”"
    titles = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert sum(t.startswith("h at t=2: 4 units") for t in titles) == 1
    assert root.find(f".//{SVG}desc") is not None and "hidden state h" in texts and "cell state c" in texts
    current = [g.get("data-t") for g in root.iter(f"{SVG}g") if "is-current" in (g.get("class") or "")]
    assert current == ["2"]


def test_the_api_slide_is_the_pages_slide_for_the_same_model_and_input(client: TestClient) -> None:
    # The page's random-weight text model: one-hot over the text's sorted characters, softmax over them.
    page = client.get("/export/unrolled.svg?preset=&cell=lstm&hidden=4&input=hello&t=3")
    api = client.post("/api/v1/trace/export?format=svg&t=3", json=BODY)
    assert page.status_code == api.status_code == 200 and page.content == api.content


def test_the_png_is_the_svg_drawn_at_twice_its_size(client: TestClient) -> None:
    svg = ET.fromstring(client.post("/api/v1/trace/export?format=svg&t=1", json=BODY).content)
    r = client.post("/api/v1/trace/export?format=png&t=1", json=BODY)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert png_size(r.content) == (round(2 * float(svg.get("width"))), round(2 * float(svg.get("height"))))


def test_the_step_defaults_to_0_and_models_without_an_output_layer_draw(client: TestClient) -> None:
    body = {"model": {"cell": "gru", "hidden_size": 2}, "input": {"vectors": [[0.5], [-1.0], [0.25]]}}
    r = client.post("/api/v1/trace/export?format=svg", json=body)
    assert r.status_code == 200 and 'filename="trace-t0.svg"' in r.headers["content-disposition"]
    texts = [t.text or "" for t in ET.fromstring(r.content).iter(f"{SVG}text")]
    assert texts[2] == "input “0.5 -1 0.25” · step 0, x_t = “0.5”"


def test_bad_formats_and_steps_are_422s_naming_the_field(client: TestClient) -> None:
    r = client.post("/api/v1/trace/export?format=gif", json=BODY)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "format"]
    r = client.post("/api/v1/trace/export?format=svg&t=5", json=BODY)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "t"]
    assert "past the last timestep 4" in r.json()["detail"][0]["msg"]
    r = client.post("/api/v1/trace/export?format=csv&t=1", json=BODY)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "t"]
    r = client.post("/api/v1/trace/export?format=png&t=-1", json=BODY)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "t"]


def test_a_png_over_the_pixel_limit_is_a_413_before_drawing(client: TestClient, monkeypatch) -> None:
    from app.web import slides

    monkeypatch.setattr(slides, "MAX_PIXELS", 1000)

    def never(svg: str) -> bytes:
        raise AssertionError("drawn")

    monkeypatch.setattr(slides, "png", never)
    r = client.post("/api/v1/trace/export?format=png", json=BODY)
    assert r.status_code == 413 and "too large for a PNG" in r.json()["detail"]
    assert client.post("/api/v1/trace/export?format=svg", json=BODY).status_code == 200


def test_a_sequence_too_long_to_draw_is_a_413(client: TestClient) -> None:
    body = {"model": {"cell": "lstm", "hidden_size": 32, "num_layers": 3, "bidirectional": True},
            "input": {"vectors": [[0.1]] * 200}}
    r = client.post("/api/v1/trace/export?format=svg", json=body)
    assert r.status_code == 413 and "too large to draw" in r.json()["detail"]


def test_the_schema_documents_the_slide_formats(client: TestClient) -> None:
    op = client.get("/openapi.json").json()["paths"]["/api/v1/trace/export"]["post"]
    params = {p["name"]: p for p in op["parameters"]}
    fmt = params["format"]["schema"]
    assert {"svg", "png"} <= set(fmt.get("enum") or fmt["anyOf"][0]["enum"]) and "t" in params
    assert {"image/svg+xml", "image/png"} <= set(op["responses"]["200"]["content"]) and "413" in op["responses"]
