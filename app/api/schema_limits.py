"""The OpenAPI schema states this server's own size limits, so a request the schema calls valid is not refused
for a bound the schema could have said.

The request models carry generous static caps (they are shared by every server); the limits are settings
(app.services.limits.Limits, GET /api/v1/limits), so they are written into the generated schema once, when it is first
built. Each bound is one the server applies to that field alone, whatever else the request holds: a schema
stricter than the server would be as wrong as a looser one. What no schema can say (rules across fields, the
compute budget, the steps a text becomes under its tokenizer) is listed in app/README.md.

The names ``include`` may hold are stated the same way: every quantity some cell records (which of them a given
cell has is a rule across fields)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from app.services.limits import Limits
from app.services.trace import quantity_names
from core.config import NetworkConfig

#: (component, path to the field inside it, JSON Schema keyword, the limit's value).
#: A path step "[]" goes into an array's items.
Bound = tuple[str, tuple[str, ...], str, Callable[[Limits], int]]

BOUNDS: tuple[Bound, ...] = (
    ("ModelSpec", ("hidden_size",), "maximum", lambda lim: lim.max_hidden_size),
    ("ModelSpec", ("num_layers",), "maximum", lambda lim: lim.max_layers),
    ("ModelSpec", ("input_size",), "maximum", lambda lim: lim.max_input_size),
    ("ModelSpec", ("output_size",), "maximum", lambda lim: lim.max_output_size),
    ("ModelSpec", ("vocab",), "maxItems", lambda lim: lim.max_vocab_size),
    ("TrainingModelSpec", ("hidden_size",), "maximum", lambda lim: lim.max_hidden_size),
    ("TrainingSettingsSpec", ("steps",), "maximum", lambda lim: lim.max_train_steps),
    ("TextInput", ("text",), "maxLength", lambda lim: lim.max_text_chars),
    ("TokensInput", ("tokens",), "maxItems", lambda lim: lim.max_steps),
    # A token id at or over the vocabulary limit fits no model this server runs (a model without a vocabulary
    # is given one of max(token) + 1 entries).
    ("TokensInput", ("tokens", "[]"), "maximum", lambda lim: lim.max_vocab_size - 1),
    ("VectorsInput", ("vectors",), "maxItems", lambda lim: lim.max_steps),
    ("VectorsInput", ("vectors", "[]"), "maxItems", lambda lim: lim.max_input_size),
    ("TraceBatchRequest", ("inputs",), "maxItems", lambda lim: lim.max_batch),
    *(
        (request, ("interventions",), "maxItems", lambda lim: lim.max_interventions)
        for request in ("TraceRequest", "TraceBatchRequest", "StepRequest", "GradientRequest")
    ),
    *(
        (request, ("precision",), "maximum", lambda lim: lim.max_precision)
        for request in ("TraceRequest", "TraceBatchRequest", "StepRequest", "GradientRequest", "Seq2SeqRequest")
    ),
)

#: Requests whose ``include`` lists recorded quantities by name.
INCLUDING = ("TraceRequest", "TraceBatchRequest", "StepRequest", "GradientRequest", "Seq2SeqRequest")


def recorded_names() -> list[str]:
    """Every quantity name any cell records, in a stable order (LSTM, GRU, then each vanilla nonlinearity)."""
    names: dict[str, None] = {}
    for cell, nonlinearity in (("lstm", "tanh"), ("gru", "tanh"), ("rnn", "tanh"), ("rnn", "relu"), ("rnn", "sigmoid")):
        names.update(dict.fromkeys(quantity_names(NetworkConfig(cell=cell, nonlinearity=nonlinearity))))
    return list(names)


def state_limits(app: FastAPI, limits: Limits) -> None:
    """Make ``app.openapi()`` return its schema with ``limits`` written into the request fields of BOUNDS."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            bound_schema(build(), limits)  # build() caches its schema on the app; it is bounded in place, once
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def bound_schema(schema: dict[str, Any], limits: Limits) -> None:
    """Write each bound of BOUNDS into ``schema`` (an OpenAPI document), never loosening a tighter static cap."""
    components = schema.get("components", {}).get("schemas", {})
    for component, path, keyword, limit in BOUNDS:
        if component not in components:
            raise LookupError(f"BOUNDS names {component}, which the schema does not have")
        node = components[component].get("properties", {}).get(path[0])
        if node is None:
            raise LookupError(f"BOUNDS names {component}.{path[0]}, which the schema does not have")
        for target in _reach(node, path[1:]):
            current = target.get(keyword)
            value = limit(limits)
            target[keyword] = value if current is None else min(int(current), value)
    names = recorded_names()
    for component in INCLUDING:
        for item in _reach(components[component]["properties"]["include"], ("[]",)):
            item["enum"] = names


def _reach(node: dict[str, Any], path: tuple[str, ...]) -> list[dict[str, Any]]:
    """The non-null branches of ``node`` (through anyOf/oneOf) at the end of ``path``."""
    for combinator in ("anyOf", "oneOf"):
        if combinator in node:
            return [found for branch in node[combinator] for found in _reach(branch, path)]
    if node.get("type") == "null":
        return []
    if not path:
        return [node]
    if path[0] == "[]" and "items" in node:
        return _reach(node["items"], path[1:])
    raise LookupError(f"no {path[0]!r} under {node}")
