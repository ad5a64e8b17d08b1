"""The Seq2Seq page: ``/seq2seq?<state>`` (app.web.seq2seq_state), swapped whole by htmx when the form
changes.

Stepping happens in the browser (static/js/sim.js marks every element carrying data-t past / current /
future), so a step needs no request; the step is kept in the URL for permalinks."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.web import bottleneck_view, seq2seq, seq2seq_cell, weights_view
from app.web.seq2seq_state import ATTENTIONS, MAX_HIDDEN, MAX_WIDTH, parse
from app.web.state import CELLS, MAX_SEED, ViewState
from app.web.templating import templates
from app.web.views import NAVIGATION_OUTSIDE

router = APIRouter(include_in_schema=False)

def context(request: Request) -> dict:
    names = seq2seq.seq2seq_presets()
    state, errors = parse(request.query_params, names)
    limits, store = request.app.state.settings.limits, request.app.state.store
    view, stored, source_problem = None, None, ""
    try:
        view = seq2seq.build(state, limits, store)
        state = view.state
    except seq2seq.UnknownWordsError as problem:
        source_problem = str(problem)  # shown beside the source field it is about
    except seq2seq.Seq2SeqInputError as problem:
        errors.append(str(problem))
    metas = {name: seq2seq.preset_meta(name) for name in names}
    if state.model:
        with suppress(seq2seq.Seq2SeqInputError):  # build() said why already
            stored = seq2seq.stored_meta(store, state.model)
    shown_meta = stored if state.model else metas.get(state.preset)
    return {
        "request": request,
        "view": "seq2seq",
        "views": NAVIGATION_OUTSIDE,
        "state": ViewState(t=view.state.t if view else 0),  # what the shared player reads
        "keep_query": False,  # the other views have their own state: their links open them afresh
        "s2": state,
        "errors": errors,
        "source_problem": source_problem,
        "sim": view,
        "s2s": view,
        "title": "Encoder-decoder (Seq2Seq)",
        "path": "/seq2seq",
        "presets": [(name, metas[name].get("title", name)) for name in names],
        "examples": seq2seq.examples(shown_meta) if shown_meta else [],
        "stored": stored,
        "cells": CELLS,
        "attentions": ATTENTIONS,
        "limits": {"hidden": min(MAX_HIDDEN, limits.max_hidden_size), "width": MAX_WIDTH, "seed": MAX_SEED},
        "step_labels": view.step_labels if view else [],
        "last_step": view.steps - 1 if view else 0,
        "cellview": seq2seq_cell.build(view) if view and state.panel == "cell" else None,
        "bottleneck": bottleneck_view.comparison(view, limits, store) if view else None,
    }


@router.get("/seq2seq", response_class=HTMLResponse)
def seq2seq_page(request: Request) -> HTMLResponse:
    ctx = context(request)
    response = templates.TemplateResponse(request, "seq2seq.html", ctx)
    if request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request"):
        query = replace(ctx["s2"], input=request.query_params.get("input", "").strip()).query()
        response.headers["HX-Push-Url"] = "/seq2seq" + (f"?{query}" if query else "")
    return response


@router.get("/fragment/seq2seq/cell", response_class=HTMLResponse)
def seq2seq_cell_fragment(request: Request) -> HTMLResponse:
    """Just the cell view of one step (encoder or decoder), swapped into #cellview by sim.js as the step
    changes."""
    ctx = context(request)
    if ctx["sim"] is not None:
        ctx["cellview"] = seq2seq_cell.build(ctx["sim"])
    return templates.TemplateResponse(request, "fragments/cellview.html", {**ctx, "state": ctx["s2"]})


@router.get("/fragment/seq2seq/weights.png")
def seq2seq_weights_png(request: Request) -> Response:
    """One weight matrix (``which``: ih, hh or b) of the cell the URL's step is in, as the cell view's PNG."""
    which = request.query_params.get("which", "")
    if which not in ("ih", "hh", "b"):
        return Response("which must be one of ih, hh, b", status_code=422, media_type="text/plain")
    ctx = context(request)
    if ctx["sim"] is None:
        return Response(" ".join(ctx["errors"]), status_code=422, media_type="text/plain")
    sim, _ = seq2seq_cell.simulation(ctx["sim"])
    return Response(
        weights_view.png(sim, which), media_type="image/png", headers={"Cache-Control": "public, max-age=3600"}
    )
