"""Predict-then-reveal inside lesson steps: the question is read off the trained model's trace of the step's own
state, the picture stays hidden until an answer is committed, then the verdict, the why and the picture at the
asked unit are shown; nothing about the student is kept (the answer is in the URL only)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.lessons import LESSONS
from app.lessons.model import PREDICTIONS, Live, Step
from app.main import create_app
from app.settings import Settings
from app.web import lesson_questions
from app.web.simulation import show_char, simulate

ASKING = [(lesson, n, step) for lesson in LESSONS for n, step in enumerate(lesson.steps, 1) if step.predict]
# The questions on a character model's step (the decoder's and the evidence set's: test_trained_questions.py).
ON_A_STEP = [(lesson, n, step) for lesson, n, step in ASKING if step.predict in PREDICTIONS and step.predict != "write"]


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path_factory.mktemp("d"), rate_limit_per_minute=0)))


def test_the_lstm_lesson_asks_about_a_gate_the_memory_and_the_next_letter() -> None:
    assert {step.predict for _, _, step in ASKING} >= {"gate:f", "memory", "next"}


@pytest.mark.parametrize(
    ("lesson", "n", "step"), ON_A_STEP, ids=[f"{lesson.slug}-{n}" for lesson, n, _ in ON_A_STEP]
)
def test_each_answer_is_the_traces_own(lesson, n, step) -> None:
    q = lesson_questions.question(step)
    assert q is not None and q is lesson_questions.question(step)  # built once, the same every time
    sim = simulate(step.live.view_state())
    t = sim.state.t
    unit = int(re.search(r"unit=(\d+)", q.reveal).group(1)) if "unit=" in q.reveal else None
    quantities = sim.trace.layers[0][0].quantities()
    kind, _, gate = step.predict.partition(":")
    if kind == "gate":
        values = quantities[gate][t, 0]
        assert unit == int(np.argmax(np.abs(values - 0.5)))
        assert q.choices[q.answer] == ("yes" if values[unit] > 0.5 else "no")
        assert f"t={t}" in q.reveal and f"hl={gate}" in q.reveal
    elif kind == "memory":
        grows = quantities["c"][t, 0, unit] > quantities["c_prev"][t, 0, unit]
        assert q.choices[q.answer] == ("yes" if grows else "no")
    else:
        likeliest = sim.output_labels[int(np.argmax(sim.trace.probs[t, 0]))]
        assert q.choices[q.answer] == show_char(likeliest) and len(set(q.choices)) == 4


def test_a_step_asks_before_it_shows_and_reveals_after(client) -> None:
    lesson, n, step = ASKING[0]
    q = lesson_questions.question(step)
    asking = client.get(lesson.step_url(n)).text
    assert 'class="predict"' in asking and q.prompt.split("“")[0] in asking
    assert 'class="live"' not in asking  # the picture would give the answer away
    assert asking.count('name="answer"') == len(q.choices)
    for k, choice in enumerate(q.choices):
        assert f"> {choice}<" in asking
        page = client.get(f"{lesson.step_url(n)}?answer={k}").text
        verdict = "right." if k == q.answer else "not this time."
        assert verdict in page and 'class="live"' in page and "Ask me again" in page
        assert q.reveal.replace("&", "&amp;").split("?")[1] in page  # the frame shows the asked unit
    embed = client.get(f"/embed{lesson.step_url(n)}?answer={q.answer}").text
    assert "right." in embed and 'class="live"' in embed


@pytest.mark.parametrize("raw", ["", "9", "-1", "²", "1.0", "x"])
def test_an_answer_that_is_not_a_choice_asks_again(client, raw) -> None:
    lesson, n, _ = ASKING[0]
    reply = client.get(lesson.step_url(n), params={"answer": raw})
    assert reply.status_code == 200 and 'class="predict"' in reply.text and 'class="live"' not in reply.text


def test_a_prediction_needs_a_trained_preset() -> None:
    with pytest.raises(ValueError, match="trained network preset"):
        Step("x", ("text",), "try", Live("cell", {"cell": "lstm", "input": "ab"}), predict="gate:f")
    with pytest.raises(ValueError, match="predict must be one of"):
        Step("x", ("text",), "try", Live("cell", {"preset": "english", "input": "ab"}), predict="gate:z")
    with pytest.raises(ValueError, match="trained network preset"):
        Step("x", ("text",), "try", Live("seq2seq", {"input": "I am"}), predict="next")
