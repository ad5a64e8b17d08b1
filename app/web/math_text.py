"""Subscripts and superscripts in symbols and course text, typeset as a textbook writes them.

The symbols and the lessons' text are written as in the code and the docstrings: an underscore before a
subscript, a caret before a superscript, and braces around one of more than one token: ``c_{t-1}``, ``h_t``,
``W_hn h + b_hn``, ``∏_{t=k+1}^{T}``. A student should read c with a lowered t−1 instead, so

    svg_subscripts("c_{t-1}")  ->  c<tspan baseline-shift="sub" ...>t−1</tspan>    (inside an SVG <text>)
    html_subscripts("c_{t-1}") ->  c<sub>t−1</sub>                                 (in HTML)

A mark counts only right after a letter (Latin or Greek, accents included), a closing bracket, ‖, ∏ or ∑, or
the closing brace of the mark before it. Text between curly quotes is left as it is: the pages quote what a
user typed and the words of a vocabulary that way (“new_york”, “_”), and there an underscore means an
underscore. A hyphen inside a subscript becomes a minus sign. Everything else is escaped as Jinja would
escape it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup, escape

#: _x, _12, _hn, _{t-1} (a subscript) or ^T, ^{T} (a superscript), after a letter, a bracket, ‖, ∏, ∑ or }.
MARK = re.compile(r"(?<=[A-Za-zα-ωΑ-Ω\u0300-\u036f)\]}‖∏∑])([_^])(?:\{([^{}]+)\}|([A-Za-z0-9]+))")


#: A quotation: “…”, never typeset.
QUOTED = re.compile(r"(“[^”]*”)")


def _typeset(text: str, wrap: Callable[[str, str], str]) -> Markup:
    escaped = str(escape(text))  # escaping leaves underscores, carets, braces and curly quotes alone
    pieces = QUOTED.split(escaped)  # the odd pieces are quotations
    return Markup(
        "".join(
            piece if k % 2 else MARK.sub(lambda m: wrap(m[1], (m[2] or m[3]).replace("-", "−")), piece)
            for k, piece in enumerate(pieces)
        )
    )


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


#: The Jinja filters of every environment that renders the templates (app.web.templating, unrolled.page).
FILTERS = {"svg_sub": svg_subscripts, "html_sub": html_subscripts}
