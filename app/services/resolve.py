"""From a request to something core can run: a NetworkConfig, its parameters, and the encoded input.

Seeded and inline weights take their configuration from ``model`` plus what the input implies (vector width,
or the vocabulary); presets and stored models bring a fixed configuration and vocabulary, and the input is
encoded against them. Every problem becomes an :class:`~app.errors.UnprocessableError` (422) or
:class:`~app.errors.NotFoundError` (404) whose ``loc`` names the field.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.errors import NotFoundError, UnprocessableError
from app.schemas.model import InlineWeights, ModelSpec, PresetWeights, SeedWeights, StoredWeights
from app.schemas.requests import InputSpec, TextInput, TokensInput, TraceOptions, TraceRequest, VectorsInput
from app.services.limits import Limits, check_config
from app.storage.models import ModelStore, StoredModel
from core import presets
from core.config import ConfigError, NetworkConfig
from core.params import Params, init_params

#: Where a field sits in the request, as a 422's ``loc`` gives it: ("body", "input") or ("body", "inputs", 2).
Loc = tuple[str | int, ...]
INPUT_LOC: Loc = ("body", "input")


@dataclass
class ResolvedModel:
    config: NetworkConfig
    params: Params
    vocab: list[str] | None  # labels of the input tokens
    source: dict[str, Any]  # how the weights were obtained, echoed in the response
    meta: dict[str, Any] = field(default_factory=dict)
    fold_case: bool = False  # typed text is read in lower case (a trained model's vocabulary may say so)
    unknown: str | None = None  # the token any other typed token is read as; None: other tokens are refused

    @property
    def output_labels(self) -> list[str] | None:
        """Names of the output units: the model's own (e.g. sentiment classes), else the vocabulary."""
        labels = self.meta.get("output_labels")
        if labels is not None and len(labels) == self.config.output_size:
            return list(labels)
        if self.vocab is not None and len(self.vocab) == self.config.output_size:
            return self.vocab
        return None


@dataclass
class EncodedInput:
    values: np.ndarray  # (T,) token ids or (T, input_size) floats
    labels: list[str] | None  # the token of each step as the model reads it, when the vocabulary names them
    typed: list[str] | None = None  # text input: each step's token as typed (before folding)
    unknown: list[bool] | None = None  # text input: whether the step's typed token became the unknown token

    @property
    def steps(self) -> int:
        return int(self.values.shape[0])


def tokenize(text: str, tokenizer: str) -> list[str]:
    """'chars': every character is a token; 'words': whitespace-separated words (punctuation attached)."""
    return list(text) if tokenizer == "chars" else text.split()


def resolve(
    req: TraceRequest, store: ModelStore | None, limits: Limits
) -> tuple[ResolvedModel, EncodedInput]:
    """The model and the encoded input of a request, within the configured limits."""
    model, (encoded,) = resolve_inputs(req, [req.input], [INPUT_LOC], store, limits)
    return model, encoded


def resolve_inputs(
    req: TraceOptions, inputs: list[InputSpec], locs: list[Loc], store: ModelStore | None, limits: Limits
) -> tuple[ResolvedModel, list[EncodedInput]]:
    """The model of a request and each of its inputs encoded for it (``locs``: where each input sits).

    A configuration inferred from the input (vector width, vocabulary) is inferred from all of them."""
    if isinstance(req.weights, PresetWeights | StoredWeights):
        if req.model is not None:
            raise UnprocessableError(
                "leave 'model' out when the weights come from a preset or a stored model: "
                "their configuration is fixed",
                ("body", "model"),
            )
        model = (
            load_preset(req.weights.name)
            if isinstance(req.weights, PresetWeights)
            else load_stored(store, req.weights.id)
        )
        check_config(limits, model.config)
        return model, encode_all(model, inputs, locs, limits)
    if isinstance(req.weights, InlineWeights) and req.model is None:
        model = inline_model(req.weights, None, limits)
        return model, encode_all(model, inputs, locs, limits)
    spec = req.model or ModelSpec()
    config, vocab = config_for_inputs(spec, inputs, locs, limits)
    check_config(limits, config)
    if isinstance(req.weights, SeedWeights):
        model = ResolvedModel(
            config, init_params(config, req.weights.seed), vocab, {"source": "seed", "seed": req.weights.seed}
        )
    else:
        model = inline_model(req.weights, config, limits)
        model.vocab = vocab
    return model, encode_all(model, inputs, locs, limits)


# ------------------------------------------------------------------------------------------------------------
# Configuration from the model fields and the input


def config_for_input(
    spec: ModelSpec, inp: InputSpec, limits: Limits
) -> tuple[NetworkConfig, list[str] | None]:
    """The NetworkConfig a ModelSpec describes, with input_size / vocabulary filled in from the input."""
    return config_for_inputs(spec, [inp], [INPUT_LOC], limits)


def config_for_inputs(
    spec: ModelSpec, inputs: list[InputSpec], locs: list[Loc], limits: Limits
) -> tuple[NetworkConfig, list[str] | None]:
    """config_for_input for inputs of one form: the width of the first, the vocabulary of them all."""
    inp = inputs[0]
    encoding = spec.input_encoding or ("vector" if isinstance(inp, VectorsInput) else "onehot")
    vocab: list[str] | None = None
    vocab_size: int | None = None
    if encoding == "vector":
        if not all(isinstance(one, VectorsInput) for one in inputs):
            raise UnprocessableError(
                "text and token inputs need input_encoding 'onehot' or 'embedding'",
                ("body", "model", "input_encoding"),
            )
        if spec.vocab is not None or spec.vocab_size is not None:
            raise UnprocessableError(
                "vocab and vocab_size apply to token inputs only", ("body", "model", "vocab")
            )
        assert isinstance(inp, VectorsInput)
        input_size = spec.input_size or len(inp.vectors[0])
    else:
        vocab, vocab_size = _vocabulary(spec, inputs, locs, limits)
        if encoding == "onehot":
            if spec.input_size is not None and spec.input_size != vocab_size:
                raise UnprocessableError(
                    f"one-hot inputs have input_size == vocabulary size ({vocab_size}); "
                    f"leave input_size out or set it to {vocab_size}",
                    ("body", "model", "input_size"),
                )
            input_size = vocab_size
        else:
            input_size = spec.input_size or spec.hidden_size
    try:
        config = NetworkConfig(
            cell=spec.cell,
            input_size=input_size,
            hidden_size=spec.hidden_size,
            num_layers=spec.num_layers,
            bidirectional=spec.bidirectional,
            nonlinearity=spec.nonlinearity,
            output_size=spec.output_size,
            output_activation=spec.output_activation,
            input_encoding=encoding,
            vocab_size=vocab_size,
            dtype=spec.dtype,
        )
    except ConfigError as exc:
        raise UnprocessableError(str(exc), ("body", "model")) from None
    return config, vocab


def _vocabulary(
    spec: ModelSpec, inputs: list[InputSpec], locs: list[Loc], limits: Limits
) -> tuple[list[str] | None, int]:
    """The vocabulary ``vocab`` names; else the sorted tokens of the texts, or the largest token id + 1."""
    if spec.vocab is not None:
        if len(set(spec.vocab)) != len(spec.vocab):
            dupes = sorted(t for t, n in Counter(spec.vocab).items() if n > 1)
            raise UnprocessableError(
                f"vocab lists these tokens more than once: {dupes[:10]}", ("body", "model", "vocab")
            )
        if spec.vocab_size is not None and spec.vocab_size != len(spec.vocab):
            raise UnprocessableError(
                f"vocab_size {spec.vocab_size} differs from the {len(spec.vocab)} tokens in vocab",
                ("body", "model", "vocab_size"),
            )
        return list(spec.vocab), len(spec.vocab)
    texts = [inp for inp in inputs if isinstance(inp, TextInput)]
    if texts and len(texts) == len(inputs):
        words: set[str] = set()
        for inp, loc in zip(texts, locs, strict=True):
            _check_text(inp, limits, loc)
            words.update(tokenize(inp.text, inp.tokenizer))
        vocab = sorted(words)
        if not vocab:
            raise UnprocessableError("the text holds no tokens", (*locs[0], "text"))
        if spec.vocab_size is not None and spec.vocab_size != len(vocab):
            raise UnprocessableError(
                f"vocab_size {spec.vocab_size} differs from the {len(vocab)} distinct tokens of the "
                "text; give the tokens in 'vocab' to fix their order and number",
                ("body", "model", "vocab_size"),
            )
        return vocab, len(vocab)
    if all(isinstance(inp, TokensInput) for inp in inputs):
        return None, spec.vocab_size or max(
            max(inp.tokens) for inp in inputs if isinstance(inp, TokensInput)
        ) + 1
    raise UnprocessableError(
        "vector inputs need input_encoding 'vector'", ("body", "model", "input_encoding")
    )


def _check_text(inp: TextInput, limits: Limits, loc: Loc = INPUT_LOC) -> None:
    if len(inp.text) > limits.max_text_chars:
        raise UnprocessableError(
            f"text has {len(inp.text)} characters, over the limit of {limits.max_text_chars} "
            "(server setting UNROLLED_MAX_TEXT_CHARS)",
            (*loc, "text"),
        )


# ------------------------------------------------------------------------------------------------------------
# Weights


def inline_model(weights: InlineWeights, config: NetworkConfig | None, limits: Limits) -> ResolvedModel:
    """Tensors from the request, renamed and checked by core.weights_io; config inferred if not given.

    An inferred config is checked against the limits before the tensors are matched to it: a name such as
    ``weight_ih_l99999999`` would otherwise make the expected shapes of 10^8 layers (and exhaust memory).
    """
    from core.weights_io import WeightsError, infer_config, params_for_config

    tensors: dict[str, np.ndarray] = {}
    for name, values in weights.tensors.items():
        try:
            tensors[name] = np.array(values, dtype=np.float64)
        except ValueError:
            raise UnprocessableError(
                f"tensor {name!r} is ragged: every row must have the same length",
                ("body", "weights", "tensors", name),
            ) from None
    try:
        if config is None:
            config = infer_config(tensors)
            check_config(limits, config, ("body", "weights", "tensors"))
        params = params_for_config(tensors, config)
    except (WeightsError, ConfigError) as exc:
        raise UnprocessableError(str(exc), ("body", "weights", "tensors")) from None
    return ResolvedModel(config, params, None, {"source": "inline"})


def load_preset(name: str) -> ResolvedModel:
    if name not in presets.preset_names():
        raise NotFoundError(
            f"no preset named {name!r}; GET /api/v1/presets lists them", ("body", "weights", "name")
        )
    preset = presets.load_preset(name)
    if not isinstance(preset.config, NetworkConfig):
        raise UnprocessableError(
            f"preset {name!r} is a {preset.meta.get('kind')} model, which this endpoint does not trace",
            ("body", "weights", "name"),
        )
    meta = dict(preset.meta)
    fold_case, unknown = vocab_folding(meta.get("vocab"))
    return ResolvedModel(
        preset.config,
        preset.params,
        vocab_tokens(meta.get("vocab")),
        {"source": "preset", "name": name},
        meta,
        fold_case,
        unknown,
    )


def vocab_tokens(vocab: Any) -> list[str] | None:
    """Token labels from a list, or from a {'tokens': [...]} description (presets and tasks)."""
    if isinstance(vocab, dict):
        vocab = vocab.get("tokens")
    return None if vocab is None else [str(token) for token in vocab]


def vocab_folding(described: Any) -> tuple[bool, str | None]:
    """(fold_case, unknown token) from a vocabulary description ({'tokens': [...], 'fold_case': true,
    'unknown': '□'}, as a task writes it) or from a stored model's meta, which has the same two keys."""
    if not isinstance(described, dict):
        return False, None
    unknown = described.get("unknown")
    return bool(described.get("fold_case", False)), None if unknown is None else str(unknown)


#: What a stored model of each kind is, and where to send it, for a request that asked for the other kind.
KIND_ELSEWHERE = {
    "network": "a single network, not an encoder-decoder; trace it with POST /api/v1/trace",
    "seq2seq": "an encoder-decoder (Seq2Seq) model; run it with POST /api/v1/seq2seq/trace",
}


def stored_of_kind(store: ModelStore | None, model_id: str, kind: str) -> StoredModel:
    """The stored model ``model_id``: 404 when there is none, 422 when it is not of ``kind``."""
    stored = store.get(model_id) if store is not None else None
    if stored is None:
        raise NotFoundError(f"no stored model with id {model_id!r}", ("body", "weights", "id"))
    if stored.kind != kind:
        raise UnprocessableError(
            f"stored model {model_id!r} is {KIND_ELSEWHERE[stored.kind]}", ("body", "weights", "id")
        )
    return stored


def load_stored(store: ModelStore | None, model_id: str) -> ResolvedModel:
    stored = stored_of_kind(store, model_id, "network")
    assert isinstance(stored.config, NetworkConfig)  # a "network" row always holds a NetworkConfig
    vocab = stored.meta.get("vocab")
    tokens = list(vocab) if vocab is not None else None
    fold_case, unknown = vocab_folding(stored.meta)
    if unknown is not None and (tokens is None or unknown not in tokens):
        unknown = None  # a token the vocabulary lacks cannot stand in for others
    return ResolvedModel(
        stored.config,
        stored.params,
        tokens,
        {"source": "stored", "id": model_id},
        stored.meta,
        fold_case,
        unknown,
    )


# ------------------------------------------------------------------------------------------------------------
# Input


def encode_all(
    model: ResolvedModel, inputs: list[InputSpec], locs: list[Loc], limits: Limits
) -> list[EncodedInput]:
    return [encode_for(model, inp, limits, loc) for inp, loc in zip(inputs, locs, strict=True)]


def encode_for(model: ResolvedModel, inp: InputSpec, limits: Limits, loc: Loc = INPUT_LOC) -> EncodedInput:
    """The input as core reads it: (T, input_size) floats, or (T,) token ids checked against the vocab."""
    config = model.config
    if config.input_encoding == "vector":
        if not isinstance(inp, VectorsInput):
            raise UnprocessableError(
                f"this model reads vectors of {config.input_size} numbers; give input.vectors", loc
            )
        widths = {len(row) for row in inp.vectors}
        if widths != {config.input_size}:
            raise UnprocessableError(
                f"every row of input.vectors must hold input_size = {config.input_size} numbers, "
                f"got rows of {sorted(widths)}",
                (*loc, "vectors"),
            )
        return EncodedInput(np.array(inp.vectors, dtype=np.float64), None)
    assert config.vocab_size is not None
    if isinstance(inp, VectorsInput):
        raise UnprocessableError("this model reads tokens; give input.text or input.tokens", loc)
    if isinstance(inp, TokensInput):
        bad = sorted({t for t in inp.tokens if t >= config.vocab_size})
        if bad:
            raise UnprocessableError(
                f"token ids must lie in [0, {config.vocab_size - 1}]; out of range: {bad[:10]}",
                (*loc, "tokens"),
            )
        labels = [model.vocab[t] for t in inp.tokens] if model.vocab is not None else None
        return EncodedInput(np.array(inp.tokens, dtype=np.int64), labels)
    _check_text(inp, limits, loc)
    if model.vocab is None:
        raise UnprocessableError(
            "this model has no vocabulary labels to map text onto; give input.tokens", (*loc, "text")
        )
    index = {token: k for k, token in enumerate(model.vocab)}
    typed = tokenize(inp.text, inp.tokenizer)
    if not typed:
        raise UnprocessableError("the text holds no tokens", (*loc, "text"))
    read = [fold_token(w, index, model.fold_case, model.unknown) for w in typed]
    unknown = sorted({w for w, r in zip(typed, read, strict=True) if r not in index})
    if unknown:
        raise UnprocessableError(f"tokens not in the vocabulary: {unknown[:20]}", (*loc, "text"))
    flags = [r == model.unknown and w != model.unknown for w, r in zip(typed, read, strict=True)]
    return EncodedInput(np.array([index[r] for r in read], dtype=np.int64), read, typed, flags)


def fold_token(token: str, index: dict[str, int], fold_case: bool, unknown: str | None) -> str:
    """The vocabulary token a typed token is read as: lower-cased when the model folds case, else the unknown
    token when the model has one; unchanged otherwise (the caller refuses it)."""
    if token in index:
        return token
    low = token.lower() if fold_case else token
    if low in index or unknown is None:
        return low
    return unknown
