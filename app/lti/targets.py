"""Which Unrolled pages an LTI link may open, and the list the deep-linking picker offers.

A link stores the page in its custom parameters as ``unrolled_url``: a path of ours with its query, e.g.
``/?cell=gru&input=hello&t=3`` or ``/lessons/rnn-basics/2``. Launching it opens the page's /embed form (built
for an iframe, see app.web.embed), so the state lives in the URL and nothing needs a cookie after the launch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from app import lessons as course
from app.http.security import embed_url
from app.lessons.model import VIEW_PATHS

CUSTOM_KEY = "unrolled_url"
LAUNCH_PARAM = "lti_launch"  # added to the page's URL when the launch can post a score

#: Paths a link may open besides the simulator views: lesson steps and trained presets.
_OTHER_PATHS = re.compile(r"/lessons/[a-z0-9-]+/[0-9]{1,2}|/presets/[A-Za-z0-9_-]+")


class TargetError(ValueError):
    """The link names no page of ours."""


@dataclass(frozen=True)
class Choice:
    group: str  # "View" or a lesson's title
    label: str
    url: str  # the full page's URL (what a link stores)
    max_score: int = 0  # what the page scores out of (exercise sets); 0: nothing is scored, never graded

    @property
    def embed(self) -> str:
        return embed_url(self.url)


def target_url(custom: object) -> str:
    """The page a launch opens, from its custom parameters; the course's first lesson when there is none."""
    raw = custom.get(CUSTOM_KEY) if isinstance(custom, dict) else None
    if raw is None or raw == "":
        return course.LESSONS[0].step_url(1)
    if not isinstance(raw, str) or len(raw) > 2000:
        raise TargetError("the link's unrolled_url is not a short text")
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        raise TargetError(f"the link's unrolled_url {raw!r} is not a path on this server")
    if parts.path not in VIEW_PATHS.values() and not _OTHER_PATHS.fullmatch(parts.path):
        raise TargetError(f"the link's unrolled_url {raw!r} names no view or lesson step of Unrolled")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def framed_url(target: str, launch_id: str | None = None) -> str:
    """The embed form of ``target``; with ``launch_id``, carrying it for the page's score submission."""
    url = embed_url(target)
    if launch_id is None:
        return url
    return url + ("&" if "?" in url else "?") + urlencode({LAUNCH_PARAM: launch_id})


def choices() -> list[Choice]:
    """Every simulator view (its default state) and every lesson step, in the course's order."""
    from app.web.routes import VIEWS  # the web router imports much; only the picker needs its list

    views = [Choice("Views", label, path) for _, path, label in VIEWS]
    views.append(Choice("Views", "Encoder-decoder (Seq2Seq)", VIEW_PATHS["seq2seq"]))
    # Scored by the server; graded when the link has a gradebook column.
    from app.web.exercises import COUNT

    exercises = VIEW_PATHS["exercises"]
    views += [
        Choice("Exercises", f"Predict, then reveal: set {n}", f"{exercises}?seed={n}", COUNT) for n in (1, 2, 3)
    ]
    steps = [
        Choice(lesson.title, f"{n}. {step.title}", lesson.step_url(n))
        for lesson in course.LESSONS
        for n, step in enumerate(lesson.steps, start=1)
    ]
    return views + steps
