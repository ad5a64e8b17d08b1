"""The ``iv`` query parameter: edits written and read back unchanged, bad text turned into messages."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.web.whatif_state import GATES, MAX_EDITS, Edit, format_iv, parse_iv, quote_iv, to_specs

_where = {"t": st.integers(0, 999), "layer": st.integers(0, 3), "direction": st.integers(0, 1)}
_values = st.floats(allow_nan=False, allow_infinity=False)
_gate_edits = st.builds(
    Edit, target=st.sampled_from(GATES), unit=st.integers(0, 999), value=_values, **_where
)
_state_edits = st.builds(
    Edit, target=st.sampled_from(["h", "c"]), unit=st.none() | st.integers(0, 999), value=_values, **_where
)
_tokens = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=5).filter(
    lambda s: "," not in s and not s.startswith("~")
) | st.integers(0, 99).map(lambda k: f"~{k}")
_input_edits = st.builds(Edit, target=st.just("x"), t=st.integers(0, 999), token=_tokens)
_edits = st.lists(_gate_edits | _state_edits | _input_edits, max_size=MAX_EDITS).map(tuple)


@given(_edits)
def test_edits_round_trip_through_the_url(edits: tuple[Edit, ...]) -> None:
    assert parse_iv(format_iv(edits)) == (edits, [])


@given(st.text(max_size=60))
def test_any_text_reads_as_edits_or_messages(raw: str) -> None:
    edits, errors = parse_iv(raw)
    assert len(edits) + len(errors) >= (1 if raw else 0)
    assert parse_iv(format_iv(edits))[0] == edits


def test_the_examples_read_as_documented() -> None:
    edits, errors = parse_iv("f3@5=0,c0@2.1=0.5,h@7.0.1=-1,x@4=d")
    assert errors == []
    assert edits == (
        Edit("f", 5, 3, value=0.0),
        Edit("c", 2, 0, layer=1, value=0.5),
        Edit("h", 7, None, layer=0, direction=1, value=-1.0),
        Edit("x", 4, token="d"),
    )
    assert quote_iv(format_iv(edits)) == "f3@5=0,c0@2.1=0.5,h@7.0.1=-1,x@4=d"


def test_unreadable_items_say_why_and_the_rest_are_kept() -> None:
    edits, errors = parse_iv("f@5=0,f1@2=nan,q1@2=0,h1@3=0.5,x@4=,f2@1")
    assert edits == (Edit("f", 5, None, value=0.0), Edit("h", 3, 1, value=0.5))
    assert len(errors) == 4
    assert (
        "finite" in errors[0] and "gate" in errors[1] and "token" in errors[2] and "target@step" in errors[3]
    )
    assert parse_iv(",".join(["h@1=0"] * (MAX_EDITS + 1)))[1][0].startswith(f"At most {MAX_EDITS}")


def test_edits_become_the_api_interventions() -> None:
    edits, _ = parse_iv("f3@5=0,h@7.1.1=0.5,x@4=~2,x@1=d")
    specs, errors = to_specs(edits, vector_input=False)
    assert errors == []
    assert specs == [
        {"kind": "clamp", "gate": "f", "value": 0.0, "unit": 3, "t": 5, "layer": 0, "direction": "forward"},
        {"kind": "set", "state": "h", "value": 0.5, "t": 7, "layer": 1, "direction": "reverse"},
        {"kind": "input", "t": 4, "token": 2},
        {"kind": "input", "t": 1, "token": "d"},
    ]
    specs, errors = to_specs(parse_iv("x@0=0.5;-1,x@1=d")[0], vector_input=True)
    assert specs == [{"kind": "input", "t": 0, "vector": [0.5, -1.0]}]
    assert len(errors) == 1
