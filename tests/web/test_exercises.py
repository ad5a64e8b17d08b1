"""Predict-then-reveal exercises: generated from real traces, deterministic from the seed, scored by the server."""

from __future__ import annotations

from urllib.parse import parse_qsl

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.web import evidence, exercises, seq2seq
from app.web.math_text import html_subscripts
from app.web.seq2seq_state import parse as parse_seq2seq
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
    assert [q.number for q in ex.questions] == list(range(1, exercises.COUNT + 1))
    for q in ex.questions:
        path, _, query = q.reveal.partition("?")
        if q.kind in exercises.COMPARING:
            continue  # test_the_comparison_questions_are_read_off_their_models
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


@pytest.mark.parametrize("seed", [0, 1, 5, 2**32 - 1])
def test_the_comparison_questions_are_read_off_their_models(seed):
    keeps, write = (q for q in exercises.build(seed).questions if q.kind in exercises.COMPARING)
    # Which cell keeps the marker: the larger ||dy_T/dx_t*|| at the first marked step, the view's own numbers.
    path, _, query = keeps.reveal.partition("?")
    state, errors = parse(dict(parse_qsl(query)))
    assert path == "/gradients" and errors == [] and state.evidence == exercises.EVIDENCE
    found = evidence.build(state.evidence, state.seed)
    assert state.t == found.marked[0] and "adding problem" in keeps.prompt
    named = {f"the {m.title.split()[0]}": m.influence[state.t] for m in found.members}
    asked = {c: named[c] for c in keeps.choices if c in named}
    assert len(asked) == 2
    (big, v_big), (_, v_small) = sorted(asked.items(), key=lambda kv: -kv[1])
    expected = big if v_big >= 10 * v_small else keeps.choices[-1]
    assert keeps.choices[keeps.answer] == expected
    # Which word the decoder writes: the argmax of its step's probabilities, on one of the task's sentences.
    path, _, query = write.reveal.partition("?")
    s2s, errors = parse_seq2seq(dict(parse_qsl(query)), (exercises.TRANSLATOR,))
    assert path == "/seq2seq" and errors == []
    run = seq2seq.build(s2s)
    assert s2s.input in seq2seq.examples(seq2seq.preset_meta(exercises.TRANSLATOR))
    k = s2s.t - len(run.encoder)
    assert 0 <= k < max(1, len(run.decoder) - 1)
    assert write.choices[write.answer] == run.decoder[k].output and len(set(write.choices)) == 4


def test_different_seeds_ask_different_questions():
    prompts = {tuple(q.prompt for q in exercises.build(seed).questions) for seed in range(8)}
    assert len(prompts) == 8


def test_the_page_asks_first_and_reveals_only_what_was_committed(client):
    ex = exercises.build(3)
    page = client.get("/exercises?seed=3").text
    assert page.count('type="radio"') == sum(len(q.choices) for q in ex.questions)
    whys = [str(html_subscripts(q.why)) for q in ex.questions]  # as the page typesets them
    assert all(why not in page for why in whys)  # nothing is given away before a commit
    first = ex.questions[0]
    page = client.get(f"/exercises?seed=3&a1={first.answer}").text
    assert whys[0] in page and "You said" in page and f"1 of {exercises.COUNT} answered, 1 right." in page
    assert all(why not in page for why in whys[1:])
    # The open questions' forms carry the committed answer on, so the next commit keeps it.
    assert page.count(f'<input type="hidden" name="a1" value="{first.answer}">') == exercises.COUNT - 1
    assert 'iframe src="/embed' in page and "The answer on the picture" in page


@pytest.mark.parametrize("right", [0, 2, exercises.COUNT])
def test_a_finished_set_is_scored_by_the_server(client, right):
    ex = exercises.build(9)
    page = client.get(f"/exercises?seed=9&{answers_query(ex, right)}").text
    assert f"Score: {right} of {exercises.COUNT}." in page
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
    assert (
        'id="model"' not in page and f"{exercises.COUNT} questions on trained models, the English one" in page
    )


def test_exercise_sets_are_offered_to_teachers_in_the_lti_picker():
    from app.lti.targets import choices, target_url

    offered = [c.url for c in choices() if c.group == "Exercises"]
    assert offered and all(target_url({"unrolled_url": url}) == url for url in offered)
    assert ViewState().query() == ""  # the exercises' reveal links leave the default model out
