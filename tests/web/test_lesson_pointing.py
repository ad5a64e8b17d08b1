"""Lesson steps point at the drawing: each names a sub-step and a part of the cell that exists in it, and the
page outlines that part."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlparse

import pytest
from fastapi.testclient import TestClient

from app.lessons import LESSONS, find
from app.main import create_app
from app.settings import Settings
from app.web import cell_diagram, substeps
from app.web.simulation import simulate
from app.web.state import ViewState, parse

POINTING = [
    (lesson, n, step) for lesson in LESSONS for n, step in enumerate(lesson.steps, 1) if step.live.state.get("hl")
]


def test_the_lstm_lesson_follows_the_notes_seven_steps_one_sub_step_each():
    lstm = find("lstm")
    assert lstm is not None and len(lstm.steps) == 7
    subs = [step.live.state.get("s") for step in lstm.steps]
    assert subs == [1, 1, 2, 3, 4, 5, 6]
    # The notes' seven parts in their order; the step lists number them (a number in the title would show twice).
    assert [step.title for step in lstm.steps] == [
        "What the cell receives",
        "Forget gate",
        "Input gate",
        "Candidate values",
        "The new cell state",
        "Output gate",
        "The new hidden state",
    ]


@pytest.mark.parametrize("lesson, n, step", POINTING, ids=[f"{lesson.slug}-{n}" for lesson, n, _ in POINTING])
def test_each_pointing_step_names_a_part_drawn_in_its_view(lesson, n, step):
    state = step.live.view_state()
    sim = simulate(state)
    d = cell_diagram.build(sim)
    keys = {o.key for o in d.ops} | {w.key for w in d.wires}
    assert state.hl in keys
    assert 1 <= state.s <= substeps.count(sim.config.cell)
    part = next((o for o in d.ops if o.key == state.hl), None) or next(w for w in d.wires if w.key == state.hl)
    assert part.step <= state.s  # what the text points at is already drawn at that sub-step


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path_factory.mktemp("d"), rate_limit_per_minute=0)))


def test_the_page_outlines_the_named_part_and_marks_the_sub_step(client):
    step = find("lstm").steps[1]
    page = client.get(step.live.embed_url).text
    assert re.search(r'<g class="op block named" data-key="f"', page)
    assert re.search(r'<li class="sub-now" data-s="1" aria-current="step">', page)
    state, errors = parse(dict(parse_qsl(urlparse(step.live.url).query)))
    assert errors == [] and (state.s, state.hl) == (1, "f")


def test_a_bad_part_name_is_refused_inline():
    state, errors = parse({"hl": "<script>"})
    assert state.hl == "" and "hl" in errors[0]
    assert ViewState(hl="f").query() == "hl=f"

