"""Turn a view state into a model and its trace: the one place the pages get their numbers from.

The state becomes the same request body the JSON API takes (POST /api/v1/trace) and runs through the same
service (app.services.trace.run_trace), so a page shows exactly the numbers the API returns for that body.

Text input: each character is a token; the vocabulary is the input's distinct characters in sorted order, read
one-hot, and the output layer predicts the next character, p_t = softmax(W_hy h_t + b_y) over that vocabulary.
Numbers: one number per timestep (input_size 1) and a single linear output y_t = W_hy h_t + b_y. Weights are
PyTorch's default initialisation drawn from the seed, so the same URL always shows the same numbers. A preset
or a stored model (``model=<id>``, e.g. a finished training run) brings its own configuration, weights and
input form: its vocabulary, or its width of numbers per step. Runs are checked against the server's limits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import ValidationError

from app.errors import ApiError
from app.schemas.requests import TraceRequest
from app.services.limits import Limits
from app.services.trace import TraceResult, run_trace
from app.storage.models import ModelStore
from app.web.state import (
    DEFAULT_PRESET,
    BadInputError,
    ViewState,
    parse_numbers,
    parse_text,
    parse_vectors,
    parse_words,
)
from app.web.unit_window import PAGE_UNITS, UnitWindow, page_size, unit_window
from core.config import NetworkConfig
from core.params import Params
from core.presets import PRESETS_DIR
from core.trace import Trace

#: Top guesses a next-token model shows per step.
TOP_GUESSES = 3


@dataclass(frozen=True)
class Simulation:
    state: ViewState
    config: NetworkConfig
    params: Params
    trace: Trace
    labels: tuple[str, ...]  # what x_t is, per timestep: the token as the model reads it, or the number
    vocab: tuple[str, ...] | None  # text mode: token id -> character
    inputs: np.ndarray  # what forward() was given: (T,) token ids or (T, 1) numbers
    output_labels: tuple[str, ...] | None = None  # names of the output units (the vocabulary, or classes)
    typed: tuple[str, ...] = ()  # text input: each step's token as typed (before case folding), shown
    unknown: tuple[bool, ...] = ()  # text input: whether the typed token was read as the unknown token
    onward: str = ""  # where the top layer's h_t goes when the network has no output layer of its own (Seq2Seq)

    @property
    def steps(self) -> int:
        return self.trace.num_steps

    @property
    def units(self) -> UnitWindow:
        """The hidden units the pictures draw (all of them, or one page of a wide model)."""
        cfg = self.config
        vectors = self.steps * cfg.num_layers * cfg.num_directions * (2 if cfg.has_cell_state else 1)
        per_page = page_size(cfg.hidden_size, vectors)
        return unit_window(cfg.hidden_size, self.state.units, self.state.unit, per_page)

    def layer_name(self, stem: str) -> str:
        """The PyTorch name of a parameter of the shown layer and direction: 'weight_hh' -> weight_hh_l1_reverse."""
        return f"{stem}_l{self.state.layer}" + ("_reverse" if self.state.dir else "")

    def layer_weight(self, stem: str) -> np.ndarray:
        return self.params[self.layer_name(stem)]

    def layer_bias(self, stem: str) -> np.ndarray | None:
        """A bias of the shown layer (None when the model has none)."""
        return self.params.get(self.layer_name(stem))

    def is_unknown(self, t: int) -> bool:
        """Whether step t's typed token is outside the vocabulary (the model read its unknown token)."""
        return bool(self.unknown) and self.unknown[t]

    @property
    def output_kind(self) -> str:
        """What y_t means: 'next' (a softmax over the input vocabulary: the next token), 'class' (a softmax
        over named classes, e.g. sentiment), 'value' (a linear output, e.g. a forecast), or 'scores' (a
        softmax whose outputs have no names)."""
        if self.trace.probs is None:
            return "value"
        if self.output_labels is None:
            return "scores"
        return "next" if self.vocab is not None and self.output_labels == self.vocab else "class"

    def top_outputs(self, t: int, k: int = TOP_GUESSES) -> tuple[tuple[str, float], ...]:
        """The k most likely outputs at step t, most likely first, as (shown label, probability): the next
        characters (space shown as '␣'), the classes, or '#j' for unnamed output j. Empty for a linear output
        or a step whose probabilities are not finite (a diverged network)."""
        if self.trace.probs is None:
            return ()
        p = self.trace.probs[t, 0]
        if not np.isfinite(p).all():
            return ()
        order = np.argsort(-p, kind="stable")[:k]  # ties keep vocabulary order
        names = self.output_labels
        return tuple((show_char(names[j]) if names else f"#{j}", float(p[j])) for j in order)

    def output_value(self, t: int) -> float:
        """y_t's first number (the forecast of a one-output regression)."""
        assert self.trace.logits is not None
        return float(self.trace.logits[t, 0, 0])

    def output_label(self, t: int) -> str:
        """y_t in a few characters: the most likely next character or class with its probability
        ("e 41%", "positive 93%"), or the value ("0.123"); "—" where the network diverged or has no output layer
        (an API request may leave it out)."""
        if self.trace.logits is None:
            return "—"
        if self.trace.probs is None:
            return f"{self.output_value(t):.3g}"
        top = self.top_outputs(t, 1)
        if not top:
            return "—"
        label, p = top[0]
        return f"{label} {p:.0%}"


def show_char(ch: str) -> str:
    """A character made visible: a space is shown as '␣'."""
    return "␣" if ch == " " else ch


@dataclass(frozen=True)
class PresetChoice:
    """A ready-trained model the simulator can run: its input is text (characters or words) or one number."""

    name: str
    title: str
    description: str
    cell: str
    mode: str  # 'text' or 'numbers'
    tokenizer: str  # 'chars' or 'words' (text presets)
    vocab: tuple[str, ...]
    examples: tuple[tuple[str, str], ...] = ()  # (label, input as typed) from the preset's task
    width: int = 1  # numbers per timestep ('numbers' mode)


def task_examples(meta: dict[str, Any], tokens: tuple[str, ...], joiner: str) -> tuple[tuple[str, str], ...]:
    """The task's ready-made samples as inputs a person could type: tokens joined, or numbers listed."""
    try:
        from core.tasks import get_task

        samples = get_task(meta["task"], **meta.get("task_options", {})).samples()
    except (ImportError, KeyError, TypeError, ValueError):
        return ()
    examples = []
    for sample in samples:
        values = np.asarray(sample.inputs)
        if values.ndim == 1 and tokens:
            text = joiner.join(tokens[int(k)] for k in values)
        elif values.ndim == 2 and values.shape[1] == 1:
            text = ", ".join(f"{float(v):.3g}" for v in values[:, 0])
        elif values.ndim == 2:  # several numbers per step: steps separated by ';' (state.parse_vectors)
            text = "; ".join(" ".join(f"{float(v):.3g}" for v in row) for row in values)
        else:
            continue
        examples.append((sample.label, text))
    return tuple(examples)


def supported_presets() -> tuple[PresetChoice, ...]:
    """The presets whose inputs a person can type here (token or single-number inputs of a plain network).

    Re-read when the preset files change (they are rewritten when presets are retrained)."""
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(PRESETS_DIR.glob("*.json")))
    return _supported_presets(stamp)


@lru_cache(maxsize=2)
def _supported_presets(stamp: tuple) -> tuple[PresetChoice, ...]:
    from core.presets import list_presets

    choices = []
    try:
        metas = list_presets()
    except (OSError, ValueError):  # a preset being rewritten right now: offer none until it is complete
        return ()
    for meta in metas:
        cfg = meta.get("config", {})
        if meta.get("kind") != "network":
            continue
        vocab = meta.get("vocab") or {}
        tokens = tuple(vocab.get("tokens", ())) if isinstance(vocab, dict) else tuple(vocab)
        if cfg.get("input_encoding") in ("onehot", "embedding") and tokens:
            tokenizer = "chars" if isinstance(vocab, dict) and vocab.get("joiner") == "" else "words"
            mode = "text"
        elif cfg.get("input_encoding") == "vector" and cfg.get("input_size") == 1:
            tokenizer, mode = "chars", "numbers"
        else:
            continue
        choices.append(
            PresetChoice(
                meta["name"],
                meta.get("title", meta["name"]),
                meta.get("description", ""),
                cfg.get("cell", ""),
                mode,
                tokenizer,
                tokens,
                task_examples(meta, tokens, "" if tokenizer == "chars" else " "),
            )
        )
    # The default model first (the picker lists them in this order), the others by name.
    return tuple(sorted(choices, key=lambda choice: choice.name != DEFAULT_PRESET))


def preset_choice(name: str) -> PresetChoice:
    for choice in supported_presets():
        if choice.name == name:
            return choice
    names = ", ".join(c.name for c in supported_presets()) or "none installed"
    raise BadInputError(f"There is no preset “{name}” the simulator can run (available: {names}).")


def stored_tokenizer(meta: dict[str, Any], ignore: int | None = None) -> str:
    """How typed text splits into a stored model's vocabulary: its ``tokenizer`` when it has one, else
    characters when every token (but the one at index ``ignore``, e.g. padding) is one character, else words."""
    tokens = [token for k, token in enumerate(meta.get("vocab") or ()) if k != ignore]
    return meta.get("tokenizer") or ("chars" if all(len(token) == 1 for token in tokens) else "words")


def stored_choice(store: ModelStore | None, model_id: str) -> PresetChoice:
    """A stored model (e.g. a finished training run) described like a preset: its input form, vocabulary
    and its task's samples. BadInputError when the store does not hold it or its input cannot be typed."""
    described = store.describe(model_id) if store is not None else None
    if described is None:
        raise BadInputError(f"There is no stored model “{model_id[:12]}…” on this server.")
    if described["kind"] == "seq2seq":
        raise BadInputError(
            f"The stored model “{model_id[:12]}…” is an encoder-decoder: step through it in the Seq2Seq "
            f"view (/seq2seq?model={model_id})."
        )
    cfg, meta = described["config"], described["meta"]
    tokens = tuple(meta.get("vocab") or ())
    if cfg.get("input_encoding") in ("onehot", "embedding") and tokens:
        tokenizer = stored_tokenizer(meta)
        mode, width = "text", 1
    elif cfg.get("input_encoding") == "vector":
        tokenizer, mode, width = "chars", "numbers", int(cfg["input_size"])
    else:
        raise BadInputError(
            "This stored model reads token ids without a vocabulary, which cannot be typed here; trace it "
            "through the JSON API (weights source “stored”)."
        )
    task = meta.get("task")
    metrics = {k: v for k, v in (meta.get("metrics") or {}).items() if isinstance(v, float)}
    if len(metrics) > 1:  # the task's own metric says more than the loss it was trained on
        metrics.pop("loss", None)
    scores = ", ".join(f"{k.replace('_', ' ')} {v:.3g}" for k, v in metrics.items())
    held_out = f" (held-out {scores})" if scores else ""
    description = "A model stored on this server."
    if task:
        description = f"Trained on the task “{task}” in the Training view{held_out}."
    return PresetChoice(
        model_id,
        meta.get("name") or f"stored model {model_id[:12]}",
        description,
        cfg.get("cell", ""),
        mode,
        tokenizer,
        tokens,
        task_examples(meta, tokens, "" if tokenizer == "chars" else " ") if task else (),
        width,
    )


def trained_input(choice: PresetChoice, state: ViewState) -> dict[str, Any]:
    """The typed input as a trace request's ``input`` for a trained model's input form."""
    if choice.mode == "numbers":
        return {"vectors": parse_vectors(state.input, choice.width)}
    (parse_text if choice.tokenizer == "chars" else parse_words)(state.input)
    return {"text": state.input, "tokenizer": choice.tokenizer}


def api_request(state: ViewState, store: ModelStore | None = None) -> dict[str, Any]:
    """The POST /api/v1/trace body that describes this view's model and input (the page runs exactly this).

    Random weights: text is read as characters, one-hot over the text's own sorted vocabulary, with a softmax
    output over that vocabulary; numbers are one per timestep as a 1-vector with one linear output. A preset
    or a stored model (looked up in ``store``) brings its own configuration, weights and vocabulary.
    BadInputError for input that cannot be used.
    """
    if state.model:
        inp = trained_input(stored_choice(store, state.model), state)
        return {"weights": {"source": "stored", "id": state.model}, "input": inp}
    if state.preset:
        inp = trained_input(preset_choice(state.preset), state)
        return {"weights": {"source": "preset", "name": state.preset}, "input": inp}
    model: dict[str, Any] = {
        "cell": state.cell,
        "hidden_size": state.hidden,
        "num_layers": state.layers,
        "bidirectional": state.bi,
        "nonlinearity": state.act if state.cell == "rnn" else "tanh",
    }
    if state.mode == "numbers":
        numbers = parse_numbers(state.input)
        model.update(output_size=1, output_activation="identity")
        inp = {"vectors": [[v] for v in numbers]}
    else:
        chars = parse_text(state.input)
        model.update(output_size=len(set(chars)), output_activation="softmax")
        inp = {"text": state.input, "tokenizer": "chars"}
    return {"model": model, "weights": {"source": "seed", "seed": state.seed}, "input": inp}


#: The most recorded numbers a page draws (a square and a table entry in the overview, a heatmap cell): the
#: page's own random-weight models reach ~46,000 (40 steps x 3 layers x 2 directions x 32 units x 6 quantities).
#: Wide models are drawn a page of units at a time (app.web.unit_window), so a page's own inputs (at most 40
#: steps) stay under it whatever the model; the check guards against a longer input reaching a picture.
MAX_DRAWN_NUMBERS = 150_000


def drawn_numbers(config: NetworkConfig, steps: int, units: int) -> int:
    """Recorded numbers of ``units`` units of every layer and direction over ``steps``: T x layers x directions x
    units x (gates + h, c), an upper bound of what a picture of them draws."""
    return steps * config.num_layers * config.num_directions * units * (len(config.gates) + 2)


def check_drawable(config: NetworkConfig, steps: int, units: int | None = None) -> None:
    """BadInputError for an input too long to draw, saying what to use instead. ``units``: how many units of
    each state vector the picture draws (default: a page of a wide model, as the pages draw it)."""
    drawn = min(config.hidden_size, PAGE_UNITS) if units is None else units
    numbers = drawn_numbers(config, steps, drawn)
    if numbers > MAX_DRAWN_NUMBERS:
        raise BadInputError(
            f"This is too large to draw: {steps} steps of {config.num_layers} layer(s) x "
            f"{config.num_directions} direction(s) x {drawn} units is {numbers} numbers, over the page's limit "
            f"of {MAX_DRAWN_NUMBERS}. Type a shorter input, or get the whole trace from the API "
            "(POST /api/v1/trace, or /api/v1/trace/export for CSV)."
        )


@lru_cache(maxsize=64)
def _simulate(key: tuple, state: ViewState, store: ModelStore | None, limits: Limits) -> Simulation:
    """Cached per model key, store and limits: a stored model's id is the hash of its weights, so the same
    key always means the same numbers."""
    body = api_request(state, store)
    try:
        result = run_trace(TraceRequest.model_validate(body), store=store, limits=limits)
    except (ApiError, ValidationError) as exc:
        raise BadInputError(f"The model could not be run: {exc}") from None
    check_drawable(result.model.config, len(result.input.values))
    return from_result(state, result)


def from_result(state: ViewState, result: TraceResult) -> Simulation:
    """The simulation a view draws from a trace the service computed (the page's, or an API request's)."""
    model, encoded = result.model, result.input
    vocab = tuple(model.vocab) if model.vocab is not None else None
    if vocab is not None:
        labels = tuple(show_char(vocab[int(k)]) for k in encoded.values)
    else:
        labels = tuple(", ".join(f"{float(x):g}" for x in v) for v in encoded.values)
    output_labels = model.output_labels
    return Simulation(
        state,
        model.config,
        model.params,
        result.trace,
        labels,
        vocab,
        encoded.values,
        tuple(output_labels) if output_labels else None,
        tuple(show_char(w) for w in encoded.typed) if encoded.typed is not None else labels,
        tuple(encoded.unknown) if encoded.unknown is not None else (False,) * len(labels),
    )


def simulate(state: ViewState, store: ModelStore | None = None, limits: Limits | None = None) -> Simulation:
    """Run (or fetch from a small cache) the model of ``state`` within the server's ``limits`` (stored models
    are read from ``store``); the timestep is clamped into the sequence."""
    if state.model:
        state = replace(state, mode=stored_choice(store, state.model).mode)
    elif state.preset:
        state = replace(state, mode=preset_choice(state.preset).mode)
    plain = replace(state, t=0, s=None, unit=None, units=None, layer=0, dir=0, panel="", hl="", rolled=False)
    sim = _simulate(state.model_key(), plain, store, limits or Limits())
    cfg = sim.config
    unit = state.unit if state.unit is not None and state.unit < cfg.hidden_size else None
    shown = replace(
        state,
        t=min(state.t, sim.steps - 1),
        layer=min(state.layer, cfg.num_layers - 1),
        dir=min(state.dir, cfg.num_directions - 1),
        unit=unit,
    )
    return replace(sim, state=shown)


def try_simulate(
    state: ViewState, store: ModelStore | None = None, limits: Limits | None = None
) -> tuple[Simulation | None, str | None]:
    """The simulation, or the message to show when the input cannot be run."""
    try:
        return simulate(state, store, limits), None
    except BadInputError as problem:
        return None, str(problem)
