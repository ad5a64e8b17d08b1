"""Pydantic models of the JSON API: what a request may hold (strictly), what a response holds (docs)."""

from app.schemas.model import InlineWeights, ModelSpec, PresetWeights, SeedWeights, StoredWeights, WeightSpec
from app.schemas.requests import (
    GenerationSpec,
    GradientRequest,
    InputSpec,
    TextInput,
    TokensInput,
    TraceRequest,
    VectorsInput,
)

__all__ = [
    "GenerationSpec",
    "GradientRequest",
    "InlineWeights",
    "InputSpec",
    "ModelSpec",
    "PresetWeights",
    "SeedWeights",
    "StoredWeights",
    "TextInput",
    "TokensInput",
    "TraceRequest",
    "VectorsInput",
    "WeightSpec",
]
