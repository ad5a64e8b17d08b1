"""Pictures that are not pages: one weight matrix of the shown layer as a PNG heatmap, and a view's picture as a
slide (a standalone SVG with legends and caption, or its PNG), each read from the same query string as the page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.http.heavy_lane import LaneUnavailable
from app.web import cellview, heatmaps, slides, unrolled, weights_view
from app.web.colors import Scale, SequentialScale
from app.web.routes import base_context
from app.web.templating import templates

router = APIRouter(include_in_schema=False)


def page_context(request: Request, view: str) -> dict | Response:
    """The page's context for ``view``, or a 422 saying why its state cannot be drawn."""
    ctx = base_context(request, view)
    if ctx["sim"] is None or ctx["errors"]:
        return Response(" ".join(ctx["errors"]) or "no model", status_code=422, media_type="text/plain")
    return ctx


@router.get("/fragment/weights.png")
def weights_png(request: Request) -> Response:
    """One weight matrix of the shown layer as a PNG heatmap (``which``: ih, hh or b); the same URL always
    gives the same pixels, so the browser keeps it."""
    which = request.query_params.get("which", "")
    if which not in ("ih", "hh", "b"):
        return Response("which must be one of ih, hh, b", status_code=422, media_type="text/plain")
    ctx = page_context(request, "cell")
    if isinstance(ctx, Response):
        return ctx
    return Response(
        weights_view.png(ctx["sim"], which), media_type="image/png", headers={"Cache-Control": "public, max-age=3600"}
    )


SLIDE_VIEWS = {"unrolled": "Unrolled network", "cell": "Inside the cell", "heatmaps": "Every unit over time"}


def slide_svg(request: Request, view: str, as_png: bool) -> tuple[str, str] | Response:
    """The standalone SVG of a view's picture at the URL's step, and a file name; or the 404/422/413 saying why
    not (a PNG over slides.MAX_PIXELS is refused before it is drawn)."""
    if view not in SLIDE_VIEWS:
        return Response(f"pictures download for {', '.join(SLIDE_VIEWS)}", status_code=404, media_type="text/plain")
    ctx = page_context(request, view)
    if isinstance(ctx, Response):
        return ctx
    sim = ctx["sim"]
    t = sim.state.t
    where = f"step {t}, x_t = “{sim.labels[t]}”"
    if view == "cell":
        cv = cellview.build(sim)
        step = cv.steps[cv.substep - 1]
        where += f" · sub-step {step.number}: {step.name} · unit {cv.unit}, {cv.where}"
        slide = slides.build(sim, SLIDE_VIEWS[view], where, cv.diagram.width, cv.diagram.height,
                             [(caption, scale) for caption, scale in cv.diagram.scales])
        ctx.update(cellview=cv)
    elif view == "heatmaps":
        maps = heatmaps.heatmaps(sim)
        spots, width, height = slides.tile([(hm.width, hm.height) for hm in maps])
        scales: list[tuple[str, Scale | SequentialScale]] = [(hm.title, hm.scale) for hm in maps]
        slide = slides.build(sim, SLIDE_VIEWS[view], where, width, height, scales)
        ctx.update(tiles=list(zip(maps, spots, strict=True)))
    else:
        diagram = unrolled.build(sim)
        scales = [(caption, diagram.scales[key]) for key, caption in (("h", "hidden state h"), ("c", "cell state c"))
                  if key in diagram.scales]
        slide = slides.build(sim, SLIDE_VIEWS[view], where, diagram.width, diagram.height, scales)
        ctx.update(diagram=diagram)
    if as_png and not slides.fits_png(slide):
        return Response(
            f"This picture is too large for a PNG ({slide.width:.0f} x {slide.height:.0f} at {slides.PNG_ZOOM:g}x); "
            "download the SVG, or type a shorter input.",
            status_code=413,
            media_type="text/plain",
        )
    ctx.update(slide=slide, view=view)
    svg = templates.get_template("export/slide.xml").render(ctx)  # .xml: autoescaped
    return svg, f"unrolled-{view}-t{t}" + (f"-s{sim.state.s}" if view == "cell" and sim.state.s else "")


@router.get("/export/{view}.svg")
def export_svg(request: Request, view: str) -> Response:
    made = slide_svg(request, view, as_png=False)
    if isinstance(made, Response):
        return made
    svg, name = made
    return attachment(svg, "image/svg+xml", f"{name}.svg")


@router.get("/export/{view}.png")
async def export_png(request: Request, view: str) -> Response:
    """The slide drawn as a PNG. Drawing is the costly part (resvg holds the GIL for up to a second on a big
    slide), so it runs in a heavy-work process (app.http.heavy_lane) like a heavy trace: a full lane is a 503 with
    Retry-After, and the worker's other requests go on meanwhile. Without the lane it runs in the thread pool."""
    made = await run_in_threadpool(slide_svg, request, view, True)
    if isinstance(made, Response):
        return made
    svg, name = made
    return attachment(await draw_png(request, svg), "image/png", f"{name}.png")


async def draw_png(request: Request, svg: str) -> bytes:
    """``slides.png(svg)``, drawn by a heavy-work process when the server has them."""
    lane = request.app.state.heavy
    if lane.enabled:
        try:
            return await lane.run("png", svg)
        except LaneUnavailable:
            pass
    return await run_in_threadpool(slides.png, svg)


def attachment(body: str | bytes, media: str, filename: str) -> Response:
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
