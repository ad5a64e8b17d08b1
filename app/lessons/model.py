"""What a lesson is: a titled sequence of steps, each pairing a few sentences with one live simulator state.

A step's state is a URL, so a lesson never stores numbers: the page frames the state's embed form and links
to its full page, and whatever the simulator computes for that URL is what the student sees.

    simulator state   /<view>?<query>            and  /embed/<view>?<query>   (the view's URL state)
    trained preset    /presets/<name>?sample=k&t=n  and  /embed/presets/<name>?...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from app.http.security import embed_url
from app.web.seq2seq_state import Seq2SeqState
from app.web.state import ViewState
from app.web.views import VIEW_PATHS
from core.evidence import CELLS

#: What a lesson step may ask the student to predict (app.web.lesson_questions builds the question): about a
#: trained character model's step (gate:*, memory, next), the trained decoder's next word (write), or which of
#: an evidence set's trained cells keeps its first marked input longer (keeps:<cell>,<cell>[,<cell>]).
PREDICTIONS = ("gate:f", "gate:i", "gate:o", "memory", "next", "write")
KEEPS = "keeps:"
#: The URL state of each view: the encoder-decoder has its own (app.web.seq2seq_state), the others share one.
STATE_TYPES: dict[str, type] = {"seq2seq": Seq2SeqState}


@dataclass(frozen=True)
class Live:
    """One state to show: a simulator view with ViewState fields, or a trained preset on a sample."""

    view: str = "unrolled"
    state: dict = field(default_factory=dict)  # ViewState fields (simulator views)
    preset: str | None = None
    sample: int = 0
    t: int = 0

    def __post_init__(self) -> None:
        if self.preset is None:
            if self.view not in VIEW_PATHS:
                raise ValueError(f"unknown simulator view {self.view!r}")
            self.view_state()  # unknown field names fail here, when the lesson module is imported

    def view_state(self) -> ViewState | Seq2SeqState:
        return STATE_TYPES.get(self.view, ViewState)(**self.state)

    @property
    def query(self) -> str:
        if self.preset is not None:
            pairs = [("sample", self.sample)] if self.sample else []
            return urlencode(pairs + ([("t", self.t)] if self.t else []))
        return self.view_state().query()

    @property
    def path(self) -> str:
        return f"/presets/{self.preset}" if self.preset is not None else VIEW_PATHS[self.view]

    @property
    def url(self) -> str:
        """The full page of this state."""
        return self.path + (f"?{self.query}" if self.query else "")

    @property
    def embed_url(self) -> str:
        return embed_url(self.url)


@dataclass(frozen=True)
class Step:
    title: str
    text: tuple[str, ...]  # paragraphs, plain text
    try_it: str
    live: Live
    equations: tuple[str, ...] = ()  # shown as code, in the notes' notation
    # Ask before showing (app.web.lesson_questions): "gate:f", "gate:i", "gate:o", "memory" or "next", about the
    # live state's step; the picture stays hidden until the student commits an answer.
    predict: str = ""

    def __post_init__(self) -> None:
        if self.predict:
            self.check_prediction()
        # One paragraph in parentheses without a trailing comma is a str, which a template prints per letter.
        for name in ("text", "equations"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(isinstance(p, str) for p in value):
                raise TypeError(f"step {self.title!r}: {name} must be a tuple of strings")

    @property
    def compared_cells(self) -> tuple[str, ...]:
        """The cells a keeps:<cells> prediction compares (empty for the other kinds)."""
        return tuple(self.predict[len(KEEPS) :].split(",")) if self.predict.startswith(KEEPS) else ()

    def check_prediction(self) -> None:
        """A question needs a live state with trained weights of the kind it asks about."""
        problem = f"step {self.title!r}: "
        state, view = self.live.state, self.live.view if self.live.preset is None else "preset"
        if self.predict.startswith(KEEPS):
            cells = self.compared_cells
            if len(set(cells)) != len(cells) or len(cells) < 2 or not set(cells) <= set(CELLS):
                raise ValueError(problem + f"keeps: names 2 or 3 different cells of {', '.join(CELLS)}")
            if view not in ("gradients", "compare") or not state.get("evidence"):
                raise ValueError(problem + "keeps: needs an evidence set in the gradients or compare view")
        elif self.predict == "write":
            if view != "seq2seq" or state.get("weights") == "random" or state.get("decode", "greedy") != "greedy":
                raise ValueError(problem + "write needs the trained encoder-decoder, decoding greedily")
        elif self.predict not in PREDICTIONS:
            raise ValueError(problem + f"predict must be one of {', '.join(PREDICTIONS)} or {KEEPS}<cells>")
        elif view == "seq2seq" or not state.get("preset"):
            raise ValueError(problem + "a prediction needs a trained network preset in a view's state")


@dataclass(frozen=True)
class Lesson:
    slug: str
    title: str
    summary: str
    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        if not 2 <= len(self.steps) <= 7:
            raise ValueError(f"lesson {self.slug!r} has {len(self.steps)} steps; a lesson has 2 to 7")

    def step_url(self, n: int) -> str:
        return f"/lessons/{self.slug}/{n}"
