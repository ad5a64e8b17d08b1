"""A view's picture as a slide: one standalone SVG (the picture at the current step, its legends as colour strips,
and a caption naming the model, the input and the step), and the same rasterised to PNG.

The SVG carries the pages' own picture stylesheet (static/css/pictures.css) inline, so it looks like the screen
without the page around it, and keeps every value's <title> and the picture's <title>/<desc>. PNGs are drawn by
resvg (the resvg-py wheel: no system libraries), at twice the SVG's size for projectors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.web.colors import Scale, SequentialScale
from app.web.simulation import Simulation
from app.web.state import CELL_NAMES

PICTURE_CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "pictures.css"
PAD = 16.0
SWATCH = 14.0
LEGEND_GAP = 36.0
LINE = 18.0
PNG_ZOOM = 2.0
MAX_PIXELS = 40_000_000  # a PNG larger than this (at PNG_ZOOM) is refused rather than drawn


@dataclass(frozen=True)
class Swatch:
    x: float
    y: float
    colour: str


@dataclass(frozen=True)
class LegendStrip:
    caption: str
    x: float
    y: float
    swatches: tuple[Swatch, ...]
    low: str
    high: str

    @property
    def low_x(self) -> float:
        return self.x

    @property
    def high_x(self) -> float:
        return self.swatches[-1].x + SWATCH if self.swatches else self.x

    @property
    def label_y(self) -> float:
        return self.y + SWATCH + 13


@dataclass(frozen=True)
class Slide:
    width: float
    height: float
    picture_x: float
    picture_y: float
    legends: tuple[LegendStrip, ...]
    caption: tuple[tuple[float, str], ...]  # (y, line)
    css: str
    swatch: float = SWATCH


def picture_css() -> str:
    return PICTURE_CSS.read_text()


def legend_strips(scales: Sequence[tuple[str, Scale | SequentialScale]], y: float) -> tuple[LegendStrip, ...]:
    strips, x = [], PAD
    for caption, scale in scales:
        swatches = tuple(Swatch(x + k * SWATCH, y + 16, sw["colour"]) for k, sw in enumerate(scale.legend()))
        strips.append(LegendStrip(caption, x, y, swatches, f"{scale.vmin:.3g}", f"{scale.vmax:.3g}"))
        x += len(swatches) * SWATCH + LEGEND_GAP
    return tuple(strips)


def model_line(sim: Simulation) -> str:
    cfg, state = sim.config, sim.state
    weights = f"trained ({state.preset or 'stored model ' + state.model[:12]})" if state.trained else (
        f"random weights, seed {state.seed}"
    )
    layers = f"{cfg.num_layers} layer{'s' if cfg.num_layers > 1 else ''}"
    bi = ", bidirectional" if cfg.bidirectional else ""
    return f"{CELL_NAMES[cfg.cell]}, {layers}{bi}, hidden size {cfg.hidden_size}, {weights}"


def build(sim: Simulation, title: str, where: str, picture_w: float, picture_h: float,
          scales: Sequence[tuple[str, Scale | SequentialScale]]) -> Slide:
    """The slide around a picture of ``picture_w`` x ``picture_h``: caption above, legends below."""
    text = "".join(sim.labels) if sim.vocab is not None else " ".join(sim.labels)
    lines = (title, model_line(sim), f"input “{text}” · {where}")
    caption = tuple((PAD + 14 + k * LINE, line) for k, line in enumerate(lines))
    picture_y = PAD + len(lines) * LINE + 8
    legends_y = picture_y + picture_h + 12
    legends = legend_strips(scales, legends_y)
    legends_w = max((s.high_x for s in legends), default=0.0)
    width = max(picture_w + 2 * PAD, legends_w + PAD, 560.0)
    height = legends_y + (SWATCH + 34 if legends else 0) + PAD
    return Slide(width, height, PAD, picture_y, legends, caption, picture_css())


TILE_TITLE = 16.0  # room above each tiled picture for its name
TILE_GAP = 16.0
TILE_ROW = 1200.0  # a row of tiles wraps past this width, so tall narrow pictures sit side by side


def tile(sizes: Sequence[tuple[float, float]]) -> tuple[tuple[tuple[float, float], ...], float, float]:
    """Pictures of (width, height) placed left to right, wrapping to a new row past TILE_ROW; each row is as tall
    as its tallest picture plus its name. Returns each picture's (x, y) top-left, and the total width and height."""
    spots: list[tuple[float, float]] = []
    x = y = row_h = width = 0.0
    for w, h in sizes:
        if x > 0 and x + w > TILE_ROW:
            x, y, row_h = 0.0, y + row_h + TILE_GAP, 0.0
        spots.append((x, y))
        width = max(width, x + w)
        row_h = max(row_h, TILE_TITLE + h)
        x += w + TILE_GAP
    return tuple(spots), width, y + row_h


def fits_png(slide: Slide) -> bool:
    return slide.width * slide.height * PNG_ZOOM**2 <= MAX_PIXELS


def png(svg: str) -> bytes:
    import resvg_py

    return bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=PNG_ZOOM, font_family="DejaVu Sans"))
