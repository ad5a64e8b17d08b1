"""What a browser shows of text the pages typeset (app.web.math_text): ``c_{t-1}`` is drawn as c with a lowered
t−1, so its inner text is ``ct−1``."""

from __future__ import annotations

import html
import re

from app.web.math_text import html_subscripts


def as_shown(text: str) -> str:
    """The inner text of ``text`` once typeset: the marks' tags gone, entities read back."""
    return html.unescape(re.sub(r"<[^>]+>", "", str(html_subscripts(text))))
