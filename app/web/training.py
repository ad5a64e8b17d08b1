"""The Training view: train a built-in task's model on the server, watch its loss and held-out metric.

    /train?task=&seed=&steps=&cell=&hidden=&layers=&job=
                                        the form (the task's default model, or another cell and size), and
                                        (with job) the run's curves, table and status
    POST /train                         start a run through the server's training jobs (app.services.training), then 303
                                        to the page of that job (so the URL names the run)
    POST /train/stop                    ask the run to stop after its current step, then 303 back
    GET  /train/live?job=               the curves, table and status only: static/js/training.js fetches it
                                        again as GET /api/v1/training/{id}/events streams progress (SSE)
    /embed/train, POST /embed/train, POST /embed/train/stop
                                        the same with minimal chrome, for an iframe in a course page: its form
                                        posts back under /embed (the only paths a page may frame) and its
                                        links open the embed forms of the other views

Each step's Progress carries the minibatch loss L_t; every ``eval_every`` steps also the task's metric on a
fixed held-out batch. The curves plot both against the step, on a linear axis from min(0, min y) to max y:

    x(step) = x0 + (x1 - x0) * step / planned_steps,   y(v) = y1 - (y1 - y0) * (v - lo) / (hi - lo)

Runs are bounded by the job manager (its step, time, size and concurrency limits, the server's configured
ones) and here by MAX_STEPS and TIME_BUDGET. A finished run's weights are in the model store
(result_id), and "step through" opens them: a network in the simulator (``/?model=<id>``), an encoder-decoder in
the Seq2Seq view (``/seq2seq?model=<id>``).
"""

from __future__ import annotations

import math
import re
from contextlib import suppress
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.errors import ApiError
from app.http.security import EMBED_PREFIX, embed_url
from app.services.limits import Limits
from app.web.embed import full_url
from app.web.query import whole_number
from app.web.seq2seq_state import Seq2SeqState
from app.web.state import CELLS, MAX_SEED, ViewState
from app.web.templating import templates
from app.web.views import NAVIGATION_OUTSIDE

MAX_STEPS = 2000
TIME_BUDGET = 60.0  # seconds per run from this page
EMBED_TRAIN = EMBED_PREFIX + "/train"
MAX_POINTS = 300  # loss points drawn; the table keeps every evaluation
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class TrainForm:
    task: str = "sentiment"
    seed: int = 0
    steps: int = 0  # 0: the task's recommended number of steps (capped at MAX_STEPS)
    job: str = ""
    cell: str = ""  # '', 0: the task's default model's cell, hidden size, layers
    hidden: int = 0
    layers: int = 0
    until: str = "target"  # or "steps": train for the whole step budget, past the task's target

    def model(self) -> dict[str, Any]:
        """The changes to the task's default model, as POST /api/v1/training's ``model`` takes them."""
        return {
            "cell": self.cell or None,
            "hidden_size": self.hidden or None,
            "num_layers": self.layers or None,
        }

    def query(self, **changes: Any) -> str:
        values = {**self.__dict__, **changes}
        default = TrainForm()
        return urlencode([(k, v) for k, v in values.items() if v != getattr(default, k)])


@lru_cache(maxsize=1)
def tasks() -> dict[str, dict[str, Any]]:
    """Every built-in task, described, with its default model's cell and size."""
    from core.tasks import get_task, list_tasks

    described = {}
    for d in list_tasks():
        cfg = get_task(d["name"]).default_config()
        described[d["name"]] = {
            **d,
            "cell": cfg.cell,
            "hidden": cfg.hidden_size,
            "layers": cfg.num_layers,
            "seq2seq": d.get("model") == "seq2seq",
            "metric_label": d["metric"].replace("_", " "),
        }
    return described


#: When a run from the page stops (besides the time budget and a Stop): at the task's target or the step
#: budget, whichever comes first, or only at the step budget (to watch the loss go on falling past the target).
UNTIL = {"target": "the target or the step budget", "steps": "the step budget only"}


def recommended_steps(task: str, limits: Limits | None = None) -> int:
    return min(int(tasks()[task]["training"].get("steps", 500)), step_limit(limits or Limits()))


def step_limit(limits: Limits) -> int:
    """Steps a run from this page may take: the page's own cap within the server's setting."""
    return min(MAX_STEPS, limits.max_train_steps)


def parse(values, limits: Limits | None = None) -> tuple[TrainForm, list[str]]:
    """Read query or form values; anything unusable becomes a message and keeps its default. Sizes are
    checked against the server's configured ``limits``."""
    limits = limits or Limits()
    errors: list[str] = []
    found: dict[str, Any] = {}
    task = values.get("task")
    if task:
        if task in tasks():
            found["task"] = task
        else:
            errors.append(f"There is no task “{task}” (choose one from the list).")
    for name, lo, hi, label in (
        ("seed", 0, MAX_SEED, "Seed"),
        ("steps", 1, step_limit(limits), "Steps"),
        ("hidden", 1, limits.max_hidden_size, "Hidden size"),
        ("layers", 1, limits.max_layers, "Layers"),
    ):
        raw = (values.get(name) or "").strip()
        if raw:
            value = whole_number(raw)
            if value is not None and lo <= value <= hi:
                found[name] = value
            else:
                errors.append(f"{label} must be a whole number from {lo} to {hi}.")
    cell = values.get("cell")
    if cell:
        if cell in CELLS:
            found["cell"] = cell
        else:
            errors.append(f"Cell must be one of {', '.join(CELLS)}.")
    until = values.get("until")
    if until:
        if until in UNTIL:
            found["until"] = until
        else:
            errors.append("Stop at must be “target” (the target or the step budget) or “steps” (the step budget).")
    job = values.get("job") or ""
    if job:
        if JOB_ID.match(job):
            found["job"] = job
        else:
            errors.append("That training run id is not valid.")
    form = TrainForm(**found)
    return form, errors


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the plot area
    points: str  # the polyline
    marks: tuple[tuple[float, float, str], ...]  # circles with their value as a tooltip
    y_ticks: tuple[tuple[float, str], ...]
    x_ticks: tuple[tuple[float, str], ...]


def chart(title: str, steps: list[int], values: list[float], planned: int, marks: bool) -> Chart:
    """A line chart of values over steps 0..planned (the axis does not move as the run grows)."""
    width, height = 520, 200
    x0, y0, x1, y1 = 56, 12, width - 12, height - 30
    pairs = [(s, v) for s, v in zip(steps, values, strict=True) if math.isfinite(v)]
    lo = min([0.0, *(v for _, v in pairs)])
    hi = max([v for _, v in pairs], default=1.0)
    hi = hi if hi > lo else lo + 1.0
    span = max(planned, max((s for s, _ in pairs), default=1), 1)

    def xy(step: int, v: float) -> tuple[float, float]:
        return round(x0 + (x1 - x0) * step / span, 1), round(y1 - (y1 - y0) * (v - lo) / (hi - lo), 1)

    coords = [xy(s, v) for s, v in pairs]
    return Chart(
        title,
        width,
        height,
        (x0, y0, x1, y1),
        " ".join(f"{x},{y}" for x, y in coords),
        tuple((x, y, f"step {s}: {v:.4g}") for (x, y), (s, v) in zip(coords, pairs, strict=True))
        if marks
        else (),
        tuple((round(y1 - (y1 - y0) * k / 4, 1), f"{lo + (hi - lo) * k / 4:.3g}") for k in range(5)),
        tuple((round(x0 + (x1 - x0) * k / 4, 1), str(round(span * k / 4))) for k in range(5)),
    )


def thinned(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most MAX_POINTS records, evenly strided, always with the last."""
    stride = max(1, math.ceil(len(records) / MAX_POINTS))
    kept = records[::stride]
    if records and kept[-1] is not records[-1]:
        kept.append(records[-1])
    return kept


def step_through_link(task: str) -> tuple[str, str]:
    """Where to step through the ready-trained preset of ``task`` (default model, recommended settings)."""
    from app.web.simulation import supported_presets

    info = tasks()[task]
    if info["seq2seq"]:
        return f"/seq2seq?preset={task}", "the Seq2Seq view"
    if any(p.name == task for p in supported_presets()):
        return "/?" + ViewState().query(preset=task), "the simulator"
    return f"/presets/{task}", "the trained-model page"


def trained_model_link(result_id: str | None, seq2seq: bool) -> tuple[str, str] | None:
    """Where to step through this run's own stored weights, and that view's name (None when the run kept
    none: it failed)."""
    if not result_id:
        return None
    if seq2seq:
        return "/seq2seq?" + Seq2SeqState(model=result_id).query(), "the Seq2Seq view"
    return "/?" + ViewState().query(model=result_id), "the simulator"


def job_config(job: Any) -> Any:
    """The config a job trains, rebuilt from its task and model changes (a job another worker runs is read
    from the shared job file and has no trainer here)."""
    from core.tasks import get_task

    task = get_task(job.task, **job.options)
    return task.config_with(**job.model) if job.model else task.default_config()


def model_summary(config: Any) -> str:
    """'LSTM, hidden size 16, 1 layer' (an encoder-decoder: 'encoder-decoder, GRU, hidden size 32')."""
    from core.config import NetworkConfig

    kind = "" if isinstance(config, NetworkConfig) else "encoder-decoder, "
    layers = config.num_layers
    plural = "s" if layers > 1 else ""
    return f"{kind}{config.cell.upper()}, hidden size {config.hidden_size}, {layers} layer{plural}"


def live_view(job: Any, embed: bool = False) -> dict[str, Any]:
    """Curves, table rows and a one-line summary of a job's progress so far; with ``embed``, links to the
    other views' embed forms (an iframe can show only those)."""
    status = job.status()
    info = tasks()[job.task]
    metric, label = info["metric"], info["metric_label"]
    planned = int(job.settings["steps"])
    records = list(job.progress)
    shown = thinned(records)
    evals = [r for r in records if r.get("eval")]
    last = records[-1] if records else None
    if status["state"] == "queued":
        summary = "Waiting for a free training slot (other runs are in progress); it starts when one finishes…"
    elif last is None:
        summary = "Starting…"
    else:
        held = f", held-out {label} {last['eval'][metric]:.3g}" if last.get("eval") else ""
        summary = f"Step {last['step']} of {planned}: loss {last['loss']:.4g}{held}."
    if status["state"] == "done" and last is not None:
        summary = (
            f"Finished after {last['step']} steps ({REASONS.get(last['reason'], last['reason'])}). " + summary
        )
    elif status["state"] == "failed":
        summary = f"The run failed: {status['error']}"
    link, where = step_through_link(job.task)
    trained = trained_model_link(job.result_id, info["seq2seq"])
    if embed:
        link = embed_url(link)
        trained = None if trained is None else (embed_url(trained[0]), trained[1])
    return {
        "job": status,
        "model": model_summary(job_config(job)),
        "trained_link": trained[0] if trained else None,
        "trained_where": trained[1] if trained else None,
        "metric": label,
        "planned": planned,
        "summary": summary,
        "loss_chart": chart(
            "Training loss (minibatch)",
            [r["step"] for r in shown],
            [r["loss"] for r in shown],
            planned,
            marks=False,
        ),
        "metric_chart": chart(
            f"Held-out {label} ({'higher' if info['goal'] == 'max' else 'lower'} is better)",
            [r["step"] for r in evals],
            [r["eval"][metric] for r in evals],
            planned,
            marks=True,
        ),
        "rows": [(r["step"], r["loss"], r["eval"][metric], r["elapsed"]) for r in evals],
        "step_link": link,
        "step_where": where,
    }


REASONS = {
    "steps": "the step budget ran out",
    "time": "the time budget ran out",
    "target": "it reached the task's target",
    "stopped": "stopped on request",
    "diverged": "the loss stopped being finite",
}


def train_path(embed: bool) -> str:
    """The training page, or its embed form."""
    return EMBED_TRAIN if embed else "/train"


def page(
    request: Request, form: TrainForm, errors: list[str], status_code: int = 200, embed: bool = False
) -> HTMLResponse:
    jobs = request.app.state.jobs
    job = None
    if form.job:
        try:
            job = jobs.get(form.job)
        except ApiError:
            errors.append("That training run is not on this server any more; start a new one.")
    info = tasks()[form.task]
    limits = request.app.state.settings.limits
    context = {
        "request": request,
        "view": "training",
        "views": NAVIGATION_OUTSIDE,
        "state": ViewState(),
        "keep_query": False,
        "errors": errors,
        "title": "Train a model",
        "path": train_path(embed),  # where the form posts and the task picker reloads
        "embed": embed,
        "form": form,
        "tasks": tasks(),
        "info": info,
        "steps": form.steps or recommended_steps(form.task, limits),
        "cells": CELLS,
        "until": UNTIL,
        "shown": {
            "cell": form.cell or info["cell"],
            "hidden": form.hidden or info["hidden"],
            "layers": form.layers or info["layers"],
        },
        "limits": {
            "steps": step_limit(limits),
            "seed": MAX_SEED,
            "seconds": int(min(TIME_BUDGET, limits.max_train_seconds)),
            "hidden": limits.max_hidden_size,
            "layers": limits.max_layers,
        },
        "live": live_view(job, embed) if job is not None else None,
    }
    if not embed:
        return templates.TemplateResponse(request, "training.html", context, status_code=status_code)
    context.update(
        page_template="training.html",
        full_page=full_url("/train", form.query()),
        embed_summary=f"Training: {info['title']}",
        keep_intro=True,  # the form is what this page is for
        link_follows_step=False,
    )
    return templates.TemplateResponse(request, "embed/view.html", context, status_code=status_code)


@router.get("/train", response_class=HTMLResponse)
def training_page(request: Request) -> HTMLResponse:
    form, errors = parse(request.query_params, request.app.state.settings.limits)
    return page(request, form, errors)


@router.get(EMBED_TRAIN, response_class=HTMLResponse)
def training_embed(request: Request) -> HTMLResponse:
    form, errors = parse(request.query_params, request.app.state.settings.limits)
    return page(request, form, errors, embed=True)


@router.post("/train", response_class=HTMLResponse)
async def start_training(request: Request) -> Response:
    return await start(request, embed=False)


@router.post(EMBED_TRAIN, response_class=HTMLResponse)
async def start_training_embedded(request: Request) -> Response:
    return await start(request, embed=True)


async def start(request: Request, embed: bool) -> Response:
    """Start the form's run, then 303 to the page of that job (so the URL names the run)."""
    limits = request.app.state.settings.limits
    form, errors = parse(await request.form(), limits)
    if errors:
        return page(request, form, errors, 422, embed)
    steps = form.steps or recommended_steps(form.task, limits)
    try:
        job = request.app.state.jobs.start(
            form.task,
            {},
            {"steps": steps, "seed": form.seed, "time_budget": TIME_BUDGET, "stop_at_target": form.until == "target"},
            form.model(),
        )
    except ApiError as exc:
        return page(request, form, [exc.message], exc.status, embed)
    return RedirectResponse(
        f"{train_path(embed)}?" + replace(form, steps=steps, job=job.id).query(), status_code=303
    )


@router.post("/train/stop", response_class=HTMLResponse)
async def stop_training(request: Request) -> Response:
    return await stop(request, embed=False)


@router.post(EMBED_TRAIN + "/stop", response_class=HTMLResponse)
async def stop_training_embedded(request: Request) -> Response:
    return await stop(request, embed=True)


async def stop(request: Request, embed: bool) -> Response:
    form, errors = parse(await request.form(), request.app.state.settings.limits)
    if form.job:
        with suppress(ApiError):  # a run this server forgot: the page it redirects to says so
            request.app.state.jobs.cancel(form.job)
    return RedirectResponse(f"{train_path(embed)}?" + form.query(), status_code=303)


@router.get("/train/live", response_class=HTMLResponse)
def training_live(request: Request) -> HTMLResponse:
    form, _ = parse(request.query_params, request.app.state.settings.limits)
    try:
        job = request.app.state.jobs.get(form.job)
    except ApiError:
        return HTMLResponse("<p>That training run is not on this server any more.</p>", status_code=404)
    live = live_view(job, embed=request.query_params.get("embed") == "1")
    return templates.TemplateResponse(request, "fragments/training_live.html", {"live": live})
