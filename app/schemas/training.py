"""Training requests: which built-in task, its options, and optimiser settings (core.train.TrainSettings).

Settings left out take the task's recommended values; ``clip_norm: null`` turns clipping off.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt

from app.schemas.common import WHOLE, Count, FiniteFloat, Integer, NonNegative, StrictModel

OptionValue = Integer | FiniteFloat | StrictBool | Annotated[str, Field(max_length=64)]


class TrainingSettingsSpec(StrictModel):
    steps: Count | None = None
    batch_size: Annotated[StrictInt, Field(ge=1, le=512), WHOLE] | None = None
    optimizer: Literal["sgd", "adam"] | None = None
    lr: Annotated[FiniteFloat, Field(gt=0, le=10)] | None = None
    momentum: Annotated[FiniteFloat, Field(ge=0, lt=1)] | None = None
    weight_decay: Annotated[FiniteFloat, Field(ge=0, le=1)] | None = None
    clip_norm: Annotated[FiniteFloat, Field(gt=0, le=1e6)] | None = None
    seed: NonNegative | None = None
    time_budget: Annotated[FiniteFloat, Field(gt=0, le=3600)] | None = None
    eval_every: Count | None = None
    eval_size: Annotated[StrictInt, Field(ge=1, le=2048), WHOLE] | None = None
    stop_at_target: StrictBool | None = None
    target: FiniteFloat | None = None

    def overrides(self) -> dict[str, object]:
        """The settings given: null means 'no clipping' for clip_norm, 'the default' for every other field."""
        given = self.model_dump(exclude_unset=True)
        return {k: v for k, v in given.items() if v is not None or k == "clip_norm"}


class TrainingModelSpec(StrictModel):
    """Changes to the task's default model; fields left out keep the default. Encoder-decoder tasks take
    ``cell`` and ``hidden_size`` only. Sizes are checked against the server's limits (GET /api/v1/limits)."""

    cell: Literal["rnn", "lstm", "gru"] | None = None
    hidden_size: Annotated[StrictInt, Field(ge=1), WHOLE] | None = None
    num_layers: Annotated[StrictInt, Field(ge=1), WHOLE] | None = None


class TrainingRequest(StrictModel):
    """Train a task's model (its default, or with ``model``'s changes); GET /api/v1/tasks lists the tasks,
    their options and settings."""

    task: Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,64}$")]
    options: Annotated[dict[Annotated[str, Field(max_length=32)], OptionValue], Field(max_length=16)] = Field(
        default_factory=dict
    )
    settings: TrainingSettingsSpec = Field(default_factory=TrainingSettingsSpec)
    model: TrainingModelSpec = Field(default_factory=TrainingModelSpec)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"task": "sentiment", "settings": {"steps": 200, "seed": 1}},
                {"task": "adding", "model": {"cell": "rnn", "hidden_size": 16}, "settings": {"steps": 300}},
            ]
        }
    }
