"""Response bodies, for the OpenAPI schema (responses are built as dicts and serialised by orjson).

Numbers are rounded to ``precision`` significant digits. A number that is not finite (a diverged relu RNN) is
``null``; ``diverged_at`` is the first timestep holding one.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Num = float | None
Series = list[Num]
Table = list[list[Num]]


class InputSection(BaseModel):
    tokens: list[int] | None
    labels: list[str] | None = Field(description="each step's token as the model reads it")
    x: Table | None
    typed: list[str] | None = Field(
        None, description="text input: each step's token as typed (before case folding and the unknown token)"
    )
    unknown: list[bool] | None = Field(
        None,
        description="text input: whether the typed token was outside the vocabulary, read as its unknown token",
    )


class OutputSection(BaseModel):
    y: Table
    probs: Table | None
    mask: list[bool]
    predicted: list[int]
    predicted_labels: list[str | None] | None


class LayerRecord(BaseModel):
    layer: int
    direction: Literal["forward", "reverse"]
    quantities: dict[str, Table]


class GenerationSection(BaseModel):
    generated: list[int] | Table
    labels: list[str | None] | None
    feedback: str | None
    stop: str | None


class ModelRun(BaseModel):
    """What every whole-run response carries: the API version, the model and weights that ran, the rounding,
    and the first timestep that diverged."""

    api_version: str
    config: dict[str, Any]
    weights: dict[str, Any]
    precision: int
    diverged_at: int | None


class StateRecord(BaseModel):
    layer: int
    direction: Literal["forward", "reverse"]
    quantities: dict[str, Table] = Field(description="h (and c for an LSTM) of the original run")


class OriginalRun(BaseModel):
    layers: list[StateRecord]
    output: OutputSection | None


class WhatIfDifference(BaseModel):
    h: list[Series] = Field(description="per layer and direction (the order of layers): max_j |h'_t[j] - h_t[j]|")
    y: Series | None = Field(description="max_i |y'_t[i] - y_t[i]| per step")
    predicted_changed: list[bool] | None = Field(description="whether the top guess argmax y_t changed")
    first_changed: int | None = Field(description="the first step whose h or y differs")


class WhatIfSection(BaseModel):
    """With interventions: the run without them (the ghost) and how far the intervened run moved from it."""

    original: OriginalRun
    difference: WhatIfDifference


class TraceResponse(ModelRun):
    shape: str
    steps: int
    input: InputSection
    layers: list[LayerRecord]
    output: OutputSection | None
    generation: GenerationSection | None
    what_if: WhatIfSection | None = Field(None, description="only when the request has interventions")


class BatchTraceResponse(BaseModel):
    """The reply to a request with ``inputs``: one trace per sequence, in order, each exactly the reply a
    request with that sequence as its ``input`` gets."""

    api_version: str
    sequences: int
    traces: list[TraceResponse]


class StepLayer(BaseModel):
    layer: int
    direction: Literal["forward", "reverse"]
    quantities: dict[str, Series]


class StepOutput(BaseModel):
    y: Series
    probs: Series | None
    has_output: bool
    predicted: int
    predicted_label: str | None


class StepResponse(BaseModel):
    api_version: str
    t: int
    steps: int
    precision: int
    token: int | None
    label: str | None
    x: Series | None
    layers: list[StepLayer]
    output: StepOutput | None
    diverged_at: int | None


class GradientLayer(BaseModel):
    layer: int
    direction: Literal["forward", "reverse"]
    dh_norm: Series
    dc_norm: Series | None
    jacobian_norm: Series | None
    dh: Table
    dc: Table | None


class ParamGradient(BaseModel):
    norm: Num
    grad: Table | Series


class InputGradient(BaseModel):
    """dL/dx_t for every step: with respect to the vectors layer 0 reads."""

    wrt: Literal["x", "onehot", "embedding"] = Field(
        description="x: the input vectors (T x input_size); onehot: the one-hot rows of token inputs "
        "(T x vocabulary size; entry k is the derivative along token k); embedding: the embedding rows "
        "used, E[token_t] (T x embedding width; params' embedding.weight gradient is their sum per token)"
    )
    values: Table
    norm: Series = Field(description="||dL/dx_t|| per step")


class GradientResponse(ModelRun):
    shape: str
    steps: int
    loss_name: str = Field(description="cross_entropy, mse, or d_output for a loss of your own")
    loss: Num = Field(
        description="the named loss; with d_output, the surrogate sum_t <d_output_t, out_t> whose gradients "
        "these are"
    )
    global_norm: Num
    layers: list[GradientLayer]
    params: dict[str, ParamGradient]
    d_input: InputGradient
    d_h0: Table = Field(description="dL/dh0: (num_layers x directions) rows of hidden_size numbers")
    d_c0: Table | None = Field(description="dL/dc0 (LSTM), like d_h0")


class StoredModelInfo(BaseModel):
    id: str
    kind: Literal["network", "seq2seq"] = Field(
        description="network: trace it with POST /trace; seq2seq: with POST /seq2seq/trace"
    )
    config: dict[str, Any]
    meta: dict[str, Any]
    created: float
    weights_bytes: int


class Seq2SeqSource(BaseModel):
    tokens: list[int]
    labels: list[str | None] | None


class Seq2SeqEncoder(BaseModel):
    steps: int
    layers: list[LayerRecord]


class Seq2SeqContext(BaseModel):
    h: Table
    c: Table | None


class Seq2SeqDecoder(BaseModel):
    steps: int
    fed_tokens: list[int]
    fed_labels: list[str | None] | None
    teacher_forced: list[bool]
    layers: list[LayerRecord]


class Seq2SeqAttention(BaseModel):
    scores: Table
    weights: Table
    context: Table
    hidden: Table


class Seq2SeqOutput(BaseModel):
    logits: Table
    probs: Table
    topk_tokens: list[list[int]]
    topk_probs: Table
    tokens: list[int]
    labels: list[str | None] | None
    length: int
    text: str | None


class Seq2SeqResponse(ModelRun):
    mode: str
    source: Seq2SeqSource
    encoder: Seq2SeqEncoder
    context: Seq2SeqContext
    decoder: Seq2SeqDecoder
    attention: Seq2SeqAttention | None
    output: Seq2SeqOutput
