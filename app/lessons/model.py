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

#: What a lesson step may ask the student to predict (app.web.lesson_questions builds the question).
PREDICTIONS = ("gate:f", "gate:i", "gate:o", "memory", "next")
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
        if self.predict and self.predict not in PREDICTIONS:
            raise ValueError(f"step {self.title!r}: predict must be one of {', '.join(PREDICTIONS)}")
        if self.predict and (self.live.preset is not None or not self.live.state.get("preset")):
            raise ValueError(f"step {self.title!r}: a prediction needs a trained network preset in a view's state")
        # One paragraph in parentheses without a trailing comma is a str, which a template prints per letter.
        for name in ("text", "equations"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(isinstance(p, str) for p in value):
                raise TypeError(f"step {self.title!r}: {name} must be a tuple of strings")


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
