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
from core.config import NetworkConfig

CSS_DIR = Path(__file__).resolve().parents[2] / "static" / "css"
PICTURE_CSS = CSS_DIR / "pictures.css"
EVIDENCE_CSS = CSS_DIR / "evidence.css"  # the gradients and compare views' charts
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
class Key:
    """One line of a line chart's key: a sample of the line (colour, dash) and its name."""

    x: float
    y: float
    colour: str
    dash: str
    label: str

    @property
    def text_x(self) -> float:
        return self.x + KEY_LINE + 6


KEY_LINE = 28.0
KEY_GAP = 24.0
CHAR_W = 6.6  # a generous average advance of an 11 px DejaVu Sans character, to space the key's entries


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
    keys: tuple[Key, ...] = ()


def picture_css(evidence: bool = False) -> str:
    return PICTURE_CSS.read_text() + (EVIDENCE_CSS.read_text() if evidence else "")


#: A legend: its caption and colour scale, optionally with the texts for its two ends (default: the values).
LegendSpec = tuple[str, Scale | SequentialScale] | tuple[str, Scale | SequentialScale, str, str]


def legend_strips(scales: Sequence[LegendSpec], y: float) -> tuple[LegendStrip, ...]:
    strips, x = [], PAD
    for spec in scales:
        caption, scale = spec[0], spec[1]
        low, high = (spec[2], spec[3]) if len(spec) == 4 else (f"{scale.vmin:.3g}", f"{scale.vmax:.3g}")
        swatches = tuple(Swatch(x + k * SWATCH, y + 16, sw["colour"]) for k, sw in enumerate(scale.legend()))
        strips.append(LegendStrip(caption, x, y, swatches, low, high))
        x += max(len(swatches) * SWATCH, len(caption) * CHAR_W) + LEGEND_GAP
    return tuple(strips)


def key_row(entries: Sequence[tuple[str, str, str]], y: float) -> tuple[Key, ...]:
    """A line chart's key, (colour, dash, label) entries left to right on one row at ``y``."""
    keys, x = [], PAD
    for colour, dash, label in entries:
        keys.append(Key(x, y, colour, dash, label))
        x += KEY_LINE + 6 + len(label) * CHAR_W + KEY_GAP
    return tuple(keys)


def network_line(cfg: NetworkConfig, weights: str) -> str:
    """The caption's model line: cell, layers, direction, hidden size and where the weights came from."""
    layers = f"{cfg.num_layers} layer{'s' if cfg.num_layers > 1 else ''}"
    bi = ", bidirectional" if cfg.bidirectional else ""
    return f"{CELL_NAMES[cfg.cell]}, {layers}{bi}, hidden size {cfg.hidden_size}, {weights}"


def model_line(sim: Simulation) -> str:
    state = sim.state
    if state.trained:
        return network_line(sim.config, f"trained ({state.preset or 'stored model ' + state.model[:12]})")
    return network_line(sim.config, f"random weights, seed {state.seed}")


def input_text(sim: Simulation) -> str:
    return "".join(sim.labels) if sim.vocab is not None else " ".join(sim.labels)


def build(sim: Simulation | None, title: str, where: str, picture_w: float, picture_h: float,
          scales: Sequence[LegendSpec], *, model: str | None = None, text: str | None = None,
          keys: Sequence[tuple[str, str, str]] = (), evidence_css: bool = False) -> Slide:
    """The slide around a picture of ``picture_w`` x ``picture_h``: a caption above (title; model; input and
    step), colour legends and then a line key below. ``model`` and ``text`` replace what ``sim`` says (views
    of several models, or of a model that is not a page's simulation)."""
    if model is None or text is None:
        assert sim is not None, "a slide names its model and input"
        model = model_line(sim) if model is None else model
        text = input_text(sim) if text is None else text
    lines = (title, model, f"input “{text}” · {where}")
    caption = tuple((PAD + 14 + k * LINE, line) for k, line in enumerate(lines))
    picture_y = PAD + len(lines) * LINE + 8
    legends_y = picture_y + picture_h + 12
    legends = legend_strips(scales, legends_y)
    legends_w = max((max(s.high_x, s.x + len(s.caption) * CHAR_W) for s in legends), default=0.0)
    keys_y = legends_y + (SWATCH + 34 if legends else 0) + 10
    key_items = key_row(keys, keys_y)
    keys_w = max((k.text_x + len(k.label) * CHAR_W for k in key_items), default=0.0)
    width = max(picture_w + 2 * PAD, legends_w + PAD, keys_w + PAD, 560.0)
    height = keys_y + (14 if key_items else -10) + PAD
    return Slide(width, height, PAD, picture_y, legends, caption, picture_css(evidence_css), keys=key_items)


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


def png(svg: str, zoom: float = PNG_ZOOM) -> bytes:
    import resvg_py

    return bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=zoom, font_family="DejaVu Sans"))
