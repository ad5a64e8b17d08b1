"""What network to run (``model``) and where its weights come from (``weights``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, StrictBool, Tag

from app.schemas.common import MAX_LIST, Count, FiniteFloat, NonNegative, StrictModel

Token = Annotated[str, Field(min_length=1, max_length=64)]


class ModelSpec(StrictModel):
    """A network configuration (core.config.NetworkConfig) plus the token labels of its vocabulary.

    ``input_size`` and ``input_encoding`` may be left out: vector inputs set the width, text and token inputs
    are one-hot encoded with input_size = vocabulary size. ``vocab`` names the tokens (its length is the
    vocabulary size); without it, text input builds the vocabulary from its own sorted unique tokens.
    """

    cell: Literal["rnn", "lstm", "gru"] = "lstm"
    input_size: Count | None = None
    hidden_size: Count = 8
    num_layers: Count = 1
    bidirectional: StrictBool = False
    nonlinearity: Literal["tanh", "sigmoid", "relu"] = "tanh"
    output_size: Count | None = None
    output_activation: Literal["identity", "softmax"] = "identity"
    input_encoding: Literal["vector", "onehot", "embedding"] | None = None
    vocab: Annotated[list[Token], Field(min_length=1, max_length=MAX_LIST)] | None = None
    vocab_size: Count | None = None
    dtype: Literal["float64", "float32"] = "float64"


class SeedWeights(StrictModel):
    """Fresh weights drawn like PyTorch's default initialisation from numpy's default_rng(seed)."""

    source: Literal["seed"] = "seed"
    seed: NonNegative = 0


class PresetWeights(StrictModel):
    """A ready-made trained model shipped with Unrolled (GET /api/v1/presets lists them)."""

    source: Literal["preset"] = "preset"
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class StoredWeights(StrictModel):
    """A model uploaded to or trained on this server, by its content hash (POST /api/v1/models returns it)."""

    source: Literal["stored"] = "stored"
    id: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class InlineWeights(StrictModel):
    """Tensors given in the request, keyed by PyTorch state_dict name (weight_ih_l0, ..., output.weight)."""

    source: Literal["inline"] = "inline"
    tensors: Annotated[
        dict[Annotated[str, Field(max_length=64)], list[FiniteFloat] | list[list[FiniteFloat]]],
        Field(min_length=1, max_length=64),
    ]


def weight_source(value: Any) -> str | None:
    """The ``source`` tag of a weights object; every variant defaults it, so ``{}`` means seeded weights.

    (A plain ``discriminator="source"`` would refuse ``{}``, which the published schema allows.)
    """
    source = value.get("source", "seed") if isinstance(value, dict) else getattr(value, "source", None)
    return source if isinstance(source, str) else None


def weights_union(*variants: type[StrictModel]) -> Any:
    """A union of weight sources told apart by their ``source`` tag, defaulting to 'seed'."""
    tagged = tuple(Annotated[v, Tag(v.model_fields["source"].default)] for v in variants)
    return Annotated[
        Union[tagged],  # noqa: UP007 (a runtime-built union of tagged variants)
        Discriminator(
            weight_source,
            custom_error_type="weights_source",
            custom_error_message="weights.source must be one of "
            + ", ".join(repr(v.model_fields["source"].default) for v in variants),
        ),
    ]


if TYPE_CHECKING:  # the plain union for type checkers; pydantic gets the tagged one built at run time
    WeightSpec = SeedWeights | PresetWeights | StoredWeights | InlineWeights
else:
    WeightSpec = weights_union(SeedWeights, PresetWeights, StoredWeights, InlineWeights)
