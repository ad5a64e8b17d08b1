"""Encoder-decoder requests to core.seq2seq runs: resolve the model and vocabularies, encode the sentences,
decode (greedy, beam search or teacher forcing), within the limits.

Typed text is read as the model's vocabulary says (as core.tasks.base.Vocab.fold): a word that is not a token
is read, when the vocabulary folds case, as the token equal to it in lower case ("she" as "She"), and a word
still outside it as the unknown token when the vocabulary names one (the reply flags those words);
a model without an unknown token refuses such words with a 422 naming them.

Cost, counted like app.services.limits: the encoder over S source tokens and the decoder over T steps (times the beam
width for beam search), plus the output layer T * V * H_dec and attention T * S * K.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.errors import LimitExceededError, NotFoundError, UnprocessableError
from app.schemas.model import PresetWeights, StoredWeights
from app.schemas.requests import TextInput
from app.schemas.seq2seq import Seq2SeqModelSpec, Seq2SeqRequest, SequenceSpec
from app.services.limits import Limits, check_config, forward_cost
from app.services.resolve import fold_token, stored_of_kind, tokenize, vocab_folding, vocab_tokens
from app.services.trace import quantity_names
from app.storage.models import ModelStore
from core.config import ConfigError
from core.network import InputError

SOURCE_RESERVED = ("<pad>",)
TARGET_RESERVED = ("<pad>", "<start>", "<end>")
NO_FOLDING = (False, None)
Folding = tuple[bool, str | None]  # (fold case, unknown token), as app.services.resolve.vocab_folding reads them


@dataclass(frozen=True)
class Read:
    """A sequence as the model reads it: ids, and for typed text each word as typed and whether it was read
    as the unknown token."""

    ids: np.ndarray
    typed: list[str] | None = None
    unknown: list[bool] | None = None


@dataclass
class Seq2SeqResult:
    trace: Any  # core.seq2seq.Seq2SeqTrace
    config: Any  # core.seq2seq.Seq2SeqConfig
    src_vocab: list[str] | None
    tgt_vocab: list[str] | None
    source: dict[str, Any]  # how the weights were obtained
    quantities: tuple[str, ...]
    precision: int
    params: dict[str, np.ndarray]
    read_source: Read
    read_targets: Read | None = None


def _labels(
    spec_labels: list[str] | None, seq: SequenceSpec | None, reserved: tuple[str, ...], loc: str
) -> list[str] | None:
    """Given labels (checked for duplicates), or reserved labels + the sorted unique tokens of a text."""
    if spec_labels is not None:
        if len(set(spec_labels)) != len(spec_labels):
            raise UnprocessableError(f"{loc} lists a token more than once", ("body", "model", loc))
        return list(spec_labels)
    if isinstance(seq, TextInput):
        words = sorted(set(tokenize(seq.text, seq.tokenizer)) - set(reserved))
        return [*reserved, *words]
    return None


@dataclass(frozen=True)
class Resolved:
    config: Any  # core.seq2seq.Seq2SeqConfig
    params: dict[str, Any] | None  # None: seeded, drawn once the run is known to be within the budget
    src_vocab: list[str] | None
    tgt_vocab: list[str] | None
    source: dict[str, Any]
    src_folding: Folding = NO_FOLDING
    tgt_folding: Folding = NO_FOLDING


def _stored(store: ModelStore | None, model_id: str) -> Resolved:
    """A stored encoder-decoder (e.g. a finished training run) with its vocabularies; app.services.training writes the
    source vocabulary's folding beside it in the meta."""
    stored = stored_of_kind(store, model_id, "seq2seq")
    return Resolved(
        stored.config,
        stored.params,
        vocab_tokens(stored.meta.get("vocab")),
        vocab_tokens(stored.meta.get("target_vocab")),
        {"source": "stored", "id": model_id},
        vocab_folding(stored.meta),
    )


def _resolve(req: Seq2SeqRequest, limits: Limits, store: ModelStore | None) -> Resolved:
    """The model, its vocabularies and where the weights come from. Seeded weights are None here: they are
    drawn only once the run is known to be within the budget (drawing a large model's weights costs more
    than refusing it)."""
    from core.seq2seq import Seq2SeqConfig

    if isinstance(req.weights, StoredWeights):
        if req.model is not None:
            raise UnprocessableError(
                "leave 'model' out for a stored model: its configuration is fixed", ("body", "model")
            )
        return _stored(store, req.weights.id)
    if isinstance(req.weights, PresetWeights):
        if req.model is not None:
            raise UnprocessableError(
                "leave 'model' out for a preset: its configuration is fixed", ("body", "model")
            )
        from core import presets

        if req.weights.name not in presets.preset_names():
            raise NotFoundError(f"no preset named {req.weights.name!r}", ("body", "weights", "name"))
        preset = presets.load_preset(req.weights.name)
        if not isinstance(preset.config, Seq2SeqConfig):
            raise UnprocessableError(
                f"preset {req.weights.name!r} is not an encoder-decoder model; trace it with "
                "POST /api/v1/trace",
                ("body", "weights", "name"),
            )
        return Resolved(
            preset.config,
            preset.params,
            vocab_tokens(preset.meta.get("vocab")),
            vocab_tokens(preset.meta.get("target_vocab")),
            {"source": "preset", "name": req.weights.name},
            vocab_folding(preset.meta.get("vocab")),
            vocab_folding(preset.meta.get("target_vocab")),
        )
    spec = req.model or Seq2SeqModelSpec()
    src_vocab = _labels(spec.src_vocab, req.source, SOURCE_RESERVED, "src_vocab")
    tgt_vocab = _labels(spec.tgt_vocab, req.targets, TARGET_RESERVED, "tgt_vocab")
    fields = spec.model_dump(exclude={"src_vocab", "tgt_vocab", "src_vocab_size", "tgt_vocab_size"})
    for name, labels, given, default in (
        ("src_vocab_size", src_vocab, spec.src_vocab_size, None),
        ("tgt_vocab_size", tgt_vocab, spec.tgt_vocab_size, 8),
    ):
        size = len(labels) if labels is not None else given or default
        if size is None:  # token ids without labels: the largest id decides
            size = (
                max(req.source.tokens) + 1 if not isinstance(req.source, TextInput) else len(SOURCE_RESERVED)
            )
        if given is not None and given != size:
            raise UnprocessableError(
                f"{name} {given} differs from the {size} labels", ("body", "model", name)
            )
        _within(size, limits.max_vocab_size, name, "MAX_VOCAB_SIZE")
        fields[name] = size
    try:
        config = Seq2SeqConfig(**fields)
    except ConfigError as exc:
        raise UnprocessableError(str(exc), ("body", "model")) from None
    return Resolved(config, None, src_vocab, tgt_vocab, {"source": "seed", "seed": req.weights.seed})


def _within(value: int, limit: int, name: str, env: str) -> None:
    if value > limit:
        raise LimitExceededError(
            f"{name} is {value}, over the limit of {limit} (server setting UNROLLED_{env})",
            ("body", "model", name),
        )


def read_words(words: list[str], vocab: list[str], folding: Folding) -> list[str]:
    """Each typed word as the vocabulary reads it: itself, else (folding case) the token equal to it in lower
    case, else the unknown-word token when the vocabulary has one; a word it cannot read comes back unchanged,
    so it is the one not in ``vocab``."""
    index = {token: k for k, token in enumerate(vocab)}
    fold_case, unknown_token = folding
    if unknown_token not in index:
        unknown_token = None  # a token the vocabulary lacks cannot stand in for others
    lowered: dict[str, str] = {}
    for token in vocab if fold_case else ():
        lowered.setdefault(token.lower(), token)
    return [w if w in index else lowered.get(w.lower()) or fold_token(w, index, False, unknown_token) for w in words]


def _ids(
    seq: SequenceSpec, vocab: list[str] | None, size: int, loc: str, limits: Limits, folding: Folding
) -> Read:
    if isinstance(seq, TextInput):
        if len(seq.text) > limits.max_text_chars:
            raise UnprocessableError(
                f"text is over {limits.max_text_chars} characters", ("body", loc, "text")
            )
        if vocab is None:
            raise UnprocessableError("this model has no vocabulary labels; give tokens", ("body", loc))
        index = {token: k for k, token in enumerate(vocab)}
        words = tokenize(seq.text, seq.tokenizer)
        read = read_words(words, vocab, folding)
        unknown_token = folding[1] if folding[1] in index else None
        unknown = sorted({w for w, r in zip(words, read, strict=True) if r not in index})
        if unknown:
            raise UnprocessableError(f"tokens not in the vocabulary: {unknown[:20]}", ("body", loc, "text"))
        if not words:
            raise UnprocessableError("the text holds no tokens", ("body", loc, "text"))
        flags = [r == unknown_token and w != unknown_token for w, r in zip(words, read, strict=True)]
        return Read(np.array([index[r] for r in read], dtype=np.int64), words, flags)
    bad = sorted({t for t in seq.tokens if t >= size})
    if bad:
        raise UnprocessableError(
            f"token ids must lie in [0, {size - 1}]; out of range: {bad[:10]}", ("body", loc, "tokens")
        )
    return Read(np.array(seq.tokens, dtype=np.int64))


def _check_cost(
    config: Any, source_steps: int, decoder_steps: int, width: int, quantities: int, limits: Limits
) -> None:
    if source_steps > limits.max_steps:
        raise LimitExceededError(
            f"the source has {source_steps} tokens, over the limit of {limits.max_steps}", ("body", "source")
        )
    if decoder_steps > limits.max_steps:
        raise LimitExceededError(
            f"max_length {decoder_steps} is over the limit of {limits.max_steps}", ("body", "max_length")
        )
    encoder, decoder = config.encoder_config(), config.decoder_config()
    check_config(limits, encoder)
    check_config(limits, decoder)
    per_step = (
        forward_cost(decoder, 1)
        + config.tgt_vocab_size * config.dec_hidden
        + source_steps * config.memory_size * 2
    )
    cost = forward_cost(encoder, source_steps) + width * decoder_steps * per_step
    if cost > limits.max_compute:
        raise LimitExceededError(
            f"compute budget: this run needs about {cost} multiply-adds, over the limit of "
            f"{limits.max_compute} (server setting UNROLLED_MAX_COMPUTE)",
            ("body",),
        )
    numbers = (
        (source_steps * config.memory_size + decoder_steps * config.dec_hidden)
        * quantities
        * config.num_layers
    )
    if numbers > limits.max_numbers:
        raise LimitExceededError(
            f"the reply would hold {numbers} numbers, over the limit of {limits.max_numbers}",
            ("body", "include"),
        )


def run_seq2seq(
    req: Seq2SeqRequest, *, limits: Limits | None = None, store: ModelStore | None = None
) -> Seq2SeqResult:
    """Run ``req``; weights ``{source: 'stored', id}`` are read from ``store``."""
    from core.seq2seq import beam_decode, forward, greedy_decode, init_params

    limits = limits or Limits()
    resolved = _resolve(req, limits, store)
    config, params, src_vocab, tgt_vocab, source = (
        resolved.config, resolved.params, resolved.src_vocab, resolved.tgt_vocab, resolved.source)
    encoder = config.encoder_config()
    available = quantity_names(encoder)
    include = req.include or list(available)
    unknown = [name for name in include if name not in available]
    if unknown:
        raise UnprocessableError(
            f"unknown quantities {unknown}; choose from {list(available)}", ("body", "include")
        )
    quantities = tuple(name for name in available if name in include)
    precision = req.precision or limits.default_precision
    if precision > limits.max_precision:
        raise UnprocessableError(
            f"precision is over the limit of {limits.max_precision}", ("body", "precision")
        )
    read_source = _ids(req.source, src_vocab, config.src_vocab_size, "source", limits, resolved.src_folding)
    read_targets = None
    src = read_source.ids
    if (src == config.pad_id).any():
        raise UnprocessableError("the source may not contain the padding token", ("body", "source"))
    if req.decode == "teacher_forcing":
        if req.targets is None:
            raise UnprocessableError("teacher forcing needs targets", ("body", "targets"))
        read_targets = _ids(
            req.targets, tgt_vocab, config.tgt_vocab_size, "targets", limits, resolved.tgt_folding
        )
        tgt = read_targets.ids
        if tgt.size == 0 or tgt[-1] != config.end_id:
            tgt = np.append(tgt, config.end_id)
        steps = len(tgt)
    else:
        if req.targets is not None:
            raise UnprocessableError("targets apply to decode 'teacher_forcing' only", ("body", "targets"))
        steps = req.max_length or config.max_length
    width = req.beam_width if req.decode == "beam" else 1
    top_k = min(req.top_k, config.tgt_vocab_size)
    _check_cost(config, len(src), steps, width, len(quantities), limits)
    if params is None:
        params = init_params(config, source["seed"])
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            if req.decode == "greedy":
                trace = greedy_decode(params, config, src, max_length=steps, top_k=top_k)
            elif req.decode == "beam":
                trace = beam_decode(params, config, src, width=width, max_length=steps, top_k=top_k)
            else:
                trace = forward(
                    params,
                    config,
                    src,
                    tgt,
                    teacher_forcing=req.teacher_forcing,
                    seed=req.seed,
                    top_k=top_k,
                )
    except (InputError, ValueError) as exc:
        raise UnprocessableError(str(exc), ("body",)) from None
    return Seq2SeqResult(trace, config, src_vocab, tgt_vocab, source, quantities, precision, params,
                         read_source, read_targets)
