"""Encoder-decoder requests: a Seq2Seq model (core.seq2seq.Seq2SeqConfig), a source and how to decode it.

Target vocabulary ids 0, 1, 2 are PAD, START and END; the source vocabulary reserves 0 for PAD. Without
``src_vocab``, text input builds it as ["<pad>", sorted unique tokens...]; without ``tgt_vocab`` the output
is token ids only (teacher-forced text targets build ["<pad>", "<start>", "<end>", sorted unique tokens...]).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Discriminator, Field, StrictBool, StrictInt, Tag

from app.schemas.common import (
    MAX_LIST,
    WHOLE,
    Count,
    FiniteFloat,
    NonNegative,
    Precision,
    StrictModel,
)
from app.schemas.model import PresetWeights, SeedWeights, StoredWeights, Token, weights_union
from app.schemas.requests import TextInput, TokensInput, _input_kind

if TYPE_CHECKING:  # the plain union for type checkers; pydantic gets the tagged one built at run time
    Seq2SeqWeights = SeedWeights | PresetWeights | StoredWeights
else:
    Seq2SeqWeights = weights_union(SeedWeights, PresetWeights, StoredWeights)

Tokens = Annotated[TextInput, Tag("text")] | Annotated[TokensInput, Tag("tokens")]
SequenceSpec = Annotated[
    Tokens,
    Discriminator(
        _input_kind,
        custom_error_type="input_kind",
        custom_error_message="needs one of the keys 'text' or 'tokens'",
    ),
]
Vocabulary = Annotated[list[Token], Field(min_length=3, max_length=MAX_LIST)]


class Seq2SeqModelSpec(StrictModel):
    cell: Literal["rnn", "lstm", "gru"] = "gru"
    embedding_size: Count = 8
    hidden_size: Count = 16
    decoder_hidden_size: Count | None = None
    num_layers: Count = 1
    bidirectional: StrictBool = False
    nonlinearity: Literal["tanh", "sigmoid", "relu"] = "tanh"
    attention: Literal["none", "additive", "dot", "general"] = "none"
    attention_size: Count | None = None
    max_length: Count = 20
    dtype: Literal["float64", "float32"] = "float64"
    src_vocab: Vocabulary | None = None
    tgt_vocab: Vocabulary | None = None
    src_vocab_size: Count | None = None
    tgt_vocab_size: Count | None = None


class Seq2SeqRequest(StrictModel):
    """Encode ``source``, hand the context vector to the decoder, and decode greedily, by beam search, or
    under teacher forcing along ``targets`` (END is appended when missing)."""

    model: Seq2SeqModelSpec | None = None
    weights: Seq2SeqWeights = Field(
        default_factory=SeedWeights
    )
    source: SequenceSpec
    decode: Literal["greedy", "beam", "teacher_forcing"] = "greedy"
    targets: SequenceSpec | None = None
    teacher_forcing: Annotated[FiniteFloat, Field(ge=0, le=1)] = 1.0
    seed: NonNegative = 0
    beam_width: Annotated[StrictInt, Field(ge=1, le=16), WHOLE] = 3
    max_length: Count | None = None
    top_k: Annotated[StrictInt, Field(ge=1, le=20), WHOLE] = 5
    precision: Precision | None = None
    include: (
        Annotated[list[Annotated[str, Field(max_length=32)]], Field(min_length=1, max_length=64)] | None
    ) = None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "model": {"cell": "gru", "hidden_size": 8, "attention": "additive"},
                    "source": {"text": "they are watching .", "tokenizer": "words"},
                    "decode": "greedy",
                },
            ]
        }
    }
