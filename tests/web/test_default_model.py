"""The simulator opens on the trained English model: sensible next-character guesses for typed English, typed
text folded into its vocabulary with unknown characters marked, and outputs labelled by the model's task."""

from __future__ import annotations

import re

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.web.simulation import simulate
from app.web.state import DEFAULT_INPUT, ViewState, parse
from core.tasks.english import UNKNOWN


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return TestClient(create_app(Settings(data_dir=tmp_path_factory.mktemp("data"), rate_limit_per_minute=0)))


def alerts(page: str) -> str:
    m = re.search(r'<div class="alerts" role="alert">(.*?)</div>', page, re.S)
    return re.sub(r"<[^>]+>", "", m.group(1)).strip() if m else ""


def guesses(text: str, after: str) -> list[str]:
    """The top-3 next characters the default model guesses after the prefix ``after`` of ``text``."""
    sim = simulate(parse({"input": text})[0])
    assert text.startswith(after)
    return [label for label, _ in sim.top_outputs(len(after) - 1)]


def test_the_default_view_is_the_trained_english_model(client: TestClient):
    sim = simulate(ViewState())
    assert sim.state.preset == "english" and sim.state.input == DEFAULT_INPUT
    assert sim.config.cell == "lstm" and sim.config.hidden_size * sim.steps * 6 <= 40 * 128 * 6
    assert sim.output_kind == "next"
    page = client.get("/")
    assert page.status_code == 200 and alerts(page.text) == ""
    # The picker offers the trained model first and random weights as what they are.
    options = re.findall(
        r'<option value="([^"]*)"[^>]*>([^<]*)</option>', page.text.split('id="f-preset"')[1]
    )
    assert options[0][0] == "english" and ("", "random weights (untrained), from the seed") in options


@pytest.mark.parametrize(
    "text, after, expected",
    [
        ("the quick brown fox jumps over the dog", "th", {"e"}),
        ("hello world, this is a test", "hello world, th", {"e", "i", "a"}),
        ("the quick brown fox jumps over the dog", "the", {"␣"}),
        ("hello world, this is a test", "hello world, this is a tes", {"t"}),
    ],
)
def test_the_guesses_are_sensible_english(text, after, expected):
    assert expected & set(guesses(text, after)), guesses(text, after)


def test_after_a_space_it_guesses_the_start_of_a_word():
    top = guesses("the quick brown fox jumps over the dog", "the ")
    assert all(label.isalpha() for label in top), top


def test_top_outputs_are_the_most_likely_characters_in_order():
    sim = simulate(ViewState(input="Hello there"))
    for t in range(sim.steps):
        top = sim.top_outputs(t)
        probs = sim.trace.probs[t, 0]
        order = np.argsort(-probs, kind="stable")[:3]
        shown = [sim.output_labels[k].replace(" ", "␣") for k in order]
        assert [label for label, _ in top] == shown
        assert [p for _, p in top] == pytest.approx(probs[order].tolist())
        assert sim.output_label(t) == f"{top[0][0]} {top[0][1]:.0%}"


def test_typed_text_is_folded_and_unknown_characters_are_marked(client: TestClient):
    state, errors = parse({"input": "Hello World €"})
    assert errors == []
    sim = simulate(state)
    assert sim.labels == tuple("hello␣world␣") + (UNKNOWN,)
    assert sim.typed == tuple("Hello␣World␣€")
    assert sim.unknown == (False,) * 12 + (True,)
    assert [sim.is_unknown(t) for t in range(sim.steps)] == list(sim.unknown)
    page = client.get("/?input=Hello%20World%20%E2%82%AC")
    assert page.status_code == 200 and alerts(page.text) == ""
    assert UNKNOWN in page.text


def test_random_weights_stay_a_choice(client: TestClient):
    sim = simulate(parse({"preset": "", "input": "Hello"})[0])
    assert sim.state.preset == "" and sim.config.hidden_size == 8
    assert sim.vocab == tuple("Helo") and sim.unknown == (False,) * 5  # its own vocabulary: nothing unknown
    old_link = simulate(parse({"cell": "gru", "hidden": "4", "input": "abc"})[0])
    assert old_link.config.cell == "gru" and old_link.config.hidden_size == 4
    page = client.get("/?preset=&input=abc")
    assert page.status_code == 200 and alerts(page.text) == ""
    assert re.search(r'<option value="" selected>random weights', page.text)


def test_sentiment_names_its_class_and_never_fails_on_a_word_it_does_not_know():
    sim = simulate(parse({"preset": "sentiment", "input": "What a Splendid MORNING"})[0])
    assert sim.labels == ("what", "a", "<unk>", "morning")
    assert sim.unknown == (False, False, True, False)
    assert sim.output_kind == "class"
    label, p = sim.top_outputs(sim.steps - 1, 1)[0]
    assert label in ("negative", "positive") and sim.output_label(sim.steps - 1) == f"{label} {p:.0%}"
    assert len(sim.top_outputs(0)) == 2  # a classifier of two classes has two guesses


def test_a_forecast_shows_its_value():
    sim = simulate(parse({"preset": "sine", "input": "0.1, 0.5, 0.9"})[0])
    assert sim.output_kind == "value" and sim.top_outputs(0) == ()
    assert sim.output_label(2) == f"{sim.trace.logits[2, 0, 0]:.3g}" == f"{sim.output_value(2):.3g}"
