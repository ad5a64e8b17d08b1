"""Lesson pages, trained-model pages, and their embed forms.

    /lessons                          the course: every lesson with its steps
    /lessons/<slug>                   -> its first step
    /lessons/<slug>/<n>               step n (1-based): the text beside a frame of the live state it names
    /presets/<name>?sample=k&t=n      a trained network preset on one of its task's samples
    /presets/<name>/cell?sample&t     the gate view of one step of a network preset (fetched by sim.js)
    /embed/lessons/<slug>/<n>, /embed/presets/<name>   the same with minimal chrome, for an iframe

The simulator's views live in app.web.routes and app.web.seq2seq_routes, their /embed forms in app.web.embed;
app.web.router puts them all together.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app import lessons as course
from app.http.security import embed_url
from app.lessons.trained import PresetError, at_step, run_preset, sample_names
from app.web import cellview, lesson_questions, unrolled
from app.web.query import whole_number
from app.web.state import MAX_STEPS, ViewState
from app.web.templating import templates
from app.web.views import NAVIGATION

router = APIRouter(include_in_schema=False)


def page_context(request: Request, view: str, title: str, **extra) -> dict:
    """What base.html needs (navigation with a default state, no errors) plus the page's own values."""
    return {
        "request": request,
        "view": view,
        "views": NAVIGATION,
        "state": ViewState(),
        "errors": [],
        "title": title,
        "path": request.url.path,
        **extra,
    }


def int_param(request: Request, name: str, default: int = 0, hi: int = MAX_STEPS) -> int:
    """A small non-negative whole number from the query; anything else falls back to ``default``."""
    value = whole_number(request.query_params.get(name))
    return value if value is not None and 0 <= value <= hi else default


def find_step(slug: str, n: int) -> course.Lesson:
    """The lesson ``slug`` when it has a step ``n`` (1-based); 404 otherwise."""
    lesson = course.find(slug)
    if lesson is None:
        raise HTTPException(404, f"There is no lesson called “{slug}”.")
    if not 1 <= n <= len(lesson.steps):
        raise HTTPException(404, f"“{lesson.title}” has steps 1 to {len(lesson.steps)}.")
    return lesson


@router.get("/lessons", response_class=HTMLResponse)
def lessons_index(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "lessons/index.html", page_context(request, "lessons", "Lessons", lessons=course.LESSONS)
    )


@router.get("/lessons/{slug}")
def lesson_start(slug: str) -> RedirectResponse:
    lesson = find_step(slug, 1)
    return RedirectResponse(lesson.step_url(1), status_code=307)


def step_context(request: Request, slug: str, n: int, prefix: str) -> dict:
    lesson = find_step(slug, n)
    before, after = course.neighbours(lesson)
    step = lesson.steps[n - 1]
    asked = lesson_questions.question(step)
    given = lesson_questions.answer_given(request.query_params.get("answer"), asked) if asked else None
    return page_context(
        request,
        "lessons",
        lesson.title,
        lesson=lesson,
        step=step,
        n=n,
        prefix=prefix,
        number=course.LESSONS.index(lesson) + 1,
        previous_lesson=before,
        next_lesson=after,
        full_page=lesson.step_url(n),
        question=asked,
        given=given,
        reveal_embed=embed_url(asked.reveal) if asked else None,
    )


@router.get("/lessons/{slug}/{n}", response_class=HTMLResponse)
def lesson_step(request: Request, slug: str, n: int) -> HTMLResponse:
    return templates.TemplateResponse(request, "lessons/step.html", step_context(request, slug, n, ""))


@router.get("/embed/lessons/{slug}/{n}", response_class=HTMLResponse)
def lesson_step_embed(request: Request, slug: str, n: int) -> HTMLResponse:
    return templates.TemplateResponse(request, "embed/lesson.html", step_context(request, slug, n, "/embed"))


def preset_context(request: Request, name: str, prefix: str) -> dict:
    """The context of a trained network preset's page (encoder-decoder presets have the /seq2seq view)."""
    sample, t = int_param(request, "sample", hi=10**6), int_param(request, "t")
    unit = int_param(request, "unit", default=-1, hi=10**6)
    try:
        run = at_step(run_preset(name, sample), t, unit if unit >= 0 else None)
    except PresetError as problem:
        raise HTTPException(404, str(problem)) from None
    return page_context(
        request,
        "preset",
        run.title,
        sim=run,
        state=run.state,
        preset=name,
        samples=sample_names(name),
        diagram=unrolled.build(run),
        cellview=cellview.build(run),
        prefix=prefix,
        step_labels=[f"step {k} of {run.steps - 1}, input “{run.labels[k]}”" for k in range(run.steps)],
        last_step=run.steps - 1,
        full_page=f"/presets/{name}" + (f"?{request.url.query}" if request.url.query else ""),
    )


@router.get("/presets/{name}", response_class=HTMLResponse)
def preset_page(request: Request, name: str) -> HTMLResponse:
    return templates.TemplateResponse(request, "lessons/trained.html", preset_context(request, name, ""))


@router.get("/embed/presets/{name}", response_class=HTMLResponse)
def preset_embed(request: Request, name: str) -> HTMLResponse:
    context = preset_context(request, name, "/embed")
    context.update(page_template="lessons/trained.html", keep_intro=True)
    return templates.TemplateResponse(request, "embed/view.html", context)


@router.get("/presets/{name}/cell", response_class=HTMLResponse)
def preset_cell_fragment(request: Request, name: str) -> HTMLResponse:
    """The gate view of one step of a network preset, swapped into #cellview by sim.js on each step."""
    return templates.TemplateResponse(request, "fragments/cellview.html", preset_context(request, name, ""))
