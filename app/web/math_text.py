"""Subscripts and superscripts in symbols and course text, typeset as a textbook writes them.

The symbols and the lessons' text are written as in the code and the docstrings: an underscore before a
subscript, a caret before a superscript, and braces around one of more than one token: ``c_{t-1}``, ``h_t``,
``W_hn h + b_hn``, ``∏_{t=k+1}^{T}``. A student should read c with a lowered t−1 instead, so

    svg_subscripts("c_{t-1}")  ->  c<tspan baseline-shift="sub" ...>t−1</tspan>    (inside an SVG <text>)
    html_subscripts("c_{t-1}") ->  c<sub>t−1</sub>                                 (in HTML)

A mark counts only right after a letter (Latin or Greek, accents included), a closing bracket, ‖, ∏ or ∑, or
the closing brace of the mark before it, so a lone underscore in quoted text (“_”) stays as it is. A hyphen
inside a subscript becomes a minus sign. Everything else is escaped as Jinja would escape it. Only text the
project writes goes through here, never what a user typed, where an underscore means an underscore.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup, escape

#: _x, _12, _hn, _{t-1} (a subscript) or ^T, ^{T} (a superscript), after a letter, a bracket, ‖, ∏, ∑ or }.
MARK = re.compile(r"(?<=[A-Za-zα-ωΑ-Ω\u0300-\u036f)\]}‖∏∑])([_^])(?:\{([^{}]+)\}|([A-Za-z0-9]+))")


def _typeset(text: str, wrap: Callable[[str, str], str]) -> Markup:
    escaped = str(escape(text))  # escaping leaves underscores, carets and braces alone
    return Markup(MARK.sub(lambda m: wrap(m[1], (m[2] or m[3]).replace("-", "−")), escaped))


def svg_subscripts(text: str) -> Markup:
    # baseline-shift only moves the tspan itself: the text after it is back on the baseline.
    return _typeset(
        text,
        lambda mark, s: (
            f'<tspan class="{"sub" if mark == "_" else "sup"}" '
            f'baseline-shift="{"sub" if mark == "_" else "super"}" font-size="72%">{s}</tspan>'
        ),
    )


def html_subscripts(text: str) -> Markup:
    return _typeset(text, lambda mark, s: f"<sub>{s}</sub>" if mark == "_" else f"<sup>{s}</sup>")
