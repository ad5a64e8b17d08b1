"""Embed forms of the simulator's views: ``/embed?<query>`` (the unrolled view) and ``/embed/<view>?<query>``
(cell, heatmaps, gradients, compare, seq2seq, exercises) show the same state as the full page for the same query, with
minimal chrome, for an iframe in a course page (Moodle, Canvas, Open edX).

The view's own route builds the page (so an embed always matches the full page); this module only swaps the
template for ``embed/view.html``, which extends the view's template and replaces its header, model form and
footer with a one-line bar holding an "open in a new tab" link. Nothing depends on cookies or storage: the
state is the URL. Framing is allowed by app.http.security's CSP frame-ancestors for paths under /embed, and
static/js/embed.js reports the page's height to the parent (Canvas's ``lti.frameResize`` message).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from app.web import exercise_routes, routes, seq2seq_routes
from app.web.templating import templates
from app.web.views import VIEW_PATHS

router = APIRouter(include_in_schema=False)


#: The route function that builds each view's full page.
PAGE_FUNCTIONS: dict[str, Callable[[Request], HTMLResponse]] = {
    "unrolled": routes.unrolled_page,
    "cell": routes.cell_page,
    "heatmaps": routes.heatmaps_page,
    "gradients": routes.gradients_page,
    "compare": routes.compare_page,
    "seq2seq": seq2seq_routes.seq2seq_page,
    "exercises": exercise_routes.exercises_page,
    "whatif": routes.whatif_page,  # type: ignore[dict-item]  # it may redirect (the form's fields to a short URL)
}


def full_url(path: str, query: str) -> str:
    return path + (f"?{query}" if query else "")


def state_summary(context: dict) -> str:
    """The model and input of a view's state in one line, since an embed hides the model form."""
    if context.get("view") == "exercises":
        ex = context["exercises"]
        return f"{len(ex.questions)} questions on trained models, the English one reading “{ex.sentence}”"
    if context.get("view") == "seq2seq":
        run = context.get("s2s")
        return f"{run.title}, source “{' '.join(run.source)}”" if run is not None else ""
    state = context["state"]
    if context.get("evidence") is not None:
        return context["evidence"].summary
    if getattr(state, "model", "") and context.get("preset") is not None:
        sim = context.get("sim")
        size = f" ({sim.config.cell.upper()}, hidden size {sim.config.hidden_size})" if sim is not None else ""
        return f"Trained model “{context['preset'].title}”{size}, input “{state.input}”"
    if getattr(state, "preset", ""):
        return f"Trained model “{state.preset}”, input “{state.input}”"
    cell = {"rnn": f"RNN ({state.act})", "lstm": "LSTM", "gru": "GRU"}.get(state.cell, state.cell)
    layers = f", {state.layers} layers" if state.layers > 1 else ""
    bi = ", bidirectional" if state.bi else ""
    return f"{cell}, {state.hidden} hidden units{layers}{bi}, seed {state.seed}, input “{state.input}”"


def embed_page(request: Request, view: str) -> HTMLResponse:
    if view not in PAGE_FUNCTIONS:
        raise HTTPException(404, f"no simulator view called {view!r}")
    page = PAGE_FUNCTIONS[view](request)
    if not hasattr(page, "context"):  # a redirect (the what-if form's fields to its short URL)
        return page
    context = dict(page.context)  # type: ignore[attr-defined]
    context.update(
        page_template=page.template.name,  # type: ignore[attr-defined]
        full_page=full_url(VIEW_PATHS[view], request.url.query),
        embed_summary=state_summary(context),
        path=request.url.path,  # forms inside the view (e.g. the unit picker) stay in the embed form
    )
    return templates.TemplateResponse(request, "embed/view.html", context, status_code=page.status_code)


@router.get("/embed", response_class=HTMLResponse)
def embed_unrolled(request: Request) -> HTMLResponse:
    return embed_page(request, "unrolled")


@router.get("/embed/{view}", response_class=HTMLResponse)
def embed_view(request: Request, view: str) -> HTMLResponse:
    return embed_page(request, view)
