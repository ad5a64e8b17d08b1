"""What-if interventions in a request (``interventions: [...]``), one object per changed number, told apart by
``kind`` (core.interventions runs them):

    {"kind": "clamp", "t": 4, "gate": "f", "unit": 3, "value": 0}      f_4[3] := 0 (LSTM i f g o; GRU r z n)
    {"kind": "clamp", "t": 4, "gate": "f", "value": 0}                 every unit: forget everything at step 4
    {"kind": "set", "t": 4, "state": "c", "unit": 3, "value": 0.5}     c_4[3] := 0.5 (h any cell, c LSTM only)
    {"kind": "set", "t": 4, "state": "h", "value": 0}                  every unit of h_4 := 0
    {"kind": "set", "t": 4, "state": "h", "values": [0.1, ...]}        h_4 := the hidden_size numbers given
    {"kind": "input", "t": 4, "token": "a"}                            x_4 := a token (label or id) or a vector

``layer`` (from 0) and ``direction`` ('forward' or 'reverse') default to the first layer's forward direction.
Whether a gate, state, unit, layer, direction or t fits is known only once the model and input are, so those
are checked by the service (422 naming ``interventions.<k>.<field>``), not by the schema.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.schemas.common import FiniteFloat, NonNegative, StrictModel, Vector
from app.schemas.model import Token

#: Absolute cap on a request's interventions (validation stays bounded); UNROLLED_MAX_INTERVENTIONS is the limit.
MAX_INTERVENTIONS = 1000

Name = Annotated[str, Field(min_length=1, max_length=8)]
Direction = Literal["forward", "reverse"]


class ClampSpec(StrictModel):
    """Gate ``gate``'s activation of unit ``unit`` (left out: of every unit) at step t is ``value`` (sigmoid
    gates in [0, 1], the candidate g / n in [-1, 1]), whatever the cell computes; no gradient flows through it
    upstream."""

    kind: Literal["clamp"]
    t: NonNegative
    gate: Name
    unit: NonNegative | None = None
    value: FiniteFloat
    layer: NonNegative = 0
    direction: Direction = "forward"


class SetStateSpec(StrictModel):
    """h_t (any cell) or c_t (LSTM) is overwritten after the step computes it: one unit (``unit`` and
    ``value``), every unit with one number (``value`` alone), or the whole vector (``values``)."""

    kind: Literal["set"]
    t: NonNegative
    state: Name
    unit: NonNegative | None = None
    value: FiniteFloat | None = None
    values: Vector | None = None
    layer: NonNegative = 0
    direction: Direction = "forward"


class ReplaceInputSpec(StrictModel):
    """Step t reads another input: ``token`` (an id, or a label of the vocabulary) for a token model,
    ``vector`` (input_size numbers) for a vector model. Both directions of layer 0 read it."""

    kind: Literal["input"]
    t: NonNegative
    token: NonNegative | Token | None = None
    vector: Vector | None = None


InterventionSpec = Annotated[ClampSpec | SetStateSpec | ReplaceInputSpec, Field(discriminator="kind")]
Interventions = Annotated[list[InterventionSpec], Field(max_length=MAX_INTERVENTIONS)]
