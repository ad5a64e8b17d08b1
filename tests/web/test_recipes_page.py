"""/api/recipes shows docs/recipes.md: every section and code block, escaped, under the strict CSP, linked
from the footer of every page and from /api/docs."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from app.main import create_app
from app.web.recipes_page import RECIPES, render_markdown, slug


def test_the_page_shows_every_section_and_code_block() -> None:
    client = TestClient(create_app())
    reply = client.get("/api/recipes")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
    assert "unsafe-inline" not in reply.headers["content-security-policy"]
    page = reply.text
    assert "<script>" not in page and "style=" not in page
    assert page.count("<h1") == 1 and "<title>Recipes · Unrolled</title>" in page
    source = RECIPES.read_text(encoding="utf-8")
    for title in re.findall(r"^## (.+)$", source, re.MULTILINE):
        anchor = slug(title)
        assert f'<h2 id="{anchor}">{html.escape(title)}</h2>' in page and f'href="#{anchor}"' in page
    blocks = re.findall(r"^```python\n(.*?)^```", source, re.DOTALL | re.MULTILINE)
    shown = re.findall(r'<pre class="recipe-code"><code class="language-python">(.*?)</code></pre>', page, re.DOTALL)
    assert [html.unescape(b) for b in shown] == blocks
    ids = re.findall(r'id="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_markdown_html_is_escaped_and_headings_get_unique_ids() -> None:
    doc = render_markdown("# Title\n\nText <script>alert(1)</script>\n\n## A b\n\n## A b\n\n```python\nx < 1\n```\n")
    assert doc.title == "Title" and "<h1" not in doc.html
    assert "<script>" not in doc.html and "&lt;script&gt;" in doc.html
    assert [s.anchor for s in doc.sections] == ["a-b", "a-b-2"]
    assert '<h2 id="a-b-2">A b</h2>' in doc.html and "x &lt; 1" in doc.html


def test_linked_from_the_footer_and_the_reference() -> None:
    client = TestClient(create_app())
    for path in ("/", "/api/docs", "/lessons"):
        assert 'href="/api/recipes"' in client.get(path).text, path


def test_the_image_ships_the_markdown() -> None:
    dockerfile = (RECIPES.parents[1] / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^COPY docs/recipes\.md \./docs/recipes\.md$", dockerfile, re.MULTILINE)
