"""What each view puts on its slide (app.web.slides): the pictures of its page at the current step, where they
sit, their legends and line keys, and the caption's words. Each builder takes the context the view's own page
is drawn from (so the slide shows the page's numbers) and returns the slide and a file name; it also adds to the
context what templates/export/slide.xml draws (``diagram``, ``cellview``, ``tiles`` or ``parts``).

The unrolled, cell and heatmap views draw their picture directly; the others place several pictures
(``Part``) with slides.tile. Charts over time get a cursor line at the current step (``now``), since on the
page that step is marked by the table under them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.web import cellview, heatmaps, seq2seq_cell, slides, unrolled
from app.web import seq2seq_slide as s2s_picture
from app.web.colors import SequentialScale
from app.web.simulation import Simulation

Built = tuple[slides.Slide, str]


@dataclass(frozen=True)
class Part:
    """One picture of a slide: ``kind`` names the macro that draws ``obj`` (see export/slide.xml)."""

    kind: str
    obj: Any
    name: str
    x: float = 0.0
    y: float = 0.0
    now: float | None = None  # x of the current step's cursor, for a chart over time
    sid: str = ""


def where(sim: Simulation) -> str:
    t = sim.state.t
    return f"step {t}, x_t = “{sim.labels[t]}”"


def placed(parts: list[Part]) -> tuple[list[Part], float, float]:
    """The parts tiled (slides.tile) with room above each for its name."""
    sizes = [(p.obj.width, p.obj.height) for p in parts]
    spots, width, height = slides.tile(sizes)
    out = [
        Part(p.kind, p.obj, p.name, x, y, p.now, f"p{k}")
        for k, (p, (x, y)) in enumerate(zip(parts, spots, strict=True))
    ]
    return out, width, height


def file_name(view: str, t: int) -> str:
    return f"unrolled-{view}-t{t}"


def unrolled_slide(ctx: dict, title: str, model: str | None = None) -> Built:
    sim = ctx["sim"]
    diagram = unrolled.build(sim)
    scales: list[slides.LegendSpec] = [
        (caption, diagram.scales[key])
        for key, caption in (("h", "hidden state h"), ("c", "cell state c"))
        if key in diagram.scales
    ]
    ctx.update(diagram=diagram)
    slide = slides.build(sim, title, where(sim), diagram.width, diagram.height, scales, model=model)
    return slide, file_name("unrolled", sim.state.t)


def cell_slide(ctx: dict, title: str) -> Built:
    sim = ctx["sim"]
    cv = cellview.build(sim)
    step = cv.steps[cv.substep - 1]
    at = where(sim) + f" · sub-step {step.number}: {step.name} · unit {cv.unit}, {cv.where}"
    slide = slides.build(sim, title, at, cv.diagram.width, cv.diagram.height, list(cv.diagram.scales))
    ctx.update(cellview=cv)
    return slide, file_name("cell", sim.state.t) + (f"-s{sim.state.s}" if sim.state.s else "")


def heatmaps_slide(ctx: dict, title: str) -> Built:
    sim = ctx["sim"]
    maps = heatmaps.heatmaps(sim)
    spots, width, height = slides.tile([(hm.width, hm.height) for hm in maps])
    scales: list[slides.LegendSpec] = [(hm.title, hm.scale) for hm in maps]
    ctx.update(tiles=list(zip(maps, spots, strict=True)))
    return slides.build(sim, title, where(sim), width, height, scales), file_name("heatmaps", sim.state.t)


def chart_now(chart: Any, t: int) -> float | None:
    """x of step t on a gradients chart (its first line's mark at t)."""
    marks = chart.lines[0].marks if chart.lines else []
    return marks[t][0] if t < len(marks) else None


def influence_now(view: Any, t: int) -> float | None:
    bars = view.rows[0].bars if view.rows else []
    return bars[t].x + bars[t].w / 2 if t < len(bars) else None


def influence_legend(view: Any) -> slides.LegendSpec:
    return (
        "‖∂y_T/∂x_t‖, log scale",
        SequentialScale(float(view.lo_exp), float(view.hi_exp)),
        f"≤ 1e{view.lo_exp}",
        f"1e{view.hi_exp}",
    )


def trio_model(sim: Simulation) -> str:
    cfg = sim.config
    layers = f"{cfg.num_layers} layer{'s' if cfg.num_layers > 1 else ''}"
    bi = ", bidirectional" if cfg.bidirectional else ""
    return f"RNN, LSTM and GRU, {layers}{bi}, hidden size {cfg.hidden_size}, random weights, seed {sim.state.seed}"


def add_influence(found: Any, t: int, parts: list[Part], scales: list[slides.LegendSpec]) -> None:
    """The trained evidence's influence row (||dy_T/dx_t|| over t) and its legend, under the slide's chart."""
    now = influence_now(found.influence, t)
    parts.append(Part("influence", found.influence, "‖∂y_T/∂x_t‖: how far back each model looks", now=now))
    scales.append(influence_legend(found.influence))


def gradients_slide(ctx: dict, title: str) -> Built:
    sim, t, found = ctx["sim"], ctx["state"].t, ctx.get("evidence")
    chart = found.gradients if found is not None else ctx["chart"]
    parts = [Part("log", chart, "‖∂L/∂h_t‖ per step, log scale", now=chart_now(chart, t))]
    scales: list[slides.LegendSpec] = []
    if found is not None:
        add_influence(found, t, parts, scales)
    laid, width, height = placed(parts)
    keys = [(line.colour, line.dash, line.title) for line in chart.lines]
    ctx.update(parts=laid)
    model = found.summary if found is not None else trio_model(sim)
    slide = slides.build(
        sim, title, where(sim), width, height, scales, model=model, keys=keys, evidence_css=True
    )
    return slide, file_name("gradients", t)


def compare_slide(ctx: dict, title: str) -> Built:
    sim, t, found = ctx["sim"], ctx["state"].t, ctx.get("evidence")
    parts = [Part("unrolled", d, name) for name, d in ctx["diagrams"]]
    scales: list[slides.LegendSpec] = [("hidden state h, all three cells", ctx["shared_scale"])]
    scales += [(f"{name} cell state c", d.scales["c"]) for name, d in ctx["diagrams"] if "c" in d.scales]
    if found is not None:
        add_influence(found, t, parts, scales)
    laid, width, height = placed(parts)
    ctx.update(parts=laid)
    model = found.summary if found is not None else trio_model(sim)
    slide = slides.build(sim, title, where(sim), width, height, scales, model=model, evidence_css=True)
    return slide, file_name("compare", t)


GHOST, NOW_BLUE, MARK = "#767676", "#2166ac", "#b35806"  # as static/css/pictures.css draws the what-if lines


def whatif_slide(ctx: dict, title: str) -> Built:
    sim, w, t = ctx["sim"], ctx["whatif"], ctx["state"].t
    parts = []
    for chart in w.charts:
        marks = chart.series[0].marks if chart.series else ()
        now = marks[t][0] if t < len(marks) else None
        parts.append(Part("whatif_chart", chart, f"{chart.title} of unit {w.unit} over time", now=now))
    bars_now = w.bars[t].x + w.bar_width / 2 if t < len(w.bars) else None
    parts.append(
        Part("whatif_bars", Bars(w.bars_width, w.bars_height, w), "how far h moved, per step", now=bars_now)
    )
    laid, width, height = placed(parts)
    change = "; ".join(w.described) if w.edits else "no change"
    keys = [(GHOST, "6 4", "original (ghost)"), (NOW_BLUE, "", "what-if"), (MARK, "2 3", "the changed step")]
    ctx.update(parts=laid)
    at = where(sim) + f" · what if {change}"
    slide = slides.build(sim, title, at, width, height, [], keys=keys)
    return slide, file_name("whatif", t)


@dataclass(frozen=True)
class Bars:
    """The what-if bar chart's size, for tiling (its numbers stay on the WhatIf)."""

    width: float
    height: float
    whatif: Any


def seq2seq_model(ctx: dict) -> str:
    view, s2 = ctx["s2s"], ctx["s2"]
    weights = f"random weights, seed {s2.seed}" if s2.random else f"trained (“{view.title}”)"
    attention = "no attention" if view.attention == "none" else f"{view.attention} attention"
    if view.teacher_forced:
        decoding = "teacher forcing"
    else:
        decoding = f"beam search, width {s2.width}" if s2.decode == "beam" else "greedy decoding"
    return f"{view.cell.upper()} encoder-decoder, hidden size {view.hidden}, {attention}, {weights}, {decoding}"


def timeline_step(view: Any, t: int) -> str:
    labels = view.step_labels
    return labels[t] if t < len(labels) else f"step {t}"


def seq2seq_slide(ctx: dict, title: str) -> Built:
    view, t = ctx["s2s"], ctx["state"].t
    laid, width, height = placed([Part("seq2seq", s2s_picture.build(view), "")])
    scales: list[slides.LegendSpec] = [("encoder state h and decoder state s", view.scale)]
    at = f"{timeline_step(view, t)} · output “{view.output}”"
    slide = slides.build(None, title, at, width, height, scales, model=seq2seq_model(ctx), text=view.source_text)
    ctx.update(parts=laid)
    return slide, file_name("seq2seq", t)


def seq2seq_cell_slide(ctx: dict, title: str) -> Built:
    """The cell of the encoder or decoder step the timeline is on, drawn as the simulator's cell view."""
    view, t = ctx["s2s"], ctx["state"].t
    sim, _ = seq2seq_cell.simulation(view)
    cv = seq2seq_cell.build(view)
    step = cv.steps[cv.substep - 1]
    at = f"{timeline_step(view, t)} · sub-step {step.number}: {step.name} · unit {cv.unit}, {cv.where}"
    slide = slides.build(None, title, at, cv.diagram.width, cv.diagram.height, list(cv.diagram.scales),
                         model=seq2seq_model(ctx), text=view.source_text)
    ctx.update(cellview=cv, state=sim.state)
    return slide, file_name("seq2seq-cell", t) + (f"-s{sim.state.s}" if sim.state.s else "")


SLIDES: dict[str, Callable[[dict, str], Built]] = {
    "unrolled": unrolled_slide,
    "cell": cell_slide,
    "heatmaps": heatmaps_slide,
    "gradients": gradients_slide,
    "compare": compare_slide,
    "whatif": whatif_slide,
    "seq2seq": seq2seq_slide,
    "seq2seq-cell": seq2seq_cell_slide,
}
