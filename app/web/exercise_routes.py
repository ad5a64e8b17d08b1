"""/exercises: predict-then-reveal questions on the trained model, scored by the server.

    GET /exercises?seed=S&a1=..&a7=[&lti_launch=ID]      (and /embed/exercises, for a frame)

The seed names the set (app.web.exercises); a<n> is the choice committed for question n. Each question is a
form of its own that submits the answers so far plus its own, so the page works without JavaScript and the URL
holds the whole attempt: reload or share it and the same answers are revealed. Nothing about the student is
stored. Opened from an LMS launch (lti_launch=ID), the score of a finished set is computed here, from the answers,
and posted once to the launch's gradebook column (app.lti.ags); a score is never taken from the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.http.security import embed_url
from app.lti import ags
from app.lti.errors import LtiError
from app.lti.targets import LAUNCH_PARAM
from app.web import exercises
from app.web.lessons import page_context
from app.web.query import whole_number
from app.web.templating import templates

router = APIRouter(include_in_schema=False)
DEFAULT_SEED = 1


@dataclass(frozen=True)
class Attempt:
    seed: int
    answers: dict[int, int]  # question number -> choice index
    launch: str | None
    errors: tuple[str, ...]


def read_seed(request: Request) -> tuple[int, str | None]:
    """The set's seed from the query (the default set when there is none), or the default and why."""
    raw = request.query_params.get("seed")
    if raw is None or raw == "":
        return DEFAULT_SEED, None
    seed = whole_number(raw)
    if seed is None or not 0 <= seed <= exercises.MAX_SEED:
        limit = exercises.MAX_SEED
        return DEFAULT_SEED, f"The seed must be a whole number from 0 to {limit}; this is set {DEFAULT_SEED}."
    return seed, None


def read_attempt(request: Request, ex: exercises.ExerciseSet, seed_error: str | None) -> Attempt:
    """The committed answers and the launch from the query; what cannot be read is named, not used."""
    query = request.query_params
    errors = [seed_error] if seed_error else []
    answers = {}
    for q in ex.questions:
        raw = query.get(f"a{q.number}")
        if raw is None or raw == "":
            continue
        value = whole_number(raw)
        if value is None or not 0 <= value < len(q.choices):
            errors.append(f"Question {q.number}: “{raw[:20]}” is not one of its choices, so it is still open.")
            continue
        answers[q.number] = value
    launch = query.get(LAUNCH_PARAM) or None
    if launch is not None and (len(launch) > 100 or not launch.replace("-", "").replace("_", "").isalnum()):
        errors.append("The course link's launch id cannot be read, so no score goes to the gradebook.")
        launch = None
    return Attempt(ex.seed, answers, launch, tuple(errors))


def post_score(request: Request, attempt: Attempt, right: int) -> str:
    """Send a finished set's score to the launch's gradebook column (once per launch and set) and say what
    happened, in a sentence for the page."""
    lti = request.app.state.lti
    assert attempt.launch is not None
    try:
        recorded = ags.submit_score(
            lti.store, lti.keys, attempt.launch, f"exercises-{attempt.seed}", float(right), float(exercises.COUNT)
        )
    except LtiError as problem:
        return f"The score could not be sent to the course: {problem.reason}"
    if recorded.status == "posted" and recorded.score != right:
        return (
            f"Your first finished attempt at this set went to the course's gradebook: {recorded.score:g} of "
            f"{recorded.maximum:g}. A set is graded once; another set is a new attempt."
        )
    if recorded.status == "posted":
        return f"Sent to the course's gradebook: {recorded.score:g} of {recorded.maximum:g}."
    if recorded.status == "local":
        return "This activity has no gradebook column, so the score stays on this page."
    return f"The gradebook did not take the score ({recorded.detail}); your teacher can see this attempt."


@router.get("/exercises", response_class=HTMLResponse)
def exercises_page(request: Request) -> HTMLResponse:
    seed, seed_error = read_seed(request)
    ex = exercises.build(seed)
    attempt = read_attempt(request, ex, seed_error)
    right = exercises.score(ex, attempt.answers)
    finished = len(attempt.answers) == len(ex.questions)
    keep = {LAUNCH_PARAM: attempt.launch} if attempt.launch else {}
    context = page_context(
        request,
        "exercises",
        "Predict, then reveal",
        exercises=ex,
        attempt=attempt,
        right=right,
        finished=finished,
        sent=post_score(request, attempt, right) if finished and attempt.launch else None,
        launch_param=LAUNCH_PARAM,
        on_sentence=len(exercises.ON_THE_SENTENCE),
        another=f"?{urlencode({'seed': (seed + 1) % (exercises.MAX_SEED + 1), **keep})}",
        again=f"?{urlencode({'seed': seed, **keep})}",
        previews={q.number: embed_url(q.reveal) for q in ex.questions},
        errors=list(attempt.errors),
    )
    return templates.TemplateResponse(request, "exercises.html", context, status_code=422 if attempt.errors else 200)
