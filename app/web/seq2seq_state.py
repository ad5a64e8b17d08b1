"""The Seq2Seq view's state, all in the query string: which model (a trained preset's task, with its trained
or random weights), the source sentence, how to decode, and the step on the timeline.

``model`` (a stored model's content id, e.g. a finished training run) replaces the preset: its own
configuration, weights, vocabularies and task; 'random' weights then keep its vocabularies and sizes.

``tf=1`` feeds the decoder the reference translation (teacher forcing: ``ref``, or when empty the task's own
translation of the source) instead of its own previous outputs. ``panel=cell`` opens the cell view of the
current step (an encoder step or a decoder step), with ``unit`` the unit whose numbers it shows and ``s`` the
sub-step, as on the simulator's page.

The timeline runs over the encoder's S steps first and then the decoder's T steps, so ``t`` in [0, S) is
encoder step t + 1 and ``t`` in [S, S + T) is decoder step t - S + 1; the simulator's player and keys step
through both. ``parse(query)`` never fails: a value it cannot use becomes a message and the field keeps its
default, and ``parse(state.query())`` gives the same state back (only non-default fields are written).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from urllib.parse import urlencode

from app.web.query import whole_number
from app.web.state import CELLS, MAX_SEED, MODEL_ID

WEIGHTS = ("trained", "random")
DECODINGS = ("greedy", "beam")
ATTENTIONS = ("none", "additive", "dot", "general")
MAX_HIDDEN = 64
MAX_WIDTH = 8
MAX_SOURCE_TOKENS = 40
MAX_SUBSTEPS = 8  # more than any cell's sub-steps (app.web.substeps); the view clamps to the cell's own
MAX_TIMELINE = 80  # at most MAX_SOURCE_TOKENS source tokens plus the decoder's length cap
MAX_SOURCE_CHARS = 200
PANELS = ("cell",)


@dataclass(frozen=True)
class Seq2SeqState:
    preset: str = "translation"  # the task and vocabulary: a seq2seq preset's name
    model: str = ""  # a stored encoder-decoder's id: used instead of the preset when given
    weights: str = "trained"  # 'random': the preset's shape and vocabulary, weights drawn from the seed
    cell: str = "gru"  # random weights only, like hidden, attn and seed
    hidden: int = 32
    attn: str = "dot"
    seed: int = 0
    input: str = ""  # empty: the task's first sample sentence
    decode: str = "greedy"
    width: int = 3  # beam width
    tf: bool = False  # teacher forcing: the decoder reads the reference, not its own outputs
    ref: str = ""  # the reference translation; empty: the task's translation of the source
    t: int = 0
    panel: str = ""  # 'cell': the cell view of step t is open
    unit: int | None = None  # the unit the cell view shows (None: 0)
    s: int | None = None  # the cell view's sub-step, 1-based (None: the last)

    @property
    def hl(self) -> str:
        """No part of the cell drawing is pointed at from this page (the simulator's lessons set one)."""
        return ""

    @property
    def random(self) -> bool:
        return self.weights == "random"

    def query(self, **changes) -> str:
        """The query string (without '?') with ``changes`` applied; defaults left out."""
        state = replace(self, **changes)
        default = Seq2SeqState()
        pairs = [
            (f.name, getattr(state, f.name))
            for f in fields(Seq2SeqState)
            if getattr(state, f.name) != getattr(default, f.name)
        ]
        return urlencode([(k, int(v) if isinstance(v, bool) else v) for k, v in pairs])

    def model_key(self) -> tuple:
        """What decides the decoded run (everything but the step shown)."""
        model = (self.cell, self.hidden, self.attn, self.seed) if self.random else ()
        return (
            self.model or self.preset,
            self.weights,
            *model,
            self.input,
            self.decode,
            self.width if self.decode == "beam" else 0,
            self.tf,
            self.ref if self.tf else "",
        )


def _choice(raw: str | None, choices: tuple[str, ...], label: str, errors: list[str]) -> str | None:
    if raw is None or raw == "":
        return None
    if raw in choices:
        return raw
    errors.append(f"{label} must be one of {', '.join(choices)}, got “{raw}”.")
    return None


def _number(raw: str | None, label: str, lo: int, hi: int, errors: list[str]) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    value = whole_number(raw)
    if value is None:
        errors.append(f"{label} must be a whole number, got “{raw}”.")
        return None
    if not lo <= value <= hi:
        errors.append(f"{label} must be between {lo} and {hi}, got {value}.")
        return None
    return value


def parse(query, presets: tuple[str, ...]) -> tuple[Seq2SeqState, list[str]]:
    """Read a query mapping into a state plus messages on what could not be used; ``presets`` are the
    encoder-decoder presets installed."""
    errors: list[str] = []
    get = query.get
    values: dict = {}
    for name, choices, label in (
        ("preset", presets, "Model"),
        ("weights", WEIGHTS, "Weights"),
        ("cell", CELLS, "Cell"),
        ("attn", ATTENTIONS, "Attention"),
        ("decode", DECODINGS, "Decoding"),
        ("panel", PANELS, "Panel"),
    ):
        choice = _choice(get(name), choices, label, errors)
        if choice is not None:
            values[name] = choice
    for name, lo, hi, label in (
        ("hidden", 1, MAX_HIDDEN, "Hidden size"),
        ("seed", 0, MAX_SEED, "Seed"),
        ("width", 1, MAX_WIDTH, "Beam width"),
        ("t", 0, MAX_TIMELINE - 1, "Step"),
        ("unit", 0, MAX_HIDDEN - 1, "Unit"),
        ("s", 1, MAX_SUBSTEPS, "Sub-step"),
    ):
        number = _number(get(name), label, lo, hi, errors)
        if number is not None:
            values[name] = number
    raw_model = (get("model") or "").strip()
    if raw_model:
        if MODEL_ID.match(raw_model):
            values["model"] = raw_model
        else:
            errors.append("Model must be a stored model's id (64 hexadecimal digits).")
    for name, label in (("input", "The source"), ("ref", "The reference")):
        raw = get(name)
        if raw is None:
            continue
        if len(raw) > MAX_SOURCE_CHARS:
            errors.append(f"{label} holds at most {MAX_SOURCE_CHARS} characters, got {len(raw)}.")
        else:
            values[name] = raw.strip()
    raw_tf = get("tf")
    if raw_tf in ("1", "on", "true"):
        values["tf"] = True
    elif raw_tf not in (None, "", "0", "off", "false"):
        errors.append(f"Teacher forcing must be 1 (on) or 0 (off), got “{raw_tf}”.")
    return Seq2SeqState(**values), errors
