"""/api/docs lists every operation of app.openapi() with its anchors, field bounds in words, under the strict CSP."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.main import create_app
from app.web.api_reference import operation_anchor, schema_anchor


def test_every_operation_and_field_has_its_anchor() -> None:
    app = create_app()
    client = TestClient(app)
    reply = client.get("/api/docs")
    assert reply.status_code == 200
    assert "unsafe-inline" not in reply.headers["content-security-policy"]
    html = reply.text
    assert "<script>" not in html and "style=" not in html
    ids = re.findall(r'id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "an anchor is used twice"
    spec = app.openapi()
    for path, item in spec["paths"].items():
        for method in item:
            anchor = operation_anchor(method, path)
            assert (
                anchor in ids and f'href="#{anchor}"' in html
            )  # the section and its table-of-contents entry
    for name, schema in spec["components"]["schemas"].items():
        assert schema_anchor(name) in ids
        for field in schema.get("properties", {}):
            assert f"{schema_anchor(name)}.{field}" in ids
    assert 'id="op-post-api-v1-trace.precision"' in html
    row = html.split('id="op-post-api-v1-seq2seq-trace.beam_width"')[1].split("</tr>")[0]
    assert "integer, 1 to 16" in row and "default <code>3</code>" in row


def test_fastapi_own_viewers_stay_off() -> None:
    client = TestClient(create_app())
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
