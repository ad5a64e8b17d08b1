"""Request bodies: a trace (model + weights + input + shape), one timestep of it, gradients of a loss."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, StrictBool, Tag

from app.schemas.common import (
    MAX_LIST,
    MAX_TEXT,
    Count,
    FiniteFloat,
    Matrix,
    NonNegative,
    Precision,
    StrictModel,
)
from app.schemas.interventions import Interventions
from app.schemas.model import ModelSpec, SeedWeights, Token, WeightSpec

Shape = Literal["many_to_many", "many_to_one", "one_to_one", "one_to_many"]


class VectorsInput(StrictModel):
    """T timesteps of input_size real numbers each."""

    vectors: Matrix


class TextInput(StrictModel):
    """Text split into characters or whitespace-separated words, then mapped through the vocabulary."""

    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    tokenizer: Literal["chars", "words"] = "chars"


class TokensInput(StrictModel):
    """Token ids in [0, vocab_size)."""

    tokens: Annotated[list[NonNegative], Field(min_length=1, max_length=MAX_LIST)]


def _input_kind(value: Any) -> str | None:
    """Which input form a body uses, told apart by its key: vectors, text or tokens."""
    keys = (
        value.keys() if isinstance(value, dict) else vars(value).keys() if hasattr(value, "__dict__") else ()
    )
    for kind in ("vectors", "text", "tokens"):
        if kind in keys:
            return kind
    return None


InputSpec = Annotated[
    Annotated[VectorsInput, Tag("vectors")]
    | Annotated[TextInput, Tag("text")]
    | Annotated[TokensInput, Tag("tokens")],
    Discriminator(
        _input_kind,
        custom_error_type="input_kind",
        custom_error_message="input needs one of the keys 'vectors', 'text' or 'tokens'",
    ),
]


class GenerationSpec(StrictModel):
    """One-to-many options (core.generate): the input holds the first input only; ``steps`` are run.

    feedback 'output' feeds each emitted token (argmax, or drawn from softmax(y / temperature) with ``seed``)
    or output vector back in; 'repeat' feeds the first input again; 'zeros' feeds zero vectors. A token model
    stops after emitting ``stop_token`` (an id or a vocabulary label).
    """

    steps: Count = 10
    feedback: Literal["output", "repeat", "zeros"] = "output"
    sample: StrictBool = False
    temperature: Annotated[FiniteFloat, Field(gt=0, le=1000)] = 1.0
    seed: NonNegative = 0
    stop_token: NonNegative | Token | None = None


class TraceOptions(StrictModel):
    """What every trace request holds besides its input: the network, its weights and the reply's contents.

    ``model`` may be left out when the weights come from a preset or a stored model (their configuration is
    fixed). ``h0``/``c0`` are (num_layers x directions) rows of hidden_size numbers, zeros when left out.
    ``precision`` is the number of significant digits in the reply. ``interventions`` change numbers inside
    the run (see app.schemas.interventions). ``include`` picks the recorded quantities;
    left out, a reply holds every gate activation, the candidate, c and h (LSTM: i, f, g, o, c, h; GRU: r, z,
    n, h; RNN: h), and the pre-activations, GRU's hn, tanh_c, h_prev and c_prev only when named (h_prev and
    c_prev repeat h and c one step later). GET /api/v1/cells lists each cell's quantities and defaults.
    """

    model: ModelSpec | None = None
    weights: WeightSpec = Field(default_factory=SeedWeights)
    shape: Shape = "many_to_many"
    generation: GenerationSpec | None = None
    h0: Matrix | None = None
    c0: Matrix | None = None
    precision: Precision | None = None
    include: (
        Annotated[list[Annotated[str, Field(max_length=32)]], Field(min_length=1, max_length=64)] | None
    ) = Field(
        default=None,
        description='Recorded quantities to return, e.g. ["h", "c", "h_prev"]. Default: the gate '
        "activations, candidate, c and h; pre-activations, hn, tanh_c, h_prev, c_prev only when named.",
    )
    interventions: Interventions = Field(
        default_factory=list,
        description="What-if changes inside the run (app.schemas.interventions): clamp a gate unit, set h or c, "
        "replace an input, at (layer, direction, t). A trace reply then also holds `what_if`: the original "
        "run's states and outputs and the per-step difference. At most UNROLLED_MAX_INTERVENTIONS.",
    )


class TraceRequest(TraceOptions):
    """Run one sequence through a network and record every number (see TraceOptions for the other fields)."""

    input: InputSpec

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "model": {"cell": "lstm", "hidden_size": 4},
                    "input": {"text": "hello", "tokenizer": "chars"},
                },
                {
                    "model": {"cell": "gru", "hidden_size": 3, "output_size": 1},
                    "weights": {"source": "seed", "seed": 7},
                    "input": {"vectors": [[0.5], [-1.0], [0.25]]},
                    "shape": "many_to_one",
                    "precision": 6,
                },
            ]
        }
    }


#: Absolute cap on the sequences of one batch, keeping validation bounded; UNROLLED_MAX_BATCH is the limit.
MAX_BATCH = 1000


class TraceBatchRequest(TraceOptions):
    """One sequence (``input``, answered as by TraceRequest) or several (``inputs``): give exactly one.

    A batch runs every sequence through the same network (same weights, h0 and c0, options) and answers one
    trace per sequence, in order, each exactly the reply the sequence alone would get. The sequences may
    differ in length and must share one input form (all vectors, all text or all tokens). A seeded model
    without ``vocab`` builds its vocabulary from the tokens of all the texts (or the largest token id of all
    the sequences), so give ``model.vocab`` to get the same network as single requests. The limits count the
    whole batch: every sequence within UNROLLED_MAX_STEPS, the compute budget and the reply size on the sum
    over sequences, the texts' characters together, at most UNROLLED_MAX_BATCH sequences.
    """

    input: InputSpec | None = None
    inputs: Annotated[list[InputSpec], Field(min_length=1, max_length=MAX_BATCH)] | None = Field(
        default=None, description="several sequences, each in one of the forms of input"
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "model": {"cell": "gru", "hidden_size": 3, "vocab": ["a", "b", "c"]},
                    "inputs": [{"text": "abc"}, {"text": "ca"}, {"text": "bbac"}],
                },
            ]
        }
    }


class UpstreamGradient(StrictModel):
    """dL/d(output) of a loss of your own, one row per timestep: the gradient BPTT starts from.

    ``of`` says which output the rows are the gradient of: 'h', the top layer's hidden state (hidden_size
    numbers, or 2 x hidden_size for a bidirectional network: forward then reverse, as PyTorch's output), or
    'y', the output layer's y_t = W_hy h_t + b_y (output_size numbers, before any softmax). ``values`` holds
    one row per timestep; for many_to_one and one_to_one a single row (the last step's) is enough.
    """

    of: Literal["h", "y"] = Field(
        description="'h': rows are dL/dh_t of the top layer (directions concatenated); 'y': dL/dy_t"
    )
    values: Matrix = Field(description="T rows (or 1 for a single output), finite numbers")


class GradientRequest(TraceRequest):
    """A trace plus what to differentiate: a named loss on targets, or the upstream gradient of your own.

    Named loss: ``targets`` holds T class ids (cross_entropy, the default ``loss``) or T rows of output_size
    numbers (mse); for a loss on the last step only (many_to_one, or where='last') a single id or row is
    enough. ``where`` picks the counted steps: 'all', 'last', or the shape's own outputs when left out.

    Any other loss: give ``d_output`` (its gradient with respect to h or y) instead of targets and loss. The
    gradients returned are then those of your loss, and ``loss`` is the surrogate sum_t <d_output_t, out_t>,
    whose gradients they are.

    ||dh_T/dh_t|| costs H times a backward pass; set include_jacobian to false to skip it.
    """

    targets: Annotated[list[NonNegative], Field(min_length=1, max_length=MAX_LIST)] | Matrix | None = None
    loss: Literal["cross_entropy", "mse"] | None = Field(
        default=None, description="the named loss of targets; cross_entropy when left out"
    )
    d_output: UpstreamGradient | None = Field(
        default=None, description="the upstream gradient of a loss of your own, instead of targets and loss"
    )
    where: Literal["all", "last"] | None = None
    include_jacobian: StrictBool = True

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "model": {"cell": "rnn", "hidden_size": 4, "output_size": 3, "vocab": ["a", "b", "c"]},
                    "input": {"text": "abcab"},
                    "targets": [1, 2, 0, 1, 2],
                    "loss": "cross_entropy",
                },
                {
                    "model": {"cell": "gru", "hidden_size": 2},
                    "input": {"vectors": [[0.5], [-1.0], [0.25]]},
                    "d_output": {"of": "h", "values": [[0.0, 1.0], [0.0, 0.0], [1.0, -1.0]]},
                },
            ]
        }
    }
