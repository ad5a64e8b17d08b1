"""Predict-then-reveal inside a lesson step: the question a step asks before its picture is shown.

The question is built from the real trace of the step's own live state (a trained preset), about the step it
shows, by the same builders as the exercises page (app.web.exercises), so its answer and its "why" are read off
the model's numbers, never typed in. Which unit it asks about is read off the trace too: the one whose value is
clearest at that step (farthest from 0.5 for a gate, the largest change for the memory), so no question is a
coin flip. The picture revealed after the answer is the view at that unit. Two kinds compare trained models
instead: which cell keeps a marked input longer (app.web.keeps_question, on an evidence set) and which word the
trained decoder writes next (app.web.decoder_question).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from app.lessons.model import Step
from app.web import exercises
from app.web.decoder_question import write_question
from app.web.keeps_question import keeps_question
from app.web.query import whole_number
from app.web.question import Question
from app.web.seq2seq_state import Seq2SeqState
from app.web.simulation import simulate
from app.web.state import ViewState


def question(step: Step) -> Question | None:
    """The step's question, or None for a step that asks nothing."""
    if not step.predict:
        return None
    state = step.live.view_state()
    if isinstance(state, Seq2SeqState):
        return _write_question(state)
    if step.compared_cells:
        return _keeps_question(state.evidence, state.seed, step.compared_cells)
    return _question(state, step.predict)


@lru_cache(maxsize=16)
def _write_question(state: Seq2SeqState) -> Question:
    return write_question(state)


@lru_cache(maxsize=16)
def _keeps_question(name: str, seed: int, cells: tuple[str, ...]) -> Question:
    return keeps_question(name, seed, cells)


@lru_cache(maxsize=64)
def _question(state: ViewState, predict: str) -> Question:
    sim = simulate(state)
    t = sim.state.t
    kind, _, gate = predict.partition(":")
    if kind == "gate":
        return exercises.gate_question_at(1, sim, gate, t, exercises.clearest_gate_unit(sim, gate, t))
    if kind == "memory":
        return exercises.memory_question_at(1, sim, t, exercises.clearest_memory_unit(sim, t))
    return exercises.next_question_at(1, sim, t, np.random.default_rng(t))  # the same choices every time


def answer_given(raw: str | None, q: Question) -> int | None:
    """The index of the choice the query's ``answer`` names, or None (unanswered, or not one of the choices)."""
    k = whole_number(raw)
    return k if k is not None and 0 <= k < len(q.choices) else None
