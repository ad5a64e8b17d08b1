"""The Seq2Seq view: an encoder-decoder reading a source sentence and writing its output token by token.

    encoder    h_j = cell(E_src[x_j], h_{j-1}),  h_0 = 0                       j = 1..S
    context    s_0 = h_S  (the encoder's final state is handed to the decoder)
    decoder    s_t = cell(E_dec[y_{t-1}], s_{t-1}),  y_0 = START
    attention  a_t = softmax_j(score(s_t, h_j)),  c_t = sum_j a_tj h_j,  o_t = tanh(W_c [c_t; s_t])
    output     p_t = softmax(W_o o_t + b_o)   (o_t = s_t without attention)
    greedy     y_t = argmax p_t, fed back in until END or the length cap
    beam       keep the `width` best partial outputs by sum_t log p(y_t | y_<t, x)

Teacher forcing (``tf``): the decoder is fed the reference translation instead of its own outputs, and the
view also runs the same source free (greedy), so each decoder step shows the reference word it read, what it
wrote, and what the free-running decoder wrote at that step. Typed words are folded as the model's vocabulary
says; a word it does not know is read as its unknown token and shown marked (``UNK``, with the word typed).

The state becomes the same body POST /api/v1/seq2seq/trace takes and runs through the same service
(app.services.seq2seq.run_seq2seq), so the page shows exactly the API's numbers. Random weights keep the
preset's vocabularies and sizes (cell, hidden size and attention as chosen), so an untrained and a trained
model can be compared on the same sentence. A stored model (``?model=<id>``, e.g. a finished training run in
app.storage.models) stands in for a preset: its description is reshaped like a preset's (config, vocabularies with their
joiners, task) so the rest of the view does not tell them apart. Every number and colour is placed here;
templates only lay out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import ValidationError

from app.errors import ApiError
from app.schemas.seq2seq import Seq2SeqRequest
from app.services.limits import Limits
from app.services.resolve import tokenize, vocab_folding, vocab_tokens
from app.services.seq2seq import read_words, run_seq2seq
from app.storage.models import ModelStore
from app.web.colors import Scale, text_colour
from app.web.seq2seq_state import MAX_SOURCE_TOKENS, Seq2SeqState
from app.web.simulation import stored_tokenizer
from core import presets

TOP_K = 5
SPECIAL = {"<start>": "START", "<end>": "END", "<pad>": "PAD", "<unk>": "UNK"}


class Seq2SeqInputError(ValueError):
    """A source or model the view cannot run; the message is shown as is."""


class UnknownWordsError(Seq2SeqInputError):
    """Typed words the model cannot read: not in its source vocabulary, which has no unknown-word token to read
    them as. The form shows the message beside the source field."""

    def __init__(self, words: list[str], meta: dict[str, Any]) -> None:
        self.words = words
        quoted = ", ".join(f"“{w}”" for w in words[:10]) + (" …" if len(words) > 10 else "")
        known = len([w for w in vocab_tokens(meta["vocab"]) or () if w not in SPECIAL])
        super().__init__(
            f"{'These words are' if len(words) > 1 else 'This word is'} not in the model's vocabulary: {quoted}. "
            f"It has no unknown-word token to read {'them' if len(words) > 1 else 'it'} as, so nothing was "
            f"translated. Use only the {known} words it knows: the example sentences below are made of them."
        )


def unknown_words(source: str, meta: dict[str, Any]) -> list[str]:
    """The typed tokens the model cannot read at all, read as the API reads them (read_words); empty when
    its vocabulary has an unknown-word token, which stands in for any of them."""
    vocab = vocab_tokens(meta["vocab"]) or []
    typed = tokenize(source, "chars" if meta["vocab"].get("joiner") == "" else "words")
    read = read_words(typed, vocab, vocab_folding(meta["vocab"]))
    known = set(vocab)
    return list(dict.fromkeys(w for w, r in zip(typed, read, strict=True) if r not in known)) if vocab else []


@dataclass(frozen=True)
class Square:
    css: str  # colour bin class, + ' neg' when negative (drawn with a dash: colour is not the only cue)
    title: str
    fill: str = ""  # the bin's hex colour, for SVG (the slide)

    @property
    def negative(self) -> bool:
        return self.css.endswith(" neg")


@dataclass(frozen=True)
class Candidate:
    token: str
    probability: float
    chosen: bool


@dataclass(frozen=True)
class EncoderColumn:
    t: int
    token: str  # as the model read it
    state: tuple[Square, ...]
    summary: str
    typed: str = ""  # the word as typed, when the model read it as its unknown token ('' otherwise)

    @property
    def unknown(self) -> bool:
        return bool(self.typed)


@dataclass(frozen=True)
class DecoderColumn:
    t: int  # position on the timeline (S + k)
    k: int  # decoder step, from 0
    fed: str
    state: tuple[Square, ...]
    summary: str
    output: str
    probability: float
    top: tuple[Candidate, ...]
    attention: tuple[float, ...]  # weight on each source token (empty without attention)
    free: str | None = (
        None  # teacher forcing: what the free-running decoder wrote at this step ('' past its END)
    )
    wanted: str = ""  # teacher forcing: the reference word this step should write

    @property
    def right(self) -> bool:
        """Teacher forcing: whether this step wrote the reference word."""
        return self.output == self.wanted


@dataclass(frozen=True)
class BeamRow:
    hypothesis: str  # the parent's tokens so far
    token: str
    log_prob: float
    score: float
    fate: str


@dataclass(frozen=True)
class HeatCell:
    x: float
    y: float
    fill: str
    ink: str  # 'ink-light' or 'ink-dark', whichever reads on the fill (a class: CSS fills beat attributes)
    text: str
    title: str


@dataclass(frozen=True)
class Heatmap:
    """Attention as a picture: rows are decoder steps (what was written), columns source tokens."""

    width: int
    height: int
    cell_w: int
    cell_h: int
    left: int
    top: int
    col_labels: tuple[tuple[float, str], ...]
    rows: tuple[tuple[int, float, str, tuple[HeatCell, ...]], ...]  # (timeline t, label y, output, cells)


@dataclass(frozen=True)
class Seq2SeqView:
    state: Seq2SeqState
    title: str
    cell: str
    attention: str
    hidden: int
    source: tuple[str, ...]
    output: str
    finished: bool  # END was written
    encoder: tuple[EncoderColumn, ...]
    context: tuple[Square, ...]
    context_summary: str
    decoder: tuple[DecoderColumn, ...]
    scale: Scale
    heatmap: Heatmap | None
    beam: tuple[tuple[BeamRow, ...], ...]  # per search step
    tokenizer: str  # 'words' or 'chars'
    vocab: tuple[str, ...]  # source tokens a person may type
    result: Any = None  # the app.services.seq2seq.Seq2SeqResult drawn (the cell view reads its traces)
    reference: str = ""  # teacher forcing: the reference the decoder was fed
    free_output: str = ""  # teacher forcing: what the same model writes free-running
    written: tuple[str, ...] = ()  # the output's tokens as shown (UNK for the unknown-word token), END left out
    output_joiner: str = " "

    @property
    def writes_unknown(self) -> bool:
        """Whether the output holds the unknown-word token (the page marks it and says what it means)."""
        return SPECIAL["<unk>"] in self.written

    @property
    def teacher_forced(self) -> bool:
        return self.state.tf

    @property
    def forced_right(self) -> int:
        """Teacher forcing: decoder steps that wrote the reference word."""
        return sum(d.right for d in self.decoder)

    @property
    def free_right(self) -> int:
        """Teacher forcing: steps where the free-running decoder wrote the reference word."""
        return sum(d.free == d.wanted for d in self.decoder)

    @property
    def source_text(self) -> str:
        return ("" if self.tokenizer == "chars" else " ").join(self.source)

    @property
    def steps(self) -> int:
        return len(self.encoder) + len(self.decoder)

    @property
    def step_labels(self) -> list[str]:
        last, s = self.steps - 1, len(self.encoder)
        enc = [f"step {e.t} of {last}: encoder step {e.t + 1} reads “{e.token}”" for e in self.encoder]
        fed = "reads the reference's" if self.teacher_forced else "reads"
        dec = [
            f"step {s + d.k} of {last}: decoder step {d.k + 1} {fed if d.k else 'reads'} {d.fed}, writes {d.output}"
            for d in self.decoder
        ]
        return enc + dec


def seq2seq_presets() -> tuple[str, ...]:
    return tuple(m["name"] for m in presets.list_presets() if m.get("kind") == "seq2seq")


def shown(token: str) -> str:
    return SPECIAL.get(token, token)


def squares(values: np.ndarray, scale: Scale, name: str) -> tuple[Square, ...]:
    return tuple(
        Square(
            scale.css_class(float(v)) + (" neg" if v < 0 else ""),
            f"{name}[{j}] = {float(v):+.3f}",
            scale.colour(float(v)),
        )
        for j, v in enumerate(values)
    )


def summary(values: np.ndarray, name: str) -> str:
    """A vector in words for a screen reader: its size and its extremes."""
    hi, lo = int(np.argmax(values)), int(np.argmin(values))
    return (
        f"{name}: {len(values)} values, largest {values[hi]:+.2f} (unit {hi}), "
        f"smallest {values[lo]:+.2f} (unit {lo})"
    )


def reference(state: Seq2SeqState, meta: dict[str, Any]) -> str:
    """What teacher forcing feeds: the typed reference, else the model's task's own translation of the
    source; Seq2SeqInputError when there is neither."""
    from core.tasks import TASKS, get_task

    if state.ref:
        return state.ref
    if meta.get("task") in TASKS:
        task = get_task(meta["task"], **(meta.get("task_options") or {}))
        known = task.reference(state.input) if hasattr(task, "reference") else None
        if known:
            return known
    raise Seq2SeqInputError(
        "Teacher forcing feeds the decoder the reference translation, and this model's task does not know "
        "the one of this source: type it in the Reference field."
    )


def api_request(state: Seq2SeqState, meta: dict[str, Any]) -> dict[str, Any]:
    """The POST /api/v1/seq2seq/trace body of this view (the page runs exactly this)."""
    tokenizer = "chars" if meta["vocab"].get("joiner") == "" else "words"
    body: dict[str, Any] = {
        "source": {"text": state.input, "tokenizer": tokenizer},
        "decode": "teacher_forcing" if state.tf else state.decode,
        "top_k": TOP_K,
    }
    if state.tf:
        target_tokenizer = "chars" if meta["target_vocab"].get("joiner") == "" else "words"
        body["targets"] = {"text": reference(state, meta), "tokenizer": target_tokenizer}
    elif state.decode == "beam":
        body["beam_width"] = state.width
    if state.random:
        cfg = meta["config"]
        body["model"] = {
            "cell": state.cell,
            "hidden_size": state.hidden,
            "embedding_size": cfg["embedding_size"],
            "attention": state.attn,
            "max_length": cfg["max_length"],
            "src_vocab": meta["vocab"]["tokens"],
            "tgt_vocab": meta["target_vocab"]["tokens"],
        }
        body["weights"] = {"source": "seed", "seed": state.seed}
    elif state.model:
        body["weights"] = {"source": "stored", "id": state.model}
    else:
        body["weights"] = {"source": "preset", "name": state.preset}
    return body


def default_source(meta: dict[str, Any]) -> str:
    """The task's first sample sentence: what the view shows before anything is typed."""
    samples = examples(meta)
    if not samples:
        raise Seq2SeqInputError("This model has no task to take an example from; type a source.")
    return samples[0]


def examples(meta: dict[str, Any]) -> list[str]:
    """The sample sentences of the model's task (none for a model without one)."""
    from core.tasks import TASKS, get_task

    if meta.get("task") not in TASKS:
        return []
    return [s.text for s in get_task(meta["task"], **(meta.get("task_options") or {})).samples()]


def stored_meta(store: ModelStore | None, model_id: str) -> dict[str, Any]:
    """A stored encoder-decoder described like a preset (app.services.training writes the vocabularies as token lists,
    the source's split as its tokenizer and the target's as its joiner)."""
    described = store.describe(model_id) if store is not None else None
    if described is None:
        raise Seq2SeqInputError(f"There is no stored model “{model_id[:12]}…” on this server.")
    if described["kind"] != "seq2seq":
        raise Seq2SeqInputError(
            f"The stored model “{model_id[:12]}…” is a single network, not an encoder-decoder: step through "
            "it in the simulator (/?model=…)."
        )
    meta = described["meta"]
    if not meta.get("vocab") or not meta.get("target_vocab"):
        raise Seq2SeqInputError("This stored model has no vocabularies, so its input cannot be typed here.")
    by_chars = stored_tokenizer(meta, ignore=described["config"].get("pad_id", 0)) == "chars"
    return {
        **meta,
        "name": model_id,
        "title": meta.get("name") or f"stored model {model_id[:12]}",
        "config": described["config"],
        "vocab": {"tokens": meta["vocab"], "joiner": "" if by_chars else " "},
        "target_vocab": {"tokens": meta["target_vocab"], "joiner": meta.get("target_joiner", " ")},
    }


def model_meta(state: Seq2SeqState, store: ModelStore | None) -> dict[str, Any]:
    """The preset-shaped description of the model ``state`` names: the stored one, else the preset."""
    return stored_meta(store, state.model) if state.model else preset_meta(state.preset)


def preset_meta(name: str) -> dict[str, Any]:
    for meta in presets.list_presets():
        if meta.get("name") == name and meta.get("kind") == "seq2seq":
            return meta
    raise Seq2SeqInputError(f"There is no encoder-decoder preset “{name}”.")


def ink(fill: str) -> str:
    return "ink-light" if text_colour(fill) == "#ffffff" else "ink-dark"


def heatmap(source: tuple[str, ...], decoder: tuple[DecoderColumn, ...]) -> Heatmap:
    """The T x S attention matrix laid out as cells coloured on [0, 1] (white = 0, orange = 1)."""
    unit = Scale(1.0)
    cell_w = max(46, 8 * max(len(w) for w in source) + 10)
    cell_h = 26
    left = max(60, 8 * max(len(d.output) for d in decoder) + 16)
    top = 22
    rows = []
    for r, d in enumerate(decoder):
        y = top + r * cell_h
        cells = tuple(
            HeatCell(
                left + j * cell_w,
                y,
                unit.colour(w),
                ink(unit.colour(w)),
                f"{w:.2f}",
                f"writing {d.output}, weight on “{source[j]}” = {w:.3f}",
            )
            for j, w in enumerate(d.attention)
        )
        rows.append((d.t, y + cell_h / 2 + 4, d.output, cells))
    labels = tuple((left + j * cell_w + cell_w / 2, w) for j, w in enumerate(source))
    return Heatmap(
        left + len(source) * cell_w + 4,
        top + len(decoder) * cell_h + 4,
        cell_w,
        cell_h,
        left,
        top,
        labels,
        tuple(rows),
    )


def beam_rows(search: Any, tgt_vocab: list[str]) -> tuple[tuple[BeamRow, ...], ...]:
    out = []
    for step in search.steps:
        rows = []
        for parent, token, log_p, score, fate in zip(
            step.parents, step.tokens, step.log_probs, step.scores, step.fates, strict=True
        ):
            so_far = " ".join(shown(tgt_vocab[i]) for i in step.beams[int(parent)]) or "START"
            rows.append(BeamRow(so_far, shown(tgt_vocab[int(token)]), float(log_p), float(score), fate))
        out.append(tuple(rows))
    return tuple(out)


@lru_cache(maxsize=32)
def _build(key: tuple, state: Seq2SeqState, limits: Limits, store: ModelStore | None) -> Seq2SeqView:
    """Cached per model key, limits and store: a stored model's id is the hash of its weights, so the same
    key always gives the same view."""
    meta = model_meta(state, store)
    try:
        result = run_seq2seq(
            Seq2SeqRequest.model_validate(api_request(state, meta)), limits=limits, store=store
        )
    except (ApiError, ValidationError) as exc:
        raise Seq2SeqInputError(f"The model could not be run: {exc}") from None
    trace, src_vocab, tgt_vocab = result.trace, result.src_vocab, result.tgt_vocab
    assert src_vocab is not None and tgt_vocab is not None
    source = tuple(shown(src_vocab[int(k)]) for k in trace.source[: trace.source_lengths[0], 0])
    read = result.read_source
    typed = [""] * len(source)  # the typed word, where the model read its unknown token instead
    if read.typed is not None and read.unknown is not None:
        typed = [w if flag else "" for w, flag in zip(read.typed, read.unknown, strict=True)]
    S, T = len(source), int(trace.output_lengths[0])
    enc_h = trace.encoder.layers[-1][0].quantities()["h"][:S, 0]
    if trace.config.bidirectional:  # the memory is both directions side by side
        enc_h = np.concatenate([enc_h, trace.encoder.layers[-1][1].quantities()["h"][:S, 0]], axis=-1)
    dec_h = trace.decoder.layers[-1][0].quantities()["h"][:T, 0]
    context = trace.context[-1, 0]
    scale = Scale.for_values(np.concatenate([enc_h.ravel(), dec_h.ravel(), context.ravel()]))
    encoder = tuple(
        EncoderColumn(
            j, tok, squares(enc_h[j], scale, f"h_{j + 1}"), summary(enc_h[j], f"h_{j + 1}"), typed[j]
        )
        for j, tok in enumerate(source)
    )
    weights = trace.attention_matrix()
    free = _free_run(state, limits, store) if state.tf else None
    wanted = [shown(tgt_vocab[int(i)]) for i in trace.targets[:, 0]] if trace.targets is not None else []
    decoder = []
    for k in range(T):
        out = int(trace.tokens[k, 0])
        top = tuple(
            Candidate(shown(tgt_vocab[int(i)]), float(p), int(i) == out)
            for i, p in zip(trace.topk_tokens[k, 0], trace.topk_probs[k, 0], strict=True)
        )
        decoder.append(
            DecoderColumn(
                t=S + k,
                k=k,
                fed=shown(tgt_vocab[int(trace.fed_tokens[k, 0])]),
                state=squares(dec_h[k], scale, f"s_{k + 1}"),
                summary=summary(dec_h[k], f"s_{k + 1}"),
                output=shown(tgt_vocab[out]),
                probability=float(trace.probs[k, 0, out]),
                top=top,
                attention=() if weights is None else tuple(float(w) for w in weights[k]),
                free=None if free is None else (free.decoder[k].output if k < len(free.decoder) else ""),
                wanted=wanted[k] if k < len(wanted) else "",
            )
        )
    decoder_t = tuple(decoder)
    written = [tgt_vocab[i] for i in trace.output_ids() if i != trace.config.end_id]
    joiner = "" if meta["target_vocab"].get("joiner") == "" else " "
    return Seq2SeqView(
        state=state,
        title=meta.get("title", state.preset),
        cell=trace.config.cell,
        attention=trace.config.attention,
        hidden=trace.config.hidden_size,
        source=source,
        output=joiner.join(written),
        finished=trace.config.end_id in trace.output_ids(),
        encoder=encoder,
        context=squares(context, scale, "s_0"),
        context_summary=summary(context, "context s_0"),
        decoder=decoder_t,
        scale=scale,
        heatmap=heatmap(source, decoder_t) if weights is not None else None,
        beam=beam_rows(trace.beams[0], tgt_vocab) if trace.beams else (),
        tokenizer="chars" if meta["vocab"].get("joiner") == "" else "words",
        vocab=tuple(w for w in src_vocab if w not in SPECIAL),
        result=result,
        reference=api_request(state, meta)["targets"]["text"] if state.tf else "",
        free_output=free.output if free is not None else "",
        written=tuple(shown(w) for w in written),
        output_joiner=joiner,
    )


def _free_run(state: Seq2SeqState, limits: Limits, store: ModelStore | None) -> Seq2SeqView:
    """The same model and source decoded greedily: what teacher forcing is compared with."""
    free = replace(state, tf=False, ref="", decode="greedy")
    return _build(free.model_key(), free, limits, store)


def build(state: Seq2SeqState, limits: Limits | None = None, store: ModelStore | None = None) -> Seq2SeqView:
    """The view of ``state`` within the server's ``limits`` (a stored model is read from ``store``); an empty
    source becomes the task's first sample, the step is clamped."""
    meta = model_meta(state, store)
    if not state.input:
        state = replace(state, input=default_source(meta))
    count = len(state.input) if meta["vocab"].get("joiner") == "" else len(state.input.split())
    if count > MAX_SOURCE_TOKENS:
        raise Seq2SeqInputError(f"The source may hold at most {MAX_SOURCE_TOKENS} tokens, got {count}.")
    unreadable = unknown_words(state.input, meta)
    if unreadable:
        raise UnknownWordsError(unreadable, meta)
    plain = replace(state, t=0, panel="", unit=None, s=None)  # what the run depends on, and no more
    view = _build(state.model_key(), plain, limits or Limits(), store)
    return replace(view, state=replace(state, t=min(state.t, view.steps - 1)))
