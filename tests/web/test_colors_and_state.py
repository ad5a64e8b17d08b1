"""The colour scale and the URL state: the parts every view leans on."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.web import colors
from app.web.colors import PALETTE, Scale, contrast, palette_css, sign_glyph, text_colour
from app.web.state import MAX_HIDDEN, BadInputError, ViewState, parse, parse_numbers, parse_text

ROOT = Path(__file__).resolve().parents[2]


def test_scale_is_clipped_to_the_data_and_symmetric():
    s = Scale.for_values([-0.2, 0.5, 0.1])
    assert s.vmax == 0.5
    assert s.bin(0.5) == colors.STEPS and s.bin(-0.5) == -colors.STEPS and s.bin(0.0) == 0
    assert s.bin(7.0) == colors.STEPS  # beyond the range: clipped, not wrapped
    assert s.bin(float("nan")) is None and s.colour(float("inf")) == colors.BLANK
    assert Scale.for_values([0.0, 0.0]).vmax > 0  # an all-zero vector still has a scale


def test_palette_runs_blue_to_white_to_orange():
    assert PALETTE[-colors.STEPS] == "#2166ac" and PALETTE[colors.STEPS] == "#b35806"
    assert PALETTE[0] == "#f7f7f7"
    # Lightness falls monotonically away from zero on both sides.
    lum = [colors.relative_luminance(PALETTE[k]) for k in colors.BINS]
    mid = colors.STEPS
    assert all(a < b for a, b in zip(lum[:mid], lum[1 : mid + 1], strict=True))
    assert all(a > b for a, b in zip(lum[mid:-1], lum[mid + 1 :], strict=True))


def test_text_on_every_bin_meets_wcag_aa_contrast():
    for colour in [*PALETTE.values(), colors.BLANK]:
        assert contrast(colour, text_colour(colour)) >= 4.5


def test_css_classes_name_the_bins_and_the_stylesheet_is_in_sync():
    s = Scale(1.0)
    assert s.css_class(1.0) == "b-p8" and s.css_class(-1.0) == "b-n8" and s.css_class(0.0) == "b-0"
    assert s.css_class(float("nan")) == "b-nan"
    css = (ROOT / "static" / "css" / "palette.css").read_text()
    assert palette_css() in css


def test_sign_is_shown_without_colour():
    assert [sign_glyph(v) for v in (0.3, -0.3, 0.0, float("nan"))] == ["+", "−", "0", "?"]


states = st.builds(
    ViewState,
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    act=st.sampled_from(["tanh", "sigmoid", "relu"]),
    hidden=st.integers(1, MAX_HIDDEN),
    layers=st.integers(1, 3),
    bi=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
    mode=st.sampled_from(["text", "numbers"]),
    input=st.text(min_size=0, max_size=50),
    t=st.integers(0, 39),
    unit=st.none() | st.integers(0, MAX_HIDDEN - 1),
    layer=st.integers(0, 2),
    dir=st.integers(0, 1),
    panel=st.sampled_from(["", "cell"]),
    preset=st.sampled_from(["", "english", "sentiment"]),
    evidence=st.sampled_from(["", "adding"]),
)


@given(states)
def test_url_state_round_trips(state):
    from urllib.parse import parse_qsl

    parsed, errors = parse(dict(parse_qsl(state.query(), keep_blank_values=True)))
    assert errors == []
    from app.web.state import clamp_to_model

    assert parsed == (state if state.trained else clamp_to_model(state))


def test_default_state_has_an_empty_query_and_changes_are_short():
    assert ViewState().query() == ""
    assert ViewState().query(t=3) == "t=3"
    assert ViewState().query(t=3, cell="gru", preset="") == "cell=gru&t=3"  # the cell says: random weights
    assert ViewState().query(preset="") == "preset="
    assert ViewState().query(cell="gru") == "cell=gru&preset=english"


def test_the_default_is_the_trained_english_model_and_random_weights_are_asked_for():
    default, errors = parse({})
    assert errors == [] and default == ViewState()
    assert default.preset == "english" and default.trained and len(default.input) <= 40
    assert parse({"input": "Hello"})[0].preset == "english"
    assert parse({"preset": ""})[0].preset == ""  # explicit: random weights from the seed
    # An old permalink that describes a random-weight model field by field still opens random weights.
    for name, value in (("cell", "gru"), ("hidden", "4"), ("seed", "3"), ("bi", "1"), ("mode", "numbers")):
        assert parse({name: value, "input": "1 2"})[0].preset == "", name
    assert parse({"cell": "gru", "preset": "english"})[0].preset == "english"
    # A stored model wins over a preset, and its link leaves the preset out.
    stored, _ = parse({"model": "a" * 64, "preset": "sentiment"})
    assert (stored.model, stored.preset) == ("a" * 64, "")
    assert stored.query() == f"model={'a' * 64}" and parse({"model": "a" * 64})[0] == stored
    # The default preset is written when random-model fields are, so the link does not mean random weights.
    trained_gru = ViewState(cell="gru", preset="english")
    assert parse(dict(parse_qsl(trained_gru.query(), keep_blank_values=True)))[0] == trained_gru
    # Built in code, a state infers its preset the same way: fields of a random model mean random weights.
    assert ViewState(hidden=4).preset == "" and ViewState(t=2).preset == "english"


@pytest.mark.parametrize(
    "query, message",
    [
        ({"hidden": "999"}, "Hidden size must be between 1 and 32"),
        ({"hidden": "eight"}, "must be a whole number"),
        ({"cell": "<script>"}, "Cell must be one of"),
        ({"t": "-1"}, "Timestep must be between"),
        ({"evidence": "sine"}, "Trained evidence must be one of adding"),
    ],
)
def test_bad_values_fall_back_to_defaults_with_a_message(query, message):
    state, errors = parse(query)
    assert any(message in e for e in errors)
    assert state.hidden == 8 and state.cell == "lstm" and state.t == 0


def test_shown_layer_direction_and_unit_stay_inside_the_model():
    state, _ = parse({"layers": "1", "layer": "2", "dir": "1", "unit": "20", "hidden": "4"})
    assert (state.layer, state.dir, state.unit) == (0, 0, None)


def test_typed_input_is_checked():
    assert parse_numbers("0.5, -1 2;3") == [0.5, -1.0, 2.0, 3.0]
    assert parse_text("ab") == ["a", "b"]
    for bad in ("", "1, x", "nan", "1e9", ", ,"):
        with pytest.raises(BadInputError):
            parse_numbers(bad)
    for bad in ("", "a" * 41, "tab\there"):
        with pytest.raises(BadInputError):
            parse_text(bad)
