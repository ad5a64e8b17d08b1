"""From the request's ``interventions`` (app.schemas.interventions) to core's, with every 422 pointing at the
caller's field: ``("body", "interventions", k, field)``.

A clamp without a unit (every unit of the gate) or a ``set`` of a whole vector becomes one core item per
unit; core's checks (gate of this cell, c only on an LSTM, t within the sequence, unit < hidden_size, layer
and direction in range) then name the core item at fault, which :func:`located` maps back to the caller's
item and field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.errors import LimitExceededError, UnprocessableError
from app.schemas.interventions import ClampSpec, InterventionSpec, ReplaceInputSpec, SetStateSpec
from app.services.limits import Limits
from core.config import NetworkConfig
from core.interventions import Clamp, Intervention, InterventionError, ReplaceInput, SetState

DIRECTION_INDEX = {"forward": 0, "reverse": 1}


@dataclass(frozen=True)
class Planned:
    """Core interventions and, for each, the caller's item it came from and whether it came from ``values``."""

    interventions: tuple[Intervention, ...]
    origins: tuple[int, ...]
    from_values: tuple[bool, ...]


def _loc(k: int, field: str) -> tuple[str | int, ...]:
    return ("body", "interventions", k, field)


def plan(
    specs: Sequence[InterventionSpec], config: NetworkConfig, vocab: Sequence[str] | None, limits: Limits
) -> Planned:
    """The core interventions of ``specs``; 422 for what the schema cannot know (count, vocabulary, widths)."""
    if len(specs) > limits.max_interventions:
        raise LimitExceededError(
            f"{len(specs)} interventions, over the limit of {limits.max_interventions} "
            "(server setting UNROLLED_MAX_INTERVENTIONS)",
            ("body", "interventions"),
        )
    out: list[Intervention] = []
    origins: list[int] = []
    from_values: list[bool] = []
    for k, spec in enumerate(specs):
        items = _convert(k, spec, config, vocab)
        out.extend(items)
        origins.extend([k] * len(items))
        from_values.extend([isinstance(spec, SetStateSpec) and spec.values is not None] * len(items))
    return Planned(tuple(out), tuple(origins), tuple(from_values))


def _convert(
    k: int, spec: InterventionSpec, config: NetworkConfig, vocab: Sequence[str] | None
) -> list[Intervention]:
    if isinstance(spec, ClampSpec):
        where = {"layer": spec.layer, "direction": DIRECTION_INDEX[spec.direction]}
        units = range(config.hidden_size) if spec.unit is None else (spec.unit,)
        return [Clamp(spec.t, spec.gate, unit, spec.value, **where) for unit in units]
    if isinstance(spec, SetStateSpec):
        where = {"layer": spec.layer, "direction": DIRECTION_INDEX[spec.direction]}
        return [
            SetState(spec.t, spec.state, unit, value, **where)
            for unit, value in _state_values(k, spec, config)
        ]
    return [_replacement(k, spec, vocab)]


def _state_values(k: int, spec: SetStateSpec, config: NetworkConfig) -> list[tuple[int, float]]:
    H = config.hidden_size
    if spec.values is not None:
        if spec.unit is not None or spec.value is not None:
            raise UnprocessableError(
                "give values (the whole vector) or unit and value, not both", _loc(k, "values")
            )
        if len(spec.values) != H:
            raise UnprocessableError(
                f"values holds {len(spec.values)} numbers, the state has hidden_size = {H}", _loc(k, "values")
            )
        return list(enumerate(spec.values))
    if spec.value is None:
        raise UnprocessableError(
            "give value (with unit for one unit, without for every unit) or values (the whole vector)",
            _loc(k, "value"),
        )
    if spec.unit is None:
        return [(unit, spec.value) for unit in range(H)]
    return [(spec.unit, spec.value)]


def _replacement(k: int, spec: ReplaceInputSpec, vocab: Sequence[str] | None) -> ReplaceInput:
    if spec.vector is not None:
        if spec.token is not None:
            raise UnprocessableError("give token or vector, not both", _loc(k, "vector"))
        return ReplaceInput(spec.t, vector=tuple(spec.vector))
    if spec.token is None:
        raise UnprocessableError("give token (an id or a label) or vector", _loc(k, "token"))
    if isinstance(spec.token, str):
        if vocab is None or spec.token not in vocab:
            raise UnprocessableError(f"token {spec.token!r} is not in the vocabulary", _loc(k, "token"))
        return ReplaceInput(spec.t, token=list(vocab).index(spec.token))
    return ReplaceInput(spec.t, token=spec.token)


def located(exc: InterventionError, planned: Planned) -> UnprocessableError:
    """Core's error on core item ``exc.index`` as a 422 at the caller's item and field."""
    k = planned.origins[exc.index] if exc.index < len(planned.origins) else exc.index
    field = exc.field
    if exc.index < len(planned.from_values) and planned.from_values[exc.index] and field in ("unit", "value"):
        field = "values"
    return UnprocessableError(exc.message, _loc(k, field))
