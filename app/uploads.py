"""Import a model file (.npz or .safetensors keyed by PyTorch state_dict names) into the store.

A single network's shape is read off the tensors (core.weights_io.infer_config); what the tensors cannot show
(nonlinearity, output activation, one-hot inputs, dtype) and the labels (vocabulary, output classes) come
from the optional ``config`` form field, a JSON object validated by :class:`UploadConfig`. Tensors under
Unrolled's encoder-decoder names (``encoder_embedding.weight``, ``decoder.weight_hh_l0``, ...: what
``GET /models/{id}/weights`` gives for a trained Seq2Seq model) are read as one (core.seq2seq.weights), with
the source and target vocabularies and the decoding length from ``config``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt, ValidationError

from app.errors import UnprocessableError
from app.limits import Limits, check_config
from app.schemas.common import MAX_LIST, StrictModel
from app.schemas.model import Token
from app.store import ModelStore
from core.config import ConfigError, NetworkConfig
from core.params import Params
from core.seq2seq.config import Seq2SeqConfig


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
    max_length: Annotated[StrictInt, Field(ge=1, le=MAX_LIST)] | None = None


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
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise UnprocessableError(
            f"config: {first.get('msg')}" + (f" at {where}" if where else ""), ("body", "config")
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
    with _file_errors():
        config, params, meta = read(tensors, options, limits)
    model_id = store.put(config, params, meta)
    return store.describe(model_id) or {}


@contextmanager
def _file_errors() -> Iterator[None]:
    """What the loaders raise about the file (a configuration it cannot have, tensors that do not fit) as a
    422 on ``file``; the readers' own 422s pass as they are."""
    try:
        yield
    except UnprocessableError:
        raise
    except (ConfigError, ValueError) as exc:
        raise UnprocessableError(str(exc), ("body", "file")) from None


def _read_network(
    tensors: dict[str, Any], options: UploadConfig, limits: Limits
) -> tuple[NetworkConfig, Params, dict[str, Any]]:
    from core.weights_io import infer_config, params_for_config

    _refuse_fields(options, SEQ2SEQ_ONLY, "an encoder-decoder")
    overrides = options.model_dump(
        exclude_none=True, exclude={"name", "vocab", "output_labels", "tokenizer", *SEQ2SEQ_ONLY}
    )
    config = infer_config(tensors, **overrides)
    if options.vocab is not None and config.vocab_size != len(options.vocab):
        raise UnprocessableError(
            f"vocab has {len(options.vocab)} tokens but the model reads {config.vocab_size}",
            ("body", "config"),
        )
    check_config(limits, config, ("body", "file"))
    params = params_for_config(tensors, config)
    if options.output_labels is not None and len(options.output_labels) != config.output_size:
        raise UnprocessableError(
            f"output_labels has {len(options.output_labels)} labels but the model has "
            f"output_size {config.output_size}",
            ("body", "config"),
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
    config = infer_config(tensors, **overrides)
    if options.cell is not None and options.cell != config.cell:
        raise UnprocessableError(
            f"config says cell {options.cell!r} but the tensors are a {config.cell} encoder-decoder",
            ("body", "config"),
        )
    for name, tokens, size in (("vocab", options.vocab, config.src_vocab_size),
                               ("target_vocab", options.target_vocab, config.tgt_vocab_size)):
        if tokens is not None and len(tokens) != size:
            raise UnprocessableError(
                f"{name} has {len(tokens)} tokens but the model's embedding has {size} rows",
                ("body", "config"),
            )
    check_config(limits, config.encoder_config(), ("body", "file"))
    check_config(limits, config.decoder_config(), ("body", "file"))
    params = params_for_config(tensors, config)
    meta = options.model_dump(exclude_none=True, include={"name", "vocab", "target_vocab", "tokenizer"})
    if options.tokenizer is not None:  # decoded tokens are shown joined the way the source splits
        meta["target_joiner"] = "" if options.tokenizer == "chars" else " "
    return config, params, meta


def _refuse_fields(options: UploadConfig, names: tuple[str, ...], kind: str) -> None:
    given = [name for name in names if getattr(options, name) is not None]
    if given:
        raise UnprocessableError(
            f"config fields {given} describe {kind}, not the model in this file", ("body", "config")
        )
