"""HTML routes of the simulator: one page per view, plus the cell-view fragment fetched when the step changes.

Every page reads its whole state from the query string (app.web.state), so a URL is a permalink. Model changes
arrive as htmx GETs of the same page that swap #sim; stepping happens in the browser (static/js/sim.js) by
switching classes on columns that were all rendered once, so a step needs no request."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.errors import StoreUnavailableError
from app.services.limits import Limits
from app.storage.models import ModelStore
from app.web import (
    cellview,
    evidence,
    gradients,
    heatmaps,
    unrolled,
    whatif,
    whatif_state,
)
from app.web.colors import Scale
from app.web.feedforward import Rolled
from app.web.simulation import (
    PresetChoice,
    Simulation,
    simulate,
    stored_choice,
    supported_presets,
    try_simulate,
)
from app.web.state import (
    ACTIVATIONS,
    CELL_NAMES,
    CELLS,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_SEED,
    MAX_STEPS,
    BadInputError,
    ViewState,
    parse,
)
from app.web.templating import templates
from app.web.views import NAVIGATION

router = APIRouter(include_in_schema=False)

RANDOM_WEIGHT_VIEWS = ("gradients", "compare")  # random weights from the seed, or an evidence set's trio


def step_labels(sim: Simulation) -> list[str]:
    """What the timeline announces for each step, e.g. 'step 3 of 11, input “l”'."""
    return [
        f"step {t} of {sim.steps - 1}, input “{sim.typed[t]}” (unknown to the model: read as “{sim.labels[t]}”)"
        if sim.is_unknown(t)
        else f"step {t} of {sim.steps - 1}, input “{sim.labels[t]}”"
        for t in range(sim.steps)
    ]


def layer_choices(sim: Simulation) -> list[tuple[str, str]]:
    """('layer:direction', label) for every recurrent layer the gate view can show."""
    cfg = sim.config
    arrows = ("left to right", "right to left") if cfg.bidirectional else ("",)
    return [
        (f"{layer}:{d}", f"layer {layer + 1}" + (f", {arrow}" if arrow else ""))
        for layer in range(cfg.num_layers)
        for d, arrow in enumerate(arrows)
    ]


def shown_model(state: ViewState, sim: Simulation | None) -> dict:
    """What the model fields of the form show: the state's choices, or a trained model's own
    configuration."""
    if state.trained and sim is not None:
        cfg = sim.config
        return {
            "cell": cfg.cell,
            "act": cfg.nonlinearity,
            "hidden": cfg.hidden_size,
            "layers": cfg.num_layers,
            "bi": cfg.bidirectional,
            "seed": state.seed,
        }
    return {
        "cell": state.cell,
        "act": state.act,
        "hidden": state.hidden,
        "layers": state.layers,
        "bi": state.bi,
        "seed": state.seed,
    }


def page_limits(limits: Limits) -> dict[str, int]:
    """The form's bounds: the page's own caps (a picture stays readable), within the server's settings."""
    return {
        "hidden": min(MAX_HIDDEN, limits.max_hidden_size),
        "layers": min(MAX_LAYERS, limits.max_layers),
        "seed": MAX_SEED,
        "steps": min(MAX_STEPS, limits.max_steps),
    }


def trained_choice(state: ViewState, store: ModelStore) -> tuple[PresetChoice | None, str | None]:
    """The preset or stored model the state names (None for random weights), or why it cannot be used."""
    try:
        if state.model:
            return stored_choice(store, state.model), None
    except BadInputError as problem:
        return None, str(problem)
    return next((c for c in supported_presets() if c.name == state.preset), None), None


def base_context(request: Request, view: str) -> dict:
    state, errors = parse(request.query_params)
    store, limits = request.app.state.store, request.app.state.settings.limits
    if state.trained and view in RANDOM_WEIGHT_VIEWS:
        if "preset" in request.query_params or "model" in request.query_params:  # not just the default
            which = f"preset “{state.preset}”" if state.preset else "stored model"
            errors.append(
                f"This view compares cells with random weights from the seed, so the {which} is not used here."
            )
        state = replace(state, preset="", model="")
    status = 200
    try:
        choice, problem = trained_choice(state, store)
    except StoreUnavailableError as down:  # the page still runs, on the default model, and says why (a 503)
        choice, problem, status = None, f"The stored model cannot be loaded: {down.message}. Try again soon.", 503
    if problem:
        errors.append(problem)
        state = replace(state, model="")
    elif state.model and choice is not None and "input" not in request.query_params and choice.examples:
        state = replace(state, input=choice.examples[0][1])  # its own kind of input, not "hello world"
    sim, problem = try_simulate(state, store, limits)
    if sim is not None:
        state = sim.state
    if problem:
        errors.append(problem)
    return {
        "request": request,
        "view": view,
        "views": NAVIGATION,
        "state": state,
        "errors": errors,
        "sim": sim,
        "cells": CELLS,
        "cell_names": CELL_NAMES,
        "activations": ACTIVATIONS,
        "limits": page_limits(limits),
        "step_labels": step_labels(sim) if sim else [],
        "layer_choices": layer_choices(sim) if sim else [],
        "shown_model": shown_model(state, sim),
        "presets": supported_presets(),
        "preset": choice,
        "path": {v: p for v, p, _ in NAVIGATION}[view],
        "title": {v: label for v, _, label in NAVIGATION}[view],
        "last_step": sim.steps - 1 if sim else 0,
        "status_code": status,
    }


def render(name: str, context: dict) -> HTMLResponse:
    """The page; for an htmx form swap, also its canonical URL (defaults left out) to push into history."""
    request = context["request"]
    status = context.get("status_code", 200)
    response = templates.TemplateResponse(request, name, context, status_code=status)
    if status == StoreUnavailableError.status:
        response.headers.update(StoreUnavailableError.headers or {})
    if request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request"):
        query = context["state"].query()
        response.headers["HX-Push-Url"] = context["path"] + (f"?{query}" if query else "")
    return response


@router.get("/", response_class=HTMLResponse)
def unrolled_page(request: Request) -> HTMLResponse:
    ctx = base_context(request, "unrolled")
    if ctx["sim"] is not None:
        ctx["diagram"] = unrolled.build(ctx["sim"])
        # The cell is drawn here only when the page opens on it; otherwise sim.js fetches it when it is opened
        # (ahead, when the pointer or focus reaches a column), so the overview does not carry a hidden cell
        # and its weight images.
        ctx["cellview"] = cellview.build(ctx["sim"]) if ctx["state"].panel == "cell" else None
        ctx["rolled"] = Rolled(CELL_NAMES[ctx["sim"].config.cell])
    return render("unrolled.html", ctx)


def cell_context(request: Request) -> dict:
    ctx = base_context(request, "cell")
    if ctx["sim"] is not None:
        ctx["cellview"] = cellview.build(ctx["sim"])
    return ctx


@router.get("/cell", response_class=HTMLResponse)
def cell_page(request: Request) -> HTMLResponse:
    return render("cell.html", cell_context(request))


@router.get("/fragment/cell", response_class=HTMLResponse)
def cell_fragment(request: Request) -> HTMLResponse:
    """Just the cell view of one step, swapped into #cellview by sim.js when the step changes."""
    return render("fragments/cellview.html", cell_context(request))


@router.get("/heatmaps", response_class=HTMLResponse)
def heatmaps_page(request: Request) -> HTMLResponse:
    ctx = base_context(request, "heatmaps")
    sim = ctx["sim"]
    if sim is not None:
        ctx["heatmaps"] = heatmaps.heatmaps(sim)
        ctx["chart"] = heatmaps.unit_chart(sim, sim.state.unit) if sim.state.unit is not None else None
    return render("heatmaps.html", ctx)


def with_evidence(ctx: dict) -> dict:
    """A gradients or compare page on an evidence set's trained trio (state.evidence): the three runs, and
    the LSTM's run as the page's simulation (the player steps through its sequence). When the set's presets
    are missing the page says so and falls back to random weights."""
    state: ViewState = ctx["state"]
    try:
        found = evidence.build(state.evidence, state.seed)
    except KeyError as missing:
        ctx["errors"].append(f"The trained models are not available: {missing.args[0]}.")
        ctx["state"] = replace(state, evidence="")
        return ctx
    shown = found.members[1].run
    state = replace(state, t=min(state.t, shown.steps - 1))
    ctx.update(
        evidence=found,
        state=state,
        sim=shown,
        step_labels=step_labels(shown),
        last_step=shown.steps - 1,
    )
    return ctx


def gradients_context(request: Request) -> dict:
    ctx = base_context(request, "gradients")
    if ctx["state"].evidence:
        ctx = with_evidence(ctx)
    if ctx.get("evidence") is None and ctx["sim"] is not None:
        ctx["chart"] = gradients.build(ctx["sim"], request.app.state.settings.limits)
    return ctx


@router.get("/gradients", response_class=HTMLResponse)
def gradients_page(request: Request) -> HTMLResponse:
    return render("gradients.html", gradients_context(request))


def compare_context(request: Request) -> dict:
    ctx = base_context(request, "compare")
    if ctx["state"].evidence:
        ctx = with_evidence(ctx)
    found = ctx.get("evidence")
    sim = ctx["sim"]
    if found is not None:
        titled = [(m.title, m.run) for m in found.members]
    elif sim is not None:
        limits = request.app.state.settings.limits
        titled = [(CELL_NAMES[c], simulate(replace(sim.state, cell=c), limits=limits)) for c in CELLS]
    else:
        titled = []
    if titled:
        # One hidden-state scale for all three, so the same colour means the same number in each picture.
        shared = Scale.for_values([v for _, other in titled for v in unrolled.all_quantity_values(other, "h")])
        ctx["diagrams"] = [(name, unrolled.build(other, shared)) for name, other in titled]
        ctx["shared_scale"] = shared
    return ctx


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request) -> HTMLResponse:
    return render("compare.html", compare_context(request))


@router.get("/whatif", response_class=HTMLResponse, response_model=None)
def whatif_page(request: Request) -> HTMLResponse | RedirectResponse:
    """The what-if page; its form's fields (wt, wu, ws, wv, wx) are turned into ``iv`` and redirected to, so
    the URL in the address bar is the short, shareable one."""
    query = request.query_params
    from_form = whatif_state.form_iv(query)
    if from_form is not None:
        state, _ = parse(query)
        rest = state.query(panel="")
        target = f"{request.url.path}?{rest + '&' if rest else ''}iv={whatif_state.quote_iv(from_form)}"
        return RedirectResponse(target, status_code=303)
    return render("whatif.html", whatif_context(request))


def whatif_context(request: Request) -> dict:
    ctx = base_context(request, "whatif")
    if ctx["sim"] is not None:
        settings = request.app.state.settings
        iv = request.query_params.get("iv")
        ctx["whatif"], problems = whatif.build(ctx["sim"], iv, request.app.state.store, settings.limits)
        ctx["errors"] = ctx["errors"] + problems
        rest = ctx["state"].query(panel="")
        ctx["clear_href"] = f"{request.url.path}?{rest + '&' if rest else ''}iv="
    return ctx

