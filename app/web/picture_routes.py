"""Pictures that are not pages: one weight matrix of the shown layer as a PNG heatmap, and a view's picture as a
slide (a standalone SVG with legends and caption, or its PNG), each read from the same query string as the page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.web import cellview, slides, unrolled, weights_view

router = APIRouter(include_in_schema=False)


def page_context(request: Request, view: str) -> dict:
    # Imported here: app.web.routes includes this router while it is being imported.
    from app.web.routes import base_context

    return base_context(request, view)


@router.get("/fragment/weights.png")
def weights_png(request: Request) -> Response:
    """One weight matrix of the shown layer as a PNG heatmap (``which``: ih, hh or b); the same URL always
    gives the same pixels, so the browser keeps it."""
    which = request.query_params.get("which", "")
    if which not in ("ih", "hh", "b"):
        return Response("which must be one of ih, hh, b", status_code=422, media_type="text/plain")
    ctx = page_context(request, "cell")
    sim = ctx["sim"]
    if sim is None or ctx["errors"]:
        return Response(" ".join(ctx["errors"]) or "no model", status_code=422, media_type="text/plain")
    return Response(
        weights_view.png(sim, which), media_type="image/png", headers={"Cache-Control": "public, max-age=3600"}
    )


SLIDE_VIEWS = {"unrolled": "Unrolled network", "cell": "Inside the cell"}


def slide_svg(request: Request, view: str) -> tuple[str, str] | Response:
    """The standalone SVG of a view's picture at the URL's step, and a file name; or the 422 explaining why not."""
    if view not in SLIDE_VIEWS:
        return Response(f"pictures download for {', '.join(SLIDE_VIEWS)}", status_code=404, media_type="text/plain")
    ctx = page_context(request, view)
    sim = ctx["sim"]
    if sim is None or ctx["errors"]:
        return Response(" ".join(ctx["errors"]) or "no model", status_code=422, media_type="text/plain")
    t = sim.state.t
    where = f"step {t}, x_t = “{sim.labels[t]}”"
    if view == "cell":
        cv = cellview.build(sim)
        step = cv.steps[cv.substep - 1]
        where += f" · sub-step {step.number}: {step.name} · unit {cv.unit}, {cv.where}"
        slide = slides.build(sim, SLIDE_VIEWS[view], where, cv.diagram.width, cv.diagram.height,
                             [(caption, scale) for caption, scale in cv.diagram.scales])
        ctx.update(cellview=cv)
    else:
        diagram = unrolled.build(sim)
        scales = [("hidden state h", diagram.scales["h"])] + (
            [("cell state c", diagram.scales["c"])] if "c" in diagram.scales else []
        )
        slide = slides.build(sim, SLIDE_VIEWS[view], where, diagram.width, diagram.height, scales)
        ctx.update(diagram=diagram)
    ctx.update(slide=slide, view=view)
    from app.web.routes import templates

    svg = templates.get_template("export/slide.xml").render(ctx)  # .xml: autoescaped
    return svg, f"unrolled-{view}-t{t}" + (f"-s{sim.state.s}" if view == "cell" and sim.state.s else "")


@router.get("/export/{view}.svg")
def export_svg(request: Request, view: str) -> Response:
    made = slide_svg(request, view)
    if isinstance(made, Response):
        return made
    svg, name = made
    return Response(svg, media_type="image/svg+xml",
                    headers={"Content-Disposition": f'attachment; filename="{name}.svg"'})


@router.get("/export/{view}.png")
def export_png(request: Request, view: str) -> Response:
    made = slide_svg(request, view)
    if isinstance(made, Response):
        return made
    svg, name = made
    return Response(slides.png(svg), media_type="image/png",
                    headers={"Content-Disposition": f'attachment; filename="{name}.png"'})
