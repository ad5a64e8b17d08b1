"""The shown layer's weights as small heatmaps: W_ih (gate rows x inputs), W_hh (gate rows x units) and the two
bias vectors, one pixel per weight, with the rows the current sub-step uses for unit j outlined.

The pixels are served as a PNG (``/fragment/weights.png``, one image per matrix, cached by the browser since
the weights of a URL never change), so a step's fragment only carries the outline rectangles. A weight w is
coloured on the diverging scale clipped to the largest |w| of its matrix."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from app.web.colors import BINS, PALETTE, STEPS, Scale
from app.web.simulation import Simulation

GATE_ORDER = {"lstm": "ifgo", "gru": "rzn", "rnn": "h"}
# Which gate's block of rows each sub-step multiplies (pointwise sub-steps use no weights).
SUBSTEP_GATE = {
    "lstm": {1: "f", 2: "i", 3: "g", 5: "o"},
    "gru": {1: "r", 2: "z", 3: "n"},
    "rnn": {1: "h"},
}
GATE_NAMES = {"i": "input", "f": "forget", "g": "candidate", "o": "output", "r": "reset", "z": "update",
              "n": "candidate", "h": "hidden"}
TARGET_PX = 180  # the longer side of a map on screen, about


@dataclass(frozen=True)
class Mark:
    step: int
    row: int


@dataclass(frozen=True)
class WeightMap:
    which: str  # 'ih', 'hh', 'b'
    title: str
    rows: int
    cols: int
    scale: Scale
    marks: tuple[Mark, ...]
    blocks: tuple[tuple[str, int], ...]  # (gate letter, first row) for the labels

    @property
    def pixel(self) -> float:
        return max(1.0, min(12.0, TARGET_PX / max(self.rows, self.cols)))

    @property
    def width(self) -> float:
        return max(self.cols * self.pixel, 28.0)  # two bias columns stay wide enough to see

    @property
    def height(self) -> float:
        return self.rows * self.pixel


def matrix(sim: Simulation, which: str) -> np.ndarray:
    """The weights of one map: W_ih, W_hh, or the biases side by side as two columns (b_ih, b_hh)."""
    if which in ("ih", "hh"):
        return np.asarray(sim.layer_weight(f"weight_{which}"), dtype=float)
    rows = sim.layer_weight("weight_hh").shape[0]
    zero = np.zeros(rows)
    b_ih, b_hh = sim.layer_bias("bias_ih"), sim.layer_bias("bias_hh")
    return np.stack([zero if b_ih is None else b_ih, zero if b_hh is None else b_hh], axis=1).astype(float)


def build(sim: Simulation) -> tuple[WeightMap, ...]:
    cell = sim.config.cell
    H = sim.config.hidden_size
    j = sim.state.unit if sim.state.unit is not None else 0
    gates = GATE_ORDER[cell]
    marks = tuple(Mark(step, gates.index(g) * H + j) for step, g in SUBSTEP_GATE[cell].items())
    blocks = tuple((g, k * H) for k, g in enumerate(gates))
    titles = {"ih": "W_ih (rows: gate units, columns: inputs)", "hh": "W_hh (rows: gate units, columns: h_{t-1})",
              "b": "b_ih | b_hh"}
    maps = []
    for which in ("ih", "hh", "b"):
        m = matrix(sim, which)
        maps.append(WeightMap(which, titles[which], m.shape[0], m.shape[1], Scale.for_values(m.ravel()), marks,
                              blocks))
    return tuple(maps)


def png(sim: Simulation, which: str) -> bytes:
    """The map's pixels as a PNG: one RGB pixel per weight (8-bit, no interlace, filter 0 on every row)."""
    m = matrix(sim, which)
    scale = Scale.for_values(m.ravel())
    palette = np.array([bytes.fromhex(PALETTE[k][1:]) for k in BINS], dtype="S3").view(np.uint8).reshape(-1, 3)
    bins = np.rint(np.clip(m / scale.vmax, -1.0, 1.0) * STEPS).astype(int) + STEPS
    pixels = palette[bins]  # (rows, cols, 3)
    rows = np.concatenate([np.zeros((m.shape[0], 1), np.uint8), pixels.reshape(m.shape[0], -1)], axis=1)
    return encode_png(m.shape[1], m.shape[0], rows.tobytes())


def encode_png(width: int, height: int, raw: bytes) -> bytes:
    """A PNG file of ``raw`` RGB scanlines (each prefixed with its filter byte)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
