"""The Seq2Seq overview as an SVG picture for a slide: the page draws it as an HTML table, which no slide tool
opens, so this places the same columns (encoder steps, the context vector, decoder steps) on an SVG grid.

Each column shows what its step reads, its state vector as squares (colour = value on the view's shared
scale, a dash across a negative one, the value in each square's <title>) and what it writes. Steps after the
current one are drawn as empty outlines, as the page shows them before they happen."""

from __future__ import annotations

from dataclasses import dataclass

from app.web.seq2seq import Seq2SeqView, Square

SQUARE = 9.0
PITCH = 10.0
PER_ROW = 8
COL_W = max(PER_ROW * PITCH + 12, 92.0)
LEFT = 64.0  # room for the row names
HEAD_Y = 14.0
READS_Y = 34.0
STATE_Y = 46.0


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    fill: str
    negative: bool
    title: str


@dataclass(frozen=True)
class Column:
    t: int
    x: float  # left edge
    cx: float
    head: str
    reads: str
    writes: str
    cells: tuple[Cell, ...]
    summary: str
    kind: str  # 'enc', 'ctx' or 'dec'


@dataclass(frozen=True)
class Seq2SeqPicture:
    width: float
    height: float
    columns: tuple[Column, ...]
    writes_y: float
    state_h: float
    square: float
    title: str
    description: str
    col_w: float = COL_W


def _cells(squares: tuple[Square, ...], x: float) -> tuple[Cell, ...]:
    left = x + (COL_W - PER_ROW * PITCH) / 2
    return tuple(
        Cell(left + (j % PER_ROW) * PITCH, STATE_Y + (j // PER_ROW) * PITCH, sq.fill, sq.negative, sq.title)
        for j, sq in enumerate(squares)
    )


def build(view: Seq2SeqView) -> Seq2SeqPicture:
    S = len(view.encoder)
    rows = -(-view.hidden // PER_ROW)
    state_h = rows * PITCH
    cols: list[Column] = []
    x = LEFT
    for e in view.encoder:
        cols.append(
            Column(
                e.t,
                x,
                x + COL_W / 2,
                f"encoder {e.t + 1}",
                e.token,
                "—",
                _cells(e.state, x),
                e.summary,
                "enc",
            )
        )
        x += COL_W
    cols.append(
        Column(
            S - 1,
            x,
            x + COL_W / 2,
            "context",
            f"h{S} → s0",
            "",
            _cells(view.context, x),
            view.context_summary,
            "ctx",
        )
    )
    x += COL_W
    for d in view.decoder:
        writes = f"{d.output} {d.probability * 100:.0f}%"
        cols.append(
            Column(
                d.t,
                x,
                x + COL_W / 2,
                f"decoder {d.k + 1}",
                d.fed,
                writes,
                _cells(d.state, x),
                d.summary,
                "dec",
            )
        )
        x += COL_W
    writes_y = STATE_Y + state_h + 18
    written = view.output_joiner.join(view.written)  # UNK as the page writes it, not the raw token
    title = f"Encoder-decoder: {view.source_text} → {written or '(nothing)'}"
    description = (
        f"{S} encoder steps read the source; the context vector (its last state) starts the decoder, whose "
        f"{len(view.decoder)} steps each read a token and write one. Each square is one unit of a state "
        "vector on one colour scale (blue negative, orange positive, a dash across a negative value); its value "
        "is in its title. Steps after the current one are empty outlines."
    )
    return Seq2SeqPicture(x + 8, writes_y + 10, tuple(cols), writes_y, state_h, SQUARE, title, description)
