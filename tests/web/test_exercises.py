"""Predict-then-reveal exercises: generated from real traces, deterministic from the seed, scored by the server."""

from __future__ import annotations

from urllib.parse import parse_qsl

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.web import exercises
from app.web.simulation import simulate
from app.web.state import ViewState, parse


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path_factory.mktemp("data"), rate_limit_per_minute=0)))


def answers_query(ex: exercises.ExerciseSet, right: int) -> str:
    """All questions answered, the first ``right`` of them correctly."""
    picks = [q.answer if k < right else (q.answer + 1) % len(q.choices) for k, q in enumerate(ex.questions)]
    return "&".join(f"a{q.number}={a}" for q, a in zip(ex.questions, picks, strict=True))


@pytest.mark.parametrize("seed", [0, 1, 2, 17, 2**32 - 1])
def test_every_answer_is_read_off_the_trace_the_question_names(seed):
    ex = exercises.build(seed)
    assert ex == exercises.build(seed)  # deterministic
    assert [q.kind for q in ex.questions] == list(exercises.KINDS)
    for q in ex.questions:
        path, _, query = q.reveal.partition("?")
        state, errors = parse(dict(parse_qsl(query)))
        assert errors == [] and state.input == ex.sentence
        sim = simulate(state)
        quantities = sim.trace.layers[0][0].quantities()
        if q.kind == "gate":
            gate = state.hl
            value = quantities[gate][state.t, 0, state.unit]
            assert q.choices[q.answer] == ("yes" if value > 0.5 else "no")
            assert abs(value - 0.5) >= exercises.CLEAR_MARGIN
            assert state.s == exercises.GATES[gate][1] and path == "/cell"
        elif q.kind == "memory":
            c, c_prev = (quantities[k][state.t, 0, state.unit] for k in ("c", "c_prev"))
            assert q.choices[q.answer] == ("yes" if c > c_prev else "no")
            assert state.s == 4 and state.hl == "add_c"
        else:
            probs = sim.trace.probs[state.t, 0]
            best = sim.output_labels[int(np.argmax(probs))]
            assert q.choices[q.answer] == (best if best != " " else "␣") and len(set(q.choices)) == 4
            assert path == "/" and f"“{ex.sentence[: state.t + 1]}”" in q.prompt


def test_different_seeds_ask_different_questions():
    prompts = {tuple(q.prompt for q in exercises.build(seed).questions) for seed in range(8)}
    assert len(prompts) == 8


def test_the_page_asks_first_and_reveals_only_what_was_committed(client):
    ex = exercises.build(3)
    page = client.get("/exercises?seed=3").text
    assert page.count('type="radio"') == sum(len(q.choices) for q in ex.questions)
    assert all(q.why not in page for q in ex.questions)  # nothing is given away before a commit
    first = ex.questions[0]
    page = client.get(f"/exercises?seed=3&a1={first.answer}").text
    assert first.why in page and "You said" in page and "1 of 5 answered, 1 right." in page
    assert all(q.why not in page for q in ex.questions[1:])
    # The open questions' forms carry the committed answer on, so the next commit keeps it.
    assert page.count(f'<input type="hidden" name="a1" value="{first.answer}">') == 4
    assert 'iframe src="/embed' in page and "The answer on the picture" in page


@pytest.mark.parametrize("right", [0, 2, 5])
def test_a_finished_set_is_scored_by_the_server(client, right):
    ex = exercises.build(9)
    page = client.get(f"/exercises?seed=9&{answers_query(ex, right)}").text
    assert f"Score: {right} of 5." in page
    assert exercises.score(ex, {q.number: q.answer for q in ex.questions[:right]}) == right


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("seed=²", "The seed must be a whole number"),
        ("seed=-1", "The seed must be a whole number"),
        ("seed=1&a2=7", "Question 2: “7” is not one of its choices"),
        ("seed=1&a2=yes", "Question 2: “yes” is not one of its choices"),
        ("seed=1&lti_launch=%3Cscript%3E", "launch id cannot be read"),
    ],
)
def test_bad_query_values_are_named_inline_and_the_page_still_works(client, query, message):
    r = client.get(f"/exercises?{query}")
    assert r.status_code == 422 and message in r.text and 'type="radio"' in r.text
    assert "<script>" not in r.text


def test_the_embed_form_keeps_its_forms_and_links_in_the_frame(client):
    page = client.get("/embed/exercises?seed=4&a1=0").text
    assert 'action="/embed/exercises#q2"' in page and 'href="/embed/exercises?seed=5"' in page
    assert 'id="model"' not in page and "Five questions on the trained English model" in page


def test_exercise_sets_are_offered_to_teachers_in_the_lti_picker():
    from app.lti.targets import choices, target_url

    offered = [c.url for c in choices() if c.group == "Exercises"]
    assert offered and all(target_url({"unrolled_url": url}) == url for url in offered)
    assert ViewState().query() == ""  # the exercises' reveal links leave the default model out
