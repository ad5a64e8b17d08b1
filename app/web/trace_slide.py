"""``POST /api/v1/trace/export?format=svg|png&t=K``: the trace of an API request drawn as the unrolled view's
slide at step K, the same SVG (and PNG) the page's download gives for the same model and input.

The request's run becomes a Simulation through the same function the pages use (app.web.simulation
.from_result), so the picture is drawn by the page's own builder and template; only the caption's model line
is written here, since an API request may bring weights no page state names (given inline, say). Sizes are
checked before anything is drawn: a sequence too long to draw, or a PNG over slides.MAX_PIXELS, is a 413."""

from __future__ import annotations

from app.errors import TooLargeError, UnprocessableError
from app.schemas.requests import TraceRequest
from app.services.trace import TraceResult
from app.web import slides, view_slides
from app.web.simulation import check_drawable, from_result
from app.web.state import BadInputError, ViewState


def weights_words(req: TraceRequest) -> str:
    w = req.weights
    source = getattr(w, "source", "seed")
    if source == "seed":
        return f"random weights, seed {getattr(w, 'seed', 0)}"
    if source == "preset":
        return f"trained (preset {getattr(w, 'name', '')})"
    if source == "stored":
        return f"trained (stored model {str(getattr(w, 'id', ''))[:12]})"
    return "weights given in the request"


def slide_svg(result: TraceResult, req: TraceRequest, t: int, as_png: bool = False) -> str:
    """The unrolled view's slide of ``result`` at step ``t`` (422 past the last step, 413 too large to draw)."""
    steps = result.trace.num_steps
    if t >= steps:
        raise UnprocessableError(f"t={t} is past the last timestep {steps - 1}", ("query", "t"))
    try:
        check_drawable(result.model.config, steps)
    except BadInputError as problem:
        raise TooLargeError(str(problem)) from None
    sim = from_result(ViewState(preset="", t=t), result)
    ctx: dict = {"sim": sim, "state": sim.state}
    slide, _ = view_slides.unrolled_slide(
        ctx, "Unrolled network", model=slides.network_line(sim.config, weights_words(req))
    )
    if as_png and not slides.fits_png(slide):
        raise TooLargeError(
            f"This picture is too large for a PNG ({slide.width:.0f} x {slide.height:.0f} at {slides.PNG_ZOOM:g}x, "
            f"over {slides.MAX_PIXELS} pixels); ask for format=svg, or send a shorter input."
        )
    ctx.update(slide=slide, view="unrolled")
    from app.web.picture_routes import render_slide

    return render_slide(ctx)


def slide_bytes(result: TraceResult, req: TraceRequest, fmt: str, t: int) -> bytes:
    """``svg``: the slide; ``png``: drawn; ``png-svg``: the slide checked against the PNG limit, to be drawn
    by the caller (in the heavy-work lane)."""
    svg = slide_svg(result, req, t, as_png=fmt in ("png", "png-svg"))
    return slides.png(svg) if fmt == "png" else svg.encode()
