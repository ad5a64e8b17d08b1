"""Every view of the simulator in one list: its name (the ``view`` a lesson step, an embed or a slide names), its
path and its label in the navigation. Data only, so any module may import it without pulling in the routes.
"""

from __future__ import annotations

from typing import NamedTuple


class View(NamedTuple):
    name: str
    path: str
    label: str


#: The views in the navigation bar of the network pages, in order.
NAVIGATION = (
    View("unrolled", "/", "Unrolled network"),
    View("cell", "/cell", "Inside the cell"),
    View("heatmaps", "/heatmaps", "Heatmaps over time"),
    View("gradients", "/gradients", "Gradients through time"),
    View("compare", "/compare", "RNN vs LSTM vs GRU"),
    View("whatif", "/whatif", "What if…?"),
)
#: The encoder-decoder and training pages link to the network views that do not need a network's state.
NAVIGATION_OUTSIDE = tuple(v for v in NAVIGATION if v.name != "whatif")
#: Views with pages of their own beside the navigation bar.
OTHERS = (
    View("seq2seq", "/seq2seq", "Encoder-decoder (Seq2Seq)"),
    View("exercises", "/exercises", "Exercises"),
)
#: Every view a lesson step may show or an embed may frame, and its path.
VIEW_PATHS = {v.name: v.path for v in NAVIGATION + OTHERS}
