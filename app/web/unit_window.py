"""Which hidden units the pictures draw: all of them when they fit, else one page of units at a time.

A stored model can be far wider than a page can draw in one piece: an uploaded H=256, 4-layer bidirectional
LSTM over 40 steps holds 160,000 state numbers in the overview alone (35 MB of HTML when each was a square of
its own). So the overview, its numbers table and the heatmaps draw units [first, first + count) of every state
vector and link to the other pages; the cell view reads any unit, and the API gives the whole trace. A page
holds as many units as keep the overview within MAX_SQUARES squares (steps x rows x state vectors x units),
in whole grid rows of GRANULE, at most PAGE_UNITS. Units are numbered from 0, as the readouts name them."""

from __future__ import annotations

from dataclasses import dataclass

#: The most units of one state vector a page draws: the trained English model's 64 fit one page.
PAGE_UNITS = 64
#: Squares the overview may draw: the page's own largest random model (40 steps x 3 layers x 2 directions x
#: h and c x 32 units = 15,360) is drawn whole; a page of 16,384 squares is about 600 KB of HTML.
MAX_SQUARES = 16_384
GRANULE = 8  # units per row of a grid (app.web.unrolled.UNITS_PER_ROW): pages hold whole rows


@dataclass(frozen=True)
class UnitWindow:
    first: int
    stop: int
    total: int
    per_page: int = PAGE_UNITS

    @property
    def count(self) -> int:
        return self.stop - self.first

    @property
    def paged(self) -> bool:
        return self.count < self.total

    @property
    def caption(self) -> str:
        return f"units {self.first}–{self.stop - 1} of {self.total}"

    @property
    def previous(self) -> int | None:
        return self.first - self.per_page if self.first > 0 else None

    @property
    def next(self) -> int | None:
        return self.stop if self.stop < self.total else None

    def pages(self) -> tuple[tuple[int, str], ...]:
        """(first unit, "64–127") of every page, for the page picker."""
        return tuple(
            (start, f"{start}–{min(start + self.per_page, self.total) - 1}")
            for start in range(0, self.total, self.per_page)
        )

    def holds(self, unit: int | None) -> bool:
        return unit is not None and self.first <= unit < self.stop


def whole(total: int) -> UnitWindow:
    """Every unit, for a picture with no pager (a standalone page)."""
    return UnitWindow(0, total, total, total)


def page_size(total: int, vectors_drawn: int) -> int:
    """Units per page when the overview draws ``vectors_drawn`` state vectors (steps x rows x h and c)."""
    fit = MAX_SQUARES // max(vectors_drawn, 1)
    if total <= min(fit, PAGE_UNITS):
        return total
    return max(GRANULE, min(PAGE_UNITS, fit) // GRANULE * GRANULE)


def unit_window(total: int, first: int | None, unit: int | None = None, per_page: int = PAGE_UNITS) -> UnitWindow:
    """The page of ``per_page`` of ``total`` units that holds ``first``; without ``first``, the page holding
    the chosen ``unit`` (so a link to h[200] opens where h[200] is drawn), else the first page."""
    if total <= per_page:
        return UnitWindow(0, total, total)
    wanted = first if first is not None else (unit if unit is not None else 0)
    start = min(max(wanted, 0), total - 1) // per_page * per_page
    return UnitWindow(start, min(start + per_page, total), total, per_page)
