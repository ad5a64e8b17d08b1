"""The recipes page (/api/recipes): docs/recipes.md rendered to HTML on the server.

The markdown is the single source: tests/app/test_docs_recipes.py runs its code blocks against the app, so the
page shows code that works today. markdown-it-py parses it as CommonMark with raw HTML turned off (every ``<``
in the prose is escaped, so the page needs no sanitiser and the strict CSP holds: no script, no inline style).
The file's first ``# heading`` becomes the page title (base.html prints the h1); every ``## heading`` gets an
id made from its words, for the table of contents and for links into the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from markdown_it import MarkdownIt

from app.web.templating import ROOT

RECIPES = ROOT / "docs" / "recipes.md"


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str


@dataclass(frozen=True)
class RenderedDoc:
    title: str
    sections: tuple[Section, ...]
    html: str


def slug(text: str) -> str:
    """'Gradients of your own loss' -> 'gradients-of-your-own-loss' (letters and digits, dashes between)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def render_markdown(text: str) -> RenderedDoc:
    """The title, the level-2 sections and the HTML body of a markdown document."""
    md = MarkdownIt("commonmark", {"html": False})
    tokens = md.parse(text)
    title = ""
    sections: list[Section] = []
    kept = []
    k = 0
    while k < len(tokens):
        token = tokens[k]
        if token.type == "heading_open" and token.tag == "h1" and not title:
            title = tokens[k + 1].content
            k += 3  # heading_open, inline, heading_close: the page's own h1 says it
            continue
        if token.type == "heading_open" and token.tag == "h2":
            words = tokens[k + 1].content
            anchor = _unique(slug(words), {s.anchor for s in sections})
            token.attrSet("id", anchor)
            sections.append(Section(anchor, words))
        kept.append(token)
        k += 1
    html = md.renderer.render(kept, md.options, {})
    return RenderedDoc(title or "Recipes", tuple(sections), _label_code(html))


def _unique(anchor: str, taken: set[str]) -> str:
    n, candidate = 2, anchor
    while candidate in taken:
        candidate, n = f"{anchor}-{n}", n + 1
    return candidate


def _label_code(html: str) -> str:
    """Code blocks as class="recipe-code" (the stylesheet wraps their long lines at narrow widths)."""
    return html.replace("<pre><code", '<pre class="recipe-code"><code')


@cache
def recipes() -> RenderedDoc:
    """docs/recipes.md, read and rendered once per process (it ships with the installation)."""
    return render_markdown(RECIPES.read_text(encoding="utf-8"))

