"""Whole numbers read from a page's query string, the same way for every page.

``str.isdigit`` accepts superscripts and other digits ``int`` refuses ("²"), and ``int`` itself accepts
underscores, signs, spaces and non-ASCII digits; a query value is a whole number here only if it is 1 to 20 ASCII
digits (a leading minus allowed, so a range check can say "between 0 and 9" of -1), so every page parameter
means the same as the API's integer fields."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"-?[0-9]{1,20}")


def whole_number(raw: str | None) -> int | None:
    """The integer ``raw`` spells in ASCII digits (surrounding spaces allowed), else None."""
    if raw is None:
        return None
    text = raw.strip()
    return int(text) if _DIGITS.fullmatch(text) else None
