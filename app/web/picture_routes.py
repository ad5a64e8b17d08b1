"""Pictures that are not pages: one weight matrix of the shown layer as a PNG heatmap, and a view's picture as a
slide (a standalone SVG with legends and caption, or its PNG), each read from the same query string as the page.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.http.heavy_lane import LaneUnavailable
from app.web import animation, slides, view_slides, weights_view
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


SLIDE_VIEWS = {
    "unrolled": "Unrolled network",
    "cell": "Inside the cell",
    "heatmaps": "Every unit over time",
    "gradients": "Gradients through time",
    "compare": "RNN vs LSTM vs GRU on the same input",
    "whatif": "What if: one number changed inside the run",
    "seq2seq": "Encoder-decoder (Seq2Seq)",
    "seq2seq-cell": "Inside the encoder-decoder's cell",
}


def view_context(request: Request, view: str) -> dict | Response:
    """The context the view's own page is drawn from (so a slide is always the page's picture), or a 422."""
    # Imported here: app.web.routes includes this router while it is being imported.
    from app.web import routes, seq2seq_routes

    builders = {
        "gradients": routes.gradients_context,
        "compare": routes.compare_context,
        "whatif": routes.whatif_context,
        "seq2seq": seq2seq_routes.context,
        "seq2seq-cell": seq2seq_routes.context,
    }
    if view not in builders:
        return page_context(request, view)
    ctx = builders[view](request)
    if ctx["sim"] is None or ctx["errors"]:
        return Response(" ".join(ctx["errors"]) or "no model", status_code=422, media_type="text/plain")
    return ctx


def slide_svg(request: Request, view: str, as_png: bool) -> tuple[str, str] | Response:
    """The standalone SVG of a view's picture at the URL's step, and a file name; or the 404/422/413 saying why
    not (a PNG over slides.MAX_PIXELS is refused before it is drawn)."""
    if view not in SLIDE_VIEWS:
        return Response(f"pictures download for {', '.join(SLIDE_VIEWS)}", status_code=404, media_type="text/plain")
    ctx = view_context(request, view)
    if isinstance(ctx, Response):
        return ctx
    slide, name = view_slides.SLIDES[view](ctx, SLIDE_VIEWS[view])
    if as_png and not slides.fits_png(slide):
        return too_large(slide)
    ctx.update(slide=slide, view=view)
    return render_slide(ctx), name


def too_large(slide: slides.Slide) -> Response:
    return Response(
        f"This picture is too large for a PNG ({slide.width:.0f} x {slide.height:.0f} at {slides.PNG_ZOOM:g}x); "
        "download the SVG, or type a shorter input.",
        status_code=413,
        media_type="text/plain",
    )


def render_slide(ctx: dict) -> str:
    return templates.get_template("export/slide.xml").render(ctx)  # .xml: autoescaped


def step_svgs(ctx: dict) -> list[str] | Response:
    """The unrolled view's slide at every step of the sequence, or the 413 saying it is too long to animate
    (checked on the first slide's size before any other is made: a slide's size does not depend on t)."""
    sim, title = ctx["sim"], SLIDE_VIEWS["unrolled"]
    svgs: list[str] = []
    for t in range(sim.steps):
        at = replace(sim, state=replace(sim.state, t=t))
        step_ctx = {**ctx, "sim": at, "state": at.state}
        slide, _ = view_slides.unrolled_slide(step_ctx, title)
        if t == 0 and not animation.fits(sim.steps, slide.width, slide.height):
            message = animation.too_large_message(sim.steps, slide.width, slide.height)
            return Response(message, status_code=413, media_type="text/plain")
        step_ctx.update(slide=slide, view="unrolled")
        svgs.append(render_slide(step_ctx))
    return svgs


@router.get("/export/{view}.apng")
async def export_apng(request: Request, view: str) -> Response:
    """The played sequence as an animated PNG, one frame per step of the unrolled view (app.web.animation).
    Each frame is drawn as a PNG slide is (draw_png: one heavy-work job per frame, so one long sequence holds
    one process at a time and others' jobs interleave), then the frames are assembled in the thread pool."""
    if view != "unrolled":
        return Response("animations download for the unrolled view", status_code=404, media_type="text/plain")
    ctx = await run_in_threadpool(view_context, request, view)
    if isinstance(ctx, Response):
        return ctx
    svgs = await run_in_threadpool(step_svgs, ctx)
    if isinstance(svgs, Response):
        return svgs
    frames = [await draw_png(request, svg, animation.ANIMATION_ZOOM) for svg in svgs]
    body = await run_in_threadpool(animation.apng, frames)
    return attachment(body, "image/apng", f"unrolled-unrolled-{len(svgs)}-steps.png")


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


async def draw_png(request: Request, svg: str, zoom: float = slides.PNG_ZOOM) -> bytes:
    """``slides.png(svg, zoom)``, drawn by a heavy-work process when the server has them."""
    lane = request.app.state.heavy
    if lane.enabled:
        try:
            return await lane.run("png", svg, zoom)
        except LaneUnavailable:
            pass
    return await run_in_threadpool(slides.png, svg, zoom)


def attachment(body: str | bytes, media: str, filename: str) -> Response:
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
