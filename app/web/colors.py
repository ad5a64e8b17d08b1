"""Two honest colour scales: a diverging one for signed numbers (blue negative, white 0, orange positive), and a
sequential one for quantities that live in 0..1 (sigmoid gates, probabilities: white 0 to dark purple 1).

Blue-white-orange stays distinguishable under the common colour-vision deficiencies (protanopia,
deuteranopia), and the sign is always shown as well (a glyph or a mark), so colour is never the only cue.

The scale is clipped to the data: a value v maps to the fraction u = clip(v / vmax, -1, 1), where vmax is the
largest |v| in the data shown (or a fixed bound such as 1 for gates). u is quantised to one of 2 * STEPS + 1
bins so HTML cells can be coloured with a CSS class (the page's CSP forbids style attributes), and SVG uses
the same bin's hex colour as a fill presentation attribute.

    colour(u) = lerp(WHITE, POSITIVE, u)  for u >= 0,   lerp(WHITE, NEGATIVE, -u)  for u < 0

Sigmoid gates are never negative, so drawing them on the diverging scale would spend half of it on values that
cannot occur and call 0.5 "pale orange"; they use the sequential scale, u = clip(v, 0, 1), in STEPS + 1 bins:

    colour(u) = lerp(WHITE, SEQUENTIAL, u)

Text on a bin is black or white, whichever contrasts more; with pure black and white the worse of the two
never drops below 4.58:1 (WCAG AA asks 4.5:1)."""

from __future__ import annotations

import math
from dataclasses import dataclass

STEPS = 8
NEGATIVE = (33, 102, 172)  # #2166ac
WHITE = (247, 247, 247)
POSITIVE = (179, 88, 6)  # #b35806
SEQUENTIAL = (63, 0, 125)  # #3f007d, the dark end of a single-hue purple ramp
BLANK = "#d9d9d9"  # a value not known (a future step, a non-finite number)


def _lerp(a: tuple[int, int, int], b: tuple[int, int, int], u: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * u) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour '#rrggbb'."""
    channels = [int(hex_colour[k : k + 2], 16) / 255 for k in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def bin_colour(k: int) -> str:
    """Hex colour of bin k in [-STEPS, STEPS]."""
    u = k / STEPS
    return _hex(_lerp(WHITE, POSITIVE, u) if u >= 0 else _lerp(WHITE, NEGATIVE, -u))


def text_colour(background: str) -> str:
    return "#000000" if contrast(background, "#000000") >= contrast(background, "#ffffff") else "#ffffff"


def sequential_colour(k: int) -> str:
    """Hex colour of sequential bin k in [0, STEPS]."""
    return _hex(_lerp(WHITE, SEQUENTIAL, k / STEPS))


BINS: tuple[int, ...] = tuple(range(-STEPS, STEPS + 1))
PALETTE: dict[int, str] = {k: bin_colour(k) for k in BINS}
SEQUENTIAL_BINS: tuple[int, ...] = tuple(range(STEPS + 1))
SEQUENTIAL_PALETTE: dict[int, str] = {k: sequential_colour(k) for k in SEQUENTIAL_BINS}


def sign_glyph(v: float) -> str:
    """'+' or '−' (U+2212) or '0', so the sign can be read without colour."""
    if not math.isfinite(v):
        return "?"
    return "+" if v > 0 else ("−" if v < 0 else "0")


@dataclass(frozen=True)
class Scale:
    """A symmetric scale [-vmax, vmax] clipped to the data."""

    vmax: float
    kind = "diverging"

    @property
    def vmin(self) -> float:
        return -self.vmax

    @classmethod
    def for_values(cls, values, floor: float = 1e-12) -> Scale:
        """The tightest symmetric scale holding every finite value (never zero-width)."""
        finite = [abs(float(v)) for v in values if math.isfinite(float(v))]
        return cls(max(max(finite, default=0.0), floor))

    def bin(self, v: float) -> int | None:
        """Bin index of v, or None for a non-finite value."""
        if not math.isfinite(v):
            return None
        u = max(-1.0, min(1.0, v / self.vmax))
        return int(round(u * STEPS))

    def colour(self, v: float) -> str:
        k = self.bin(v)
        return BLANK if k is None else PALETTE[k]

    def css_class(self, v: float) -> str:
        """Class naming v's bin for HTML cells: 'b-n8' .. 'b-0' .. 'b-p8', 'b-nan' when not finite."""
        k = self.bin(v)
        if k is None:
            return "b-nan"
        return f"b-{'n' if k < 0 else 'p' if k > 0 else ''}{abs(k)}" if k else "b-0"

    def legend(self) -> list[dict]:
        """Legend swatches from -vmax to vmax: value, colour, css class."""
        return [
            {"value": v, "colour": PALETTE[k], "css": self.css_class(v)}
            for k, v in ((k, self.vmax * k / STEPS) for k in BINS)
        ]


@dataclass(frozen=True)
class SequentialScale:
    """The fixed scale 0..1 of sigmoid gates and probabilities (values outside are clipped)."""

    vmin: float = 0.0
    vmax: float = 1.0
    kind = "sequential"

    def bin(self, v: float) -> int | None:
        if not math.isfinite(v):
            return None
        u = max(0.0, min(1.0, (v - self.vmin) / (self.vmax - self.vmin)))
        return int(round(u * STEPS))

    def colour(self, v: float) -> str:
        k = self.bin(v)
        return BLANK if k is None else SEQUENTIAL_PALETTE[k]

    def css_class(self, v: float) -> str:
        """'s-0' .. 's-8' for HTML cells, 'b-nan' when not finite."""
        k = self.bin(v)
        return "b-nan" if k is None else f"s-{k}"

    def legend(self) -> list[dict]:
        span = self.vmax - self.vmin
        return [
            {"value": v, "colour": SEQUENTIAL_PALETTE[k], "css": self.css_class(v)}
            for k, v in ((k, self.vmin + span * k / STEPS) for k in SEQUENTIAL_BINS)
        ]


GATE_SCALE = SequentialScale()
UNIT_SCALE = Scale(1.0)  # tanh outputs: -1..1 whatever the data


def palette_css() -> str:
    """The CSS rules for the bin classes (background and readable text colour); written into static/css."""
    rules = []
    for k in BINS:
        cls = Scale(1.0).css_class(k / STEPS)
        rules.append(f".{cls}{{background:{PALETTE[k]};color:{text_colour(PALETTE[k])}}}")
    for k in SEQUENTIAL_BINS:
        colour = SEQUENTIAL_PALETTE[k]
        rules.append(f".s-{k}{{background:{colour};color:{text_colour(colour)}}}")
    rules.append(f".b-nan{{background:{BLANK};color:#000000}}")
    return "\n".join(rules) + "\n"
