"""The whole view state lives in the URL's query string: model, input, seed, timestep and its sub-step, selected
unit, open panel.

``parse(query)`` reads a query mapping into a :class:`ViewState` plus a list of messages for values it could
not use (the page shows them and falls back to the default for that field, so a bad link never breaks the
page). ``ViewState.query(**changes)`` writes it back; only fields that differ from the defaults are written,
so links stay short, and ``parse(state.query())`` gives the same state back (tested as a round trip).

The default is a trained model (DEFAULT_PRESET on DEFAULT_INPUT). Random weights from the seed are
``preset=`` (empty), which a URL also means when it names a random-model field (cell, act, hidden, layers, bi,
seed, mode) but no preset or stored model."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields, replace
from urllib.parse import urlencode

from app.web.query import whole_number
from core.evidence import SETS as EVIDENCE_SETS

CELLS = ("rnn", "lstm", "gru")
CELL_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
ACTIVATIONS = ("tanh", "sigmoid", "relu")
INPUT_MODES = ("text", "numbers")
PANELS = ("", "cell")

MAX_HIDDEN = 32
MAX_LAYERS = 3
MAX_STEPS = 40
MAX_INPUT_CHARS = 400
MAX_SEED = 2**32 - 1
MAX_ABS_NUMBER = 1e6
MAX_SUBSTEPS = 6  # the LSTM's: forget, input, candidate, cell update, output, hidden state (app.web.substeps)
MAX_UNIT = 1023  # presets can be wider than MAX_HIDDEN
MAX_SHOWN_LAYER = 15  # stored models can be deeper than MAX_LAYERS; the simulation clamps it to the model
PART_KEY = re.compile(r"^[a-z][a-z_-]{0,23}$")
PRESET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MODEL_ID = re.compile(r"^[0-9a-f]{64}$")  # a stored model's content id (app.storage.models)

#: What ``/`` opens on: a trained next-character model (core.tasks.english) reading an English sentence.
DEFAULT_PRESET = "english"
DEFAULT_INPUT = "the cat sat on the mat"
#: Fields that only describe a random-weight model: a URL that names one of them but no preset or stored
#: model means random weights (links made before the default became a trained model keep working).
RANDOM_MODEL_FIELDS = ("cell", "act", "hidden", "layers", "bi", "seed", "mode")
INFER_PRESET = "?"  # not a preset name: a ViewState built without one infers it (inferred_preset)


@dataclass(frozen=True)
class ViewState:
    cell: str = "lstm"
    act: str = "tanh"
    hidden: int = 8
    layers: int = 1
    bi: bool = False
    seed: int = 0
    mode: str = "text"
    input: str = DEFAULT_INPUT
    t: int = 0
    s: int | None = None  # sub-step of the timestep, 1-based; None: the last (the whole step done)
    unit: int | None = None
    units: int | None = None  # first unit the pictures draw of a wide model (app.web.unit_window); None: unit's
    layer: int = 0
    dir: int = 0
    panel: str = ""
    rolled: bool = False  # the overview drawn as the notes first do: one cell with its loop
    hl: str = ""  # a part of the cell drawing to point at (its key, e.g. 'f' or 'add_c'), set by lesson steps
    # A ready-trained model (core.presets); when set it fixes the cell, sizes and weights. "" means random
    # weights from the seed (the fields above). Left out, it is inferred like a URL's (see __post_init__).
    preset: str = INFER_PRESET
    model: str = ""  # a stored model's id (e.g. a training run's result); fixes them like a preset
    # The gradients and compare views' trained trio (core.evidence), e.g. 'adding': the seed then picks the
    # task's sequence the RNN, LSTM and GRU all read, instead of random weights.
    evidence: str = ""

    def __post_init__(self) -> None:
        # ViewState(hidden=4) describes a random-weight model, as the URL ?hidden=4 does; ViewState() is the
        # default trained model.
        if self.preset == INFER_PRESET:
            object.__setattr__(self, "preset", inferred_preset(self))

    @property
    def trained(self) -> bool:
        """Whether the weights come from a trained model (preset or stored) rather than the seed."""
        return bool(self.preset or self.model)

    def query(self, **changes) -> str:
        """The query string (without '?') for this state with ``changes`` applied, defaults left out."""
        state = replace(self, **changes)
        default = ViewState()
        pairs = []
        for f in fields(ViewState):
            value = getattr(state, f.name)
            if f.name == "preset":
                # Written only when parse would not infer it: a stored model makes it irrelevant (parse clears
                # it), and random-model fields without a preset mean random weights.
                if state.model or value == inferred_preset(state):
                    continue
            elif value == getattr(default, f.name):
                continue
            if isinstance(value, bool):
                value = int(value)
            pairs.append((f.name, "" if value is None else value))
        return urlencode(pairs)

    def model_key(self) -> tuple:
        """What determines the trace (not the timestep, unit, panel, layer shown)."""
        if self.model:
            return ("model", self.model, self.mode, self.input)
        if self.preset:
            return ("preset", self.preset, self.mode, self.input)
        return (
            self.cell,
            self.act if self.cell == "rnn" else "tanh",
            self.hidden,
            self.layers,
            self.bi,
            self.seed,
            self.mode,
            self.input,
        )


def inferred_preset(state: ViewState) -> str:
    """The preset a state (or URL) means when it does not name one: random weights ("") when it describes a
    random-weight model field by field (RANDOM_MODEL_FIELDS away from their defaults), else the default."""
    defaults = {f.name: f.default for f in fields(ViewState)}
    named = any(getattr(state, name) != defaults[name] for name in RANDOM_MODEL_FIELDS)
    return "" if named else DEFAULT_PRESET


def _int_in(raw: str, name: str, lo: int, hi: int, errors: list[str]) -> int | None:
    value = whole_number(raw)
    if value is None:
        errors.append(f"{name} must be a whole number, got “{raw}”.")
        return None
    if not lo <= value <= hi:
        errors.append(f"{name} must be between {lo} and {hi}, got {value}.")
        return None
    return value


def parse(query) -> tuple[ViewState, list[str]]:
    """Read a query mapping (e.g. request.query_params) into a ViewState and messages on unusable values."""
    errors: list[str] = []
    values: dict = {}
    get = query.get

    for name, choices, label in (
        ("cell", CELLS, "Cell"),
        ("act", ACTIVATIONS, "Activation"),
        ("mode", INPUT_MODES, "Input type"),
        ("panel", PANELS, "Panel"),
    ):
        raw = get(name)
        if raw is None:
            continue
        if raw in choices:
            values[name] = raw
        else:
            errors.append(f"{label} must be one of {', '.join(c for c in choices if c)}.")
    for name, lo, hi, label in (
        ("hidden", 1, MAX_HIDDEN, "Hidden size"),
        ("layers", 1, MAX_LAYERS, "Layers"),
        ("seed", 0, MAX_SEED, "Seed"),
        ("t", 0, MAX_STEPS - 1, "Timestep"),
        ("layer", 0, MAX_SHOWN_LAYER, "Layer shown"),
        ("dir", 0, 1, "Direction shown"),
    ):
        raw = get(name)
        if raw is None or raw == "":
            continue
        value = _int_in(raw, label, lo, hi, errors)
        if value is not None:
            values[name] = value
    raw_sub = get("s")
    if raw_sub:
        sub = _int_in(raw_sub, "Sub-step", 1, MAX_SUBSTEPS, errors)
        if sub is not None:
            values["s"] = sub
    raw_unit = get("unit")
    if raw_unit:
        unit = _int_in(raw_unit, "Unit", 0, MAX_UNIT, errors)
        if unit is not None:
            values["unit"] = unit
    raw_units = get("units")
    if raw_units:
        first = _int_in(raw_units, "First unit drawn", 0, MAX_UNIT, errors)
        if first is not None:
            values["units"] = first
    raw_hl = get("hl")
    if raw_hl:
        if PART_KEY.match(raw_hl):
            values["hl"] = raw_hl
        else:
            errors.append("The part to point at (hl) is a short name of lower-case letters, e.g. hl=f.")
    raw_bi = get("bi")
    if raw_bi is not None:
        values["bi"] = raw_bi in ("1", "true", "on")
    if get("rolled") is not None:
        values["rolled"] = get("rolled") in ("1", "true", "on")
    raw_preset = get("preset")
    if raw_preset is None:
        if any(get(name) is not None for name in RANDOM_MODEL_FIELDS):
            values["preset"] = ""  # a random-weight model described field by field, even at the defaults
    elif raw_preset == "" or PRESET_NAME.match(raw_preset):
        values["preset"] = raw_preset  # "" asks for random weights
    else:
        errors.append("Preset names hold lower-case letters, digits, '-' and '_' only.")
    raw_model = get("model")
    if raw_model:
        if MODEL_ID.match(raw_model):
            values["model"] = raw_model
            values["preset"] = ""  # the stored model is the more specific choice
        else:
            errors.append("A stored model's id is 64 hexadecimal characters (0-9, a-f).")
    raw_evidence = get("evidence")
    if raw_evidence:
        if raw_evidence in EVIDENCE_SETS:
            values["evidence"] = raw_evidence
        else:
            errors.append(f"Trained evidence must be one of {', '.join(EVIDENCE_SETS)}.")
    raw_input = get("input")
    if raw_input is not None:
        values["input"] = raw_input
    state = ViewState(**values)
    # A trained model brings its own sizes; the simulation clamps the shown layer and unit against them.
    return (state if state.trained else clamp_to_model(state)), errors


def clamp_to_model(state: ViewState) -> ViewState:
    """Keep the shown layer, direction and unit inside the model (a smaller model keeps a valid view)."""
    layer = min(state.layer, state.layers - 1)
    direction = state.dir if state.bi else 0
    unit = state.unit if state.unit is not None and state.unit < state.hidden else None
    return replace(state, layer=layer, dir=direction, unit=unit)


class BadInputError(ValueError):
    """Typed input that cannot be run; the message is shown to the person as is."""


def parse_numbers(text: str) -> list[float]:
    """'0.5, -1 2' -> [0.5, -1.0, 2.0]: one number per timestep, separated by commas, semicolons or spaces."""
    if len(text) > MAX_INPUT_CHARS:
        raise BadInputError(f"The numbers field holds at most {MAX_INPUT_CHARS} characters, got {len(text)}.")
    parts = [p for p in text.replace(",", " ").replace(";", " ").split() if p]
    if not parts:
        raise BadInputError("Type at least one number, e.g. 0.5, -1, 2.")
    numbers = []
    for p in parts:
        try:
            v = float(p)
        except ValueError:
            raise BadInputError(f"“{p}” is not a number. Separate numbers with commas or spaces.") from None
        if not math.isfinite(v) or abs(v) > MAX_ABS_NUMBER:
            raise BadInputError(f"Numbers must be finite and at most {MAX_ABS_NUMBER:g} in size, got “{p}”.")
        numbers.append(v)
    if len(numbers) > MAX_STEPS:
        raise BadInputError(f"At most {MAX_STEPS} numbers (timesteps), got {len(numbers)}.")
    return numbers


def parse_vectors(text: str, width: int) -> list[list[float]]:
    """'0.5 1; 0.2 0' -> [[0.5, 1.0], [0.2, 0.0]] for ``width`` numbers per timestep: timesteps separated by
    semicolons, the numbers of one step by commas or spaces (width 1 reads like parse_numbers)."""
    if width == 1:
        return [[v] for v in parse_numbers(text)]
    if len(text) > MAX_INPUT_CHARS:
        raise BadInputError(f"The numbers field holds at most {MAX_INPUT_CHARS} characters, got {len(text)}.")
    steps = [s for s in text.split(";") if s.strip()]
    if not steps:
        raise BadInputError(f"Type {width} numbers per timestep, timesteps separated by ';'.")
    if len(steps) > MAX_STEPS:
        raise BadInputError(f"At most {MAX_STEPS} timesteps, got {len(steps)}.")
    vectors = []
    for k, step in enumerate(steps):
        row = parse_numbers(step)
        if len(row) != width:
            raise BadInputError(
                f"Timestep {k} holds {len(row)} numbers; this model reads {width} per timestep "
                "(separate timesteps with ';')."
            )
        vectors.append(row)
    return vectors


def parse_text(text: str) -> list[str]:
    """Characters as tokens: 'hi!' -> ['h', 'i', '!']."""
    if not text:
        raise BadInputError("Type some text: each character becomes one timestep.")
    if len(text) > MAX_STEPS:
        raise BadInputError(f"At most {MAX_STEPS} characters (timesteps), got {len(text)}.")
    if any(not ch.isprintable() for ch in text):
        raise BadInputError("The text may only hold printable characters (no tabs or line breaks).")
    return list(text)


def parse_words(text: str) -> list[str]:
    """Whitespace-separated words as tokens: 'a good film' -> ['a', 'good', 'film']."""
    if len(text) > MAX_INPUT_CHARS:
        raise BadInputError(f"The text holds at most {MAX_INPUT_CHARS} characters, got {len(text)}.")
    words = text.split()
    if not words:
        raise BadInputError("Type some words: each word becomes one timestep.")
    if len(words) > MAX_STEPS:
        raise BadInputError(f"At most {MAX_STEPS} words (timesteps), got {len(words)}.")
    return words
