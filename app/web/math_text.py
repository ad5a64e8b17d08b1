"""Subscripts in the pictures' symbols, typeset as a textbook writes them.

The symbols are written as in the code and the docstrings, with an underscore before the subscript and braces
around a subscript of more than one token: ``c_{t-1}``, ``h_t``, ``W_hn h + b_hn``. On a picture a student
should read c with a lowered t−1 instead, so

    svg_subscripts("c_{t-1}")  ->  c<tspan baseline-shift="sub" ...>t−1</tspan>    (inside an SVG <text>)
    html_subscripts("c_{t-1}") ->  c<sub>t−1</sub>                                 (in HTML)

A hyphen inside a subscript becomes a minus sign. Everything else is escaped as Jinja would escape it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup, escape

#: One letter (or closing bracket) followed by _x, _12, _hn or _{t-1}.
SUBSCRIPT = re.compile(r"(?<=[A-Za-zα-ωΑ-Ω)\]])_(?:\{([^{}]+)\}|([A-Za-z0-9]+))")


def _typeset(text: str, wrap: Callable[[str], str]) -> Markup:
    escaped = str(escape(text))  # escaping leaves underscores and braces alone
    return Markup(SUBSCRIPT.sub(lambda m: wrap((m[1] or m[2]).replace("-", "−")), escaped))


def svg_subscripts(text: str) -> Markup:
    # baseline-shift only moves the tspan itself: the text after it is back on the baseline.
    return _typeset(
        text, lambda sub: f'<tspan class="sub" baseline-shift="sub" font-size="72%">{sub}</tspan>'
    )


def html_subscripts(text: str) -> Markup:
    return _typeset(text, lambda sub: f"<sub>{sub}</sub>")
