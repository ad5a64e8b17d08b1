"""What-if interventions in a view's URL: the ``iv`` query parameter, short enough to read and to share.

    iv     = item ("," item)*                      at most MAX_EDITS items
    item   = target "@" t ["." layer ["." dir]] "=" value
    target = gate [unit]  |  "h" [unit]  |  "c" [unit]  |  "x"
                                       gate: i f g o (LSTM), r z n (GRU); no unit: every unit
    value  = a number (gates, h, c)  |  for x: a token as the model reads it, or "~" its id; for a model
             that reads numbers, the input_size numbers separated by ";"

    f3@5=0          f_5[3] := 0, layer 0, forward        (unit 3 forgets its memory here)
    f@5=0           every unit of f_5 := 0                 ("forget everything here")
    c0@2.1=0.5      c_2[0] := 0.5 in layer 1
    h@7.0.1=0       every unit of h_7 := 0, layer 0, right-to-left direction
    x@4=d           the input at step 4 reads "d" instead

All characters but a token's own are left unescaped in the query (``quote_iv``), so the URL reads as above.
:func:`parse_iv` only checks the syntax; whether an edit fits the model (gate of this cell, unit < H, t in
the sequence...) is checked by the service exactly as for the API (app.services.interventions), through
:func:`to_specs`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import quote

from app.web.query import whole_number

GATES = ("i", "f", "g", "o", "r", "z", "n")
STATES = ("h", "c")
TARGETS = (*GATES, *STATES, "x")
#: Which gate "forgets" per cell: LSTM c_t = f*c_{t-1} + i*g; GRU h_t = (1-z)*n + z*h_{t-1}, so z = 0 drops
#: h_{t-1}; a vanilla RNN has no gate, so its h is set to 0.
FORGET = {"lstm": "f", "gru": "z", "rnn": "h"}
MAX_EDITS = 8
MAX_IV_CHARS = 400
ITEM = re.compile(
    r"^(?P<target>[a-z])(?P<unit>\d{1,4})?@(?P<t>\d{1,4})(?:\.(?P<layer>\d)(?:\.(?P<dir>[01]))?)?=(?P<value>.*)\Z",
    re.DOTALL,  # a replacement token may be any character, a newline included
)


@dataclass(frozen=True)
class Edit:
    """One what-if change: ``value`` for gates, h and c; for x, ``token`` as written (a label, "~id", or
    numbers separated by ';' for a model that reads numbers)."""

    target: str
    t: int
    unit: int | None = None
    layer: int = 0
    direction: int = 0
    value: float | None = None
    token: str | None = None


def format_value(v: float) -> str:
    """The shortest writing of ``v`` that reads back as the same float."""
    short = f"{v:g}"
    return short if float(short) == v else repr(v)


def format_edit(edit: Edit) -> str:
    where = f"@{edit.t}"
    if edit.layer or edit.direction:
        where += f".{edit.layer}"
        if edit.direction:
            where += f".{edit.direction}"
    unit = "" if edit.unit is None else str(edit.unit)
    if edit.target == "x":
        assert edit.token is not None
        return f"x{where}={edit.token}"
    assert edit.value is not None
    return f"{edit.target}{unit}{where}={format_value(edit.value)}"


def format_iv(edits: tuple[Edit, ...] | list[Edit]) -> str:
    return ",".join(format_edit(e) for e in edits)


def token_text(label: str, token_id: int) -> str:
    """How a token is written in ``iv``: as itself, or "~id" when it holds a ',' or starts with '~'."""
    return f"~{token_id}" if not label or "," in label or label.startswith("~") else label


def quote_iv(iv: str) -> str:
    """``iv`` for a query string, its punctuation left readable (none of it means anything in a query value)."""
    return quote(iv, safe="@.,=~;:-_")


def parse_iv(raw: str) -> tuple[tuple[Edit, ...], list[str]]:
    """The edits ``raw`` describes, and a message per item that cannot be read (that item is left out)."""
    if raw == "":
        return (), []
    if len(raw) > MAX_IV_CHARS:
        return (), [f"The what-if list (iv) holds at most {MAX_IV_CHARS} characters, got {len(raw)}."]
    edits: list[Edit] = []
    errors: list[str] = []
    items = raw.split(",")
    if len(items) > MAX_EDITS:
        errors.append(f"At most {MAX_EDITS} what-if changes at once; the first {MAX_EDITS} are used.")
        items = items[:MAX_EDITS]
    for k, item in enumerate(items, start=1):
        edit, problem = _parse_item(item)
        if problem:
            errors.append(f"What-if change {k} (“{item}”): {problem}")
        elif edit is not None:
            edits.append(edit)
    return tuple(edits), errors


def _parse_item(item: str) -> tuple[Edit | None, str | None]:
    m = ITEM.match(item)
    if m is None:
        return (
            None,
            "write it as target@step=value, e.g. f3@5=0 (unit 3 of the forget gate at step 5 set to 0).",
        )
    target = m["target"]
    if target not in TARGETS:
        return None, f"the target is a gate ({' '.join(GATES)}), h, c or x (the input), not “{target}”."
    unit = None if m["unit"] is None else whole_number(m["unit"])
    t = whole_number(m["t"])
    layer = int(m["layer"] or 0)
    direction = int(m["dir"] or 0)
    value = m["value"]
    assert t is not None
    if target == "x":
        if unit is not None or layer or direction:
            return None, "an input is replaced at a step only: x@step=token."
        if value == "":
            return None, "say which token the step reads instead, e.g. x@4=d."
        return Edit("x", t, token=value), None
    if not _is_number(value):
        return None, f"the value must be a finite number, got “{value}”."
    return Edit(target, t, unit, layer, direction, float(value)), None


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text)) and text.strip() == text and "_" not in text
    except ValueError:
        return False


def to_specs(edits: tuple[Edit, ...], vector_input: bool) -> tuple[list[dict], list[str]]:
    """The edits as the ``interventions`` of a POST /api/v1/trace body (the page runs exactly that), and a
    message for each replaced input that is not numbers where the model reads numbers (that edit is left out)."""
    specs: list[dict] = []
    errors: list[str] = []
    for e in edits:
        where = {"t": e.t, "layer": e.layer, "direction": "reverse" if e.direction else "forward"}
        if e.target in GATES or e.target in STATES:
            unit = {} if e.unit is None else {"unit": e.unit}
            what = (
                {"kind": "clamp", "gate": e.target}
                if e.target in GATES
                else {"kind": "set", "state": e.target}
            )
            specs.append({**what, "value": e.value, **unit, **where})
        elif vector_input:
            parts = (e.token or "").split(";")
            if all(_is_number(p) for p in parts):
                specs.append({"kind": "input", "t": e.t, "vector": [float(p) for p in parts]})
            else:
                errors.append(f"What-if “{format_edit(e)}”: this model reads numbers, e.g. x@{e.t}=0.5.")
        else:
            assert e.token is not None
            token: int | str = e.token
            if e.token.startswith("~") and whole_number(e.token[1:]) is not None:
                token = int(e.token[1:])
            specs.append({"kind": "input", "t": e.t, "token": token})
    return specs, errors


def form_iv(query) -> str | None:
    """The ``iv`` the page's form describes (fields wt target, wu unit or 'all', ws step, wv value, wx token),
    None when the query holds no form. Written as text and read back by parse_iv, so the form and a typed URL
    meet the same checks."""
    target = query.get("wt")
    if target is None:
        return None
    step = query.get("ws") or "0"
    if target == "x":
        return f"x@{step}={query.get('wx') or query.get('wv') or ''}"
    unit = query.get("wu") or "all"
    return f"{target}{'' if unit == 'all' else unit}@{step}={(query.get('wv') or '').strip()}"
