"""Import a model file (.npz or .safetensors keyed by PyTorch state_dict names) into the store.

A single network's shape is read off the tensors (core.weights_io.infer_config); what the tensors cannot show
(nonlinearity, output activation, one-hot inputs, dtype) and the labels (vocabulary, output classes) come
from the optional ``config`` form field, a JSON object validated by :class:`UploadConfig`. Tensors under
Unrolled's encoder-decoder names (``encoder_embedding.weight``, ``decoder.weight_hh_l0``, ...: what
``GET /models/{id}/weights`` gives for a trained Seq2Seq model) are read as one (core.seq2seq.weights), with
the source and target vocabularies and the decoding length from ``config``.

A vanilla RNN's nonlinearity is not in its tensors, so a file holding one (alone or as an encoder-decoder) is
refused until ``config.nonlinearity`` says it: a guess would make every number of every trace wrong for a
ReLU RNN, and a warning in a JSON reply is easy to miss in a script. An error caused by a ``config`` field
(the file builds a model once that field is left out) points at ``config.<field>``; what the file itself
gets wrong points at ``file``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt, ValidationError

from app.errors import UnprocessableError
from app.schemas.common import MAX_LIST, WHOLE, StrictModel
from app.schemas.model import Token
from app.services.limits import Limits, check_config
from app.storage.models import ModelStore
from core.config import ConfigError, NetworkConfig
from core.params import Params
from core.seq2seq.config import Seq2SeqConfig

ModelConfig = NetworkConfig | Seq2SeqConfig


class UploadConfig(StrictModel):
    """Fields of the network the tensors cannot show, and labels kept with the model."""

    name: Annotated[str, Field(max_length=100)] | None = None
    cell: Literal["rnn", "lstm", "gru"] | None = None
    nonlinearity: Literal["tanh", "sigmoid", "relu"] | None = None
    output_activation: Literal["identity", "softmax"] | None = None
    input_encoding: Literal["vector", "onehot", "embedding"] | None = None
    dtype: Literal["float64", "float32"] | None = None
    vocab: Annotated[list[Token], Field(min_length=1, max_length=MAX_LIST)] | None = None
    output_labels: Annotated[list[Token], Field(min_length=1, max_length=MAX_LIST)] | None = None
    # How typed text splits into the tokens of ``vocab`` in the simulator: characters or words.
    tokenizer: Literal["chars", "words"] | None = None
    # An encoder-decoder's target tokens (``vocab`` holds its source tokens) and its longest decoded output.
    target_vocab: Annotated[list[Token], Field(min_length=1, max_length=MAX_LIST)] | None = None
    max_length: Annotated[StrictInt, Field(ge=1, le=MAX_LIST), WHOLE] | None = None


#: Fields that describe one kind of model only.
NETWORK_ONLY = ("output_activation", "input_encoding", "output_labels")
SEQ2SEQ_ONLY = ("target_vocab", "max_length")


#: What a malformed file can raise inside the readers besides WeightsError (all mean "not a model file").
MALFORMED = (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile, RuntimeError)


def parse_upload_config(raw: str | None) -> UploadConfig:
    if raw is None or not raw.strip():
        return UploadConfig()
    try:
        return UploadConfig.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = tuple(first.get("loc", ()))
        shown = ".".join(str(p) for p in where)
        raise UnprocessableError(
            f"config: {first.get('msg')}" + (f" at config.{shown}" if shown else ""), ("body", "config", *where)
        ) from None


def import_model(data: bytes, options: UploadConfig, store: ModelStore, limits: Limits) -> dict[str, Any]:
    from core.seq2seq.weights import is_seq2seq
    from core.weights_io import ReadBounds, load_weights

    bounds = ReadBounds(max_tensors=limits.max_upload_tensors, max_bytes=limits.max_upload_tensor_bytes)
    try:
        tensors = load_weights(data, bounds=bounds)
    except MALFORMED as exc:
        raise UnprocessableError(
            f"not a readable .npz or .safetensors file: {exc}", ("body", "file")
        ) from None
    read = _read_seq2seq if is_seq2seq(tensors) else _read_network
    config, params, meta = read(tensors, options, limits)
    model_id = store.put(config, params, meta)
    return store.describe(model_id) or {}


#: What the loaders raise when a file (or the config beside it) describes no model they can build.
LOAD_ERRORS = (ConfigError, ValueError)


def _built(
    build: Callable[[dict[str, Any]], tuple[ModelConfig, Params]], overrides: dict[str, Any]
) -> tuple[ModelConfig, Params]:
    """``build(overrides)``, or a 422 on what is wrong: a config field when the file builds without that field
    (the first one, in the order given), else the file. The readers' own 422s (limits) pass as they are."""
    try:
        return build(overrides)
    except UnprocessableError:
        raise
    except LOAD_ERRORS as exc:
        for name in overrides:
            try:
                build({k: v for k, v in overrides.items() if k != name})
            except (UnprocessableError, *LOAD_ERRORS):
                continue
            raise UnprocessableError(
                f"config.{name} = {overrides[name]!r} does not fit the tensors: {exc}; leave it out or change it",
                ("body", "config", name),
            ) from None
        raise UnprocessableError(str(exc), ("body", "file")) from None


def _require_nonlinearity(cell: str, options: UploadConfig) -> None:
    """A vanilla RNN's nonlinearity is an argument of nn.RNN, not a tensor: it cannot be read off the file,
    and tanh and relu give different numbers everywhere, so it is asked for rather than guessed."""
    if cell == "rnn" and options.nonlinearity is None:
        raise UnprocessableError(
            "this file holds a vanilla RNN, whose nonlinearity is not among its tensors (PyTorch keeps nn.RNN's "
            "nonlinearity argument out of the state_dict): set config.nonlinearity to 'tanh' or 'relu' "
            "(or 'sigmoid'), e.g. config={\"nonlinearity\": \"relu\"}",
            ("body", "config", "nonlinearity"),
        )


def _read_network(
    tensors: dict[str, Any], options: UploadConfig, limits: Limits
) -> tuple[NetworkConfig, Params, dict[str, Any]]:
    from core.weights_io import infer_config, params_for_config

    _refuse_fields(options, SEQ2SEQ_ONLY, "an encoder-decoder")
    overrides = options.model_dump(
        exclude_none=True, exclude={"name", "vocab", "output_labels", "tokenizer", *SEQ2SEQ_ONLY}
    )

    def build(fields: dict[str, Any]) -> tuple[NetworkConfig, Params]:
        config = infer_config(tensors, **fields)
        check_config(limits, config, ("body", "file"))
        return config, params_for_config(tensors, config)

    config, params = _built(build, overrides)
    assert isinstance(config, NetworkConfig)
    _require_nonlinearity(config.cell, options)
    if options.vocab is not None and config.vocab_size != len(options.vocab):
        reads = (
            "vectors, not tokens (no embedding tensor): leave vocab out, or set config.input_encoding to "
            "'onehot' for one-hot tokens"
            if config.vocab_size is None
            else f"{config.vocab_size} tokens"
        )
        raise UnprocessableError(
            f"vocab has {len(options.vocab)} tokens but the model reads {reads}", ("body", "config", "vocab")
        )
    if options.output_labels is not None and len(options.output_labels) != config.output_size:
        raise UnprocessableError(
            f"output_labels has {len(options.output_labels)} labels but the model has "
            f"output_size {config.output_size}",
            ("body", "config", "output_labels"),
        )
    return config, params, options.model_dump(
        exclude_none=True, include={"name", "vocab", "output_labels", "tokenizer"}
    )


def _read_seq2seq(
    tensors: dict[str, Any], options: UploadConfig, limits: Limits
) -> tuple[Seq2SeqConfig, Params, dict[str, Any]]:
    from core.seq2seq.weights import infer_config, params_for_config

    _refuse_fields(options, NETWORK_ONLY, "a single network")
    overrides = options.model_dump(exclude_none=True, include={"nonlinearity", "dtype", "max_length"})

    def build(fields: dict[str, Any]) -> tuple[Seq2SeqConfig, Params]:
        config = infer_config(tensors, **fields)
        check_config(limits, config.encoder_config(), ("body", "file"))
        check_config(limits, config.decoder_config(), ("body", "file"))
        return config, params_for_config(tensors, config)

    config, params = _built(build, overrides)
    assert isinstance(config, Seq2SeqConfig)
    if options.cell is not None and options.cell != config.cell:
        raise UnprocessableError(
            f"config says cell {options.cell!r} but the tensors are a {config.cell} encoder-decoder: leave "
            f"config.cell out or set it to {config.cell!r}",
            ("body", "config", "cell"),
        )
    _require_nonlinearity(config.cell, options)
    for name, tokens, size in (("vocab", options.vocab, config.src_vocab_size),
                               ("target_vocab", options.target_vocab, config.tgt_vocab_size)):
        if tokens is not None and len(tokens) != size:
            raise UnprocessableError(
                f"{name} has {len(tokens)} tokens but the model's embedding has {size} rows",
                ("body", "config", name),
            )
    meta = options.model_dump(exclude_none=True, include={"name", "vocab", "target_vocab", "tokenizer"})
    if options.tokenizer is not None:  # decoded tokens are shown joined the way the source splits
        meta["target_joiner"] = "" if options.tokenizer == "chars" else " "
    return config, params, meta


def _refuse_fields(options: UploadConfig, names: tuple[str, ...], kind: str) -> None:
    given = [name for name in names if getattr(options, name) is not None]
    if given:
        raise UnprocessableError(
            f"config fields {given} describe {kind}, not the model in this file", ("body", "config", given[0])
        )
