"""The bottleneck, side by side on the Seq2Seq page: when the page shows one of core.bottleneck's two presets
(the sentences task with and without attention), the accuracy by source length both scored when they were
trained (their metadata's ``by_length``, measured on fresh sentences: bench/bench_bottleneck.py measures it
again on more), and what each of the two writes for the sentence on the page, against the reference.

The band the page's sentence falls in is marked, so a student can see that the sentence they typed is where
one model fails and the other does not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.services.limits import Limits
from app.storage.models import ModelStore
from app.web import seq2seq
from app.web.seq2seq import Seq2SeqInputError, Seq2SeqView
from core import bottleneck


@dataclass(frozen=True)
class BandRow:
    label: str
    here: bool  # the page's sentence has this many words
    sentences: tuple[float, float]  # share of whole sentences right: (attention, no attention)
    words: tuple[float, float]  # share of words right


@dataclass(frozen=True)
class Written:
    preset: str
    title: str
    attention: bool
    output: str
    right: bool | None  # None: no reference to compare with
    shown: bool  # the model the page is showing


@dataclass(frozen=True)
class Comparison:
    rows: tuple[BandRow, ...]
    length: int
    reference: str
    written: tuple[Written, Written]  # attention first

    def other(self) -> Written:
        return next(w for w in self.written if not w.shown)


def _bands(name: str) -> list[dict]:
    return seq2seq.preset_meta(name).get("by_length") or []


def comparison(view: Seq2SeqView, limits: Limits, store: ModelStore | None) -> Comparison | None:
    """The side-by-side of ``view``'s sentence, or None when the page is not on a trained bottleneck preset."""
    state = view.state
    if state.model or state.random or state.preset not in bottleneck.MEMBERS:
        return None
    names = sorted(bottleneck.MEMBERS, key=lambda n: bottleneck.MEMBERS[n] == "none")  # attention first
    bands = [_bands(name) for name in names]
    if not all(bands):
        return None
    length = len(view.encoder)
    rows = tuple(
        BandRow(f"{a['lo']}–{a['hi']} words", a["lo"] <= length <= a["hi"],
                (a["sequence_accuracy"], b["sequence_accuracy"]), (a["word_accuracy"], b["word_accuracy"]))
        for a, b in zip(*bands, strict=True)
    )
    try:
        reference = seq2seq.reference(replace(state, ref=""), seq2seq.preset_meta(state.preset))
    except Seq2SeqInputError:
        reference = ""
    written = []
    for name in names:
        free = replace(state, preset=name, tf=False, ref="", decode="greedy", t=0, panel="", unit=None, s=None)
        try:
            output = seq2seq.build(free, limits, store).output
        except Seq2SeqInputError:
            return None
        written.append(Written(name, seq2seq.preset_meta(name)["title"], bottleneck.MEMBERS[name] != "none",
                               output, output == reference if reference else None, name == state.preset))
    return Comparison(rows, length, reference, (written[0], written[1]))
