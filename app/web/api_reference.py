"""The API reference as data for templates/api_docs.html, read off the OpenAPI schema (``app.openapi()``).

Nothing here names a route: every operation of the schema becomes an ``Operation`` (method, path, its parameters,
its body's fields, its responses), and every component schema a ``Schema`` with its fields, so a new route or
field appears on /api/docs without touching the template. A JSON Schema type is put into words by ``type_words``:
``$ref`` becomes a link to the schema's section, ``anyOf``/``oneOf`` a list of alternatives ("or null" for an
optional value), ``allOf`` the merge of its parts, and bounds, defaults and enums are spelled out
("integer, 1 to 17", "list of 1 to 64 items"). Anchors are stable: ``op-post-api-v1-trace`` for an operation,
``op-post-api-v1-trace.precision`` for one of its body fields, ``schema-ModelSpec.hidden_size`` for a schema's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

REF_PREFIX = "#/components/schemas/"
METHOD_ORDER = ("get", "post", "put", "patch", "delete")
Schema_ = Mapping[str, Any]


@dataclass(frozen=True)
class Field:
    name: str
    anchor: str
    kind: Markup  # the type in words, with links to the schemas it names
    required: bool
    default: str | None
    description: str
    where: str = ""  # "path" or "query" for a parameter, "" for a body field


@dataclass(frozen=True)
class Reply:
    status: str
    meaning: str
    media: tuple[str, ...]
    kind: Markup | None  # the body's type, when the schema names one

    @property
    def is_error(self) -> bool:
        return self.status[:1] in "45"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    tag: str
    parameters: tuple[Field, ...]
    body_media: str | None
    body_kind: Markup | None
    body_fields: tuple[Field, ...]
    replies: tuple[Reply, ...]


@dataclass(frozen=True)
class Schema:
    name: str
    anchor: str
    description: str
    kind: Markup
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Reference:
    title: str
    version: str
    description: str
    groups: tuple[tuple[str, tuple[Operation, ...]], ...]  # (tag, its operations), in the schema's order
    schemas: tuple[Schema, ...]


def operation_anchor(method: str, path: str) -> str:
    """``post /api/v1/trace/step`` -> ``op-post-api-v1-trace-step``; ``{model_id}`` -> ``model_id``."""
    return "op-" + method + "-" + re.sub(r"[^A-Za-z0-9_]+", "-", path).strip("-")


def schema_anchor(name: str) -> str:
    return "schema-" + name


def reference(spec: Schema_) -> Reference:
    """Every operation (grouped by its first tag) and every component schema of ``spec``, in words."""
    components = spec.get("components", {}).get("schemas", {})
    groups: dict[str, list[Operation]] = {}
    for path, item in spec.get("paths", {}).items():
        for method in sorted(item, key=lambda m: METHOD_ORDER.index(m) if m in METHOD_ORDER else 99):
            op = _operation(method, path, item[method], components)
            groups.setdefault(op.tag, []).append(op)
    schemas = tuple(_schema(name, components[name], components) for name in sorted(components))
    info = spec.get("info", {})
    return Reference(
        title=info.get("title", "API"),
        version=info.get("version", ""),
        description=info.get("description", ""),
        groups=tuple((tag, tuple(ops)) for tag, ops in groups.items()),
        schemas=schemas,
    )


def _operation(method: str, path: str, op: Schema_, components: Schema_) -> Operation:
    anchor = operation_anchor(method, path)
    parameters = tuple(
        _field(
            p["name"],
            f"{anchor}.{p.get('in', 'param')}-{p['name']}",  # apart from a body field of the same name
            p.get("schema", {}),
            p.get("required", False),
            components,
            where=p.get("in", ""),
            description=p.get("description", ""),
        )
        for p in op.get("parameters", [])
    )
    body_media, body_kind = None, None
    body_fields: tuple[Field, ...] = ()
    content = op.get("requestBody", {}).get("content", {})
    if content:
        body_media, media = next(iter(content.items()))
        body_schema = media.get("schema", {})
        body_kind = type_words(body_schema, components)
        body_fields = fields_of(body_schema, anchor, components)
    replies = tuple(_reply(status, r, components) for status, r in sorted(op.get("responses", {}).items()))
    return Operation(
        method=method,
        path=path,
        anchor=anchor,
        summary=op.get("summary", ""),
        description=op.get("description", ""),
        tag=(op.get("tags") or ["other"])[0],
        parameters=parameters,
        body_media=body_media,
        body_kind=body_kind,
        body_fields=body_fields,
        replies=replies,
    )


def _reply(status: str, reply: Schema_, components: Schema_) -> Reply:
    content = reply.get("content", {})
    kinds = [type_words(m["schema"], components) for m in content.values() if m.get("schema")]
    return Reply(
        status=status,
        meaning=reply.get("description", ""),
        media=tuple(content),
        kind=kinds[0] if kinds and kinds[0] else None,
    )


def _schema(name: str, schema: Schema_, components: Schema_) -> Schema:
    anchor = schema_anchor(name)
    return Schema(
        name=name,
        anchor=anchor,
        description=schema.get("description", ""),
        kind=type_words({k: v for k, v in schema.items() if k != "properties"}, components),
        fields=fields_of(schema, anchor, components),
    )


def fields_of(schema: Schema_, anchor: str, components: Schema_) -> tuple[Field, ...]:
    """The properties of an object schema (a ``$ref`` or ``allOf`` resolved first), each with its anchor."""
    resolved = _merged(schema, components)
    required = set(resolved.get("required", ()))
    return tuple(
        _field(name, f"{anchor}.{name}", sub, name in required, components)
        for name, sub in resolved.get("properties", {}).items()
    )


def _field(
    name: str,
    anchor: str,
    schema: Schema_,
    required: bool,
    components: Schema_,
    where: str = "",
    description: str = "",
) -> Field:
    default = schema.get("default", _MISSING)
    return Field(
        name=name,
        anchor=anchor,
        kind=type_words(schema, components),
        required=required,
        default=None if default is _MISSING else _literal(default),
        description=description or _description(schema),
        where=where,
    )


_MISSING = object()


def _description(schema: Schema_) -> str:
    """A field's own description, else the one inside its single non-null alternative (pydantic puts a
    constrained optional field's description there)."""
    if schema.get("description"):
        return str(schema["description"])
    for alt in schema.get("anyOf", ()):
        if alt.get("type") != "null" and alt.get("description"):
            return str(alt["description"])
    return ""


def _merged(schema: Schema_, components: Schema_, depth: int = 0) -> Schema_:
    """The schema with its ``$ref`` followed and its ``allOf`` parts merged (properties and required joined);
    the depth bound stops a schema that refers to itself."""
    if depth > 8:
        return schema
    if "$ref" in schema:
        target = components.get(schema["$ref"].removeprefix(REF_PREFIX), {})
        return _merged({**target, **{k: v for k, v in schema.items() if k != "$ref"}}, components, depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = _merged(part, components, depth + 1)
            merged["properties"] = {**merged.get("properties", {}), **part.get("properties", {})}
            merged["required"] = [*merged.get("required", []), *part.get("required", [])]
            merged.update({k: v for k, v in part.items() if k not in ("properties", "required")})
        return merged
    return schema


def type_words(schema: Schema_, components: Schema_) -> Markup:
    """A JSON Schema in words, with a link for every named schema: "integer, 1 to 17",
    "list of 1 to 64 items, each: string, one of "h", "c"", "ModelSpec, or null"."""
    if not schema:
        return Markup("any JSON")
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(REF_PREFIX)
        return Markup('<a href="#{}">{}</a>').format(schema_anchor(name), name)
    if "allOf" in schema:
        parts = schema["allOf"]
        if len(parts) == 1:
            return type_words({**parts[0], **_bounds_only(schema)}, components)
        return Markup("all of: ") + _joined((type_words(p, components) for p in parts), "; ")
    for key, word in (("anyOf", "or"), ("oneOf", "or")):
        if key in schema:
            return _alternatives(schema, key, word, components)
    if "const" in schema:
        return Markup("exactly {}").format(_literal(schema["const"]))
    kind = schema.get("type")
    if isinstance(kind, list):
        return _joined((type_words({**schema, "type": k}, components) for k in kind), " or ")
    if "enum" in schema:
        return Markup("{}, one of {}").format(
            kind or "value",
            Markup(", ").join(Markup("<code>{}</code>").format(_literal(v)) for v in schema["enum"]),
        )
    if kind == "array":
        return _array(schema, components)
    if kind == "object":
        return _object(schema, components)
    return Markup(", ").join([Markup(escape(_scalar_name(schema))), *_bounds(schema)])


def _alternatives(schema: Schema_, key: str, word: str, components: Schema_) -> Markup:
    alts = [a for a in schema[key] if a.get("type") != "null"]
    nullable = len(alts) < len(schema[key])
    words = [type_words(a, components) for a in alts]
    text = words[0] if len(words) == 1 else Markup("one of: ") + _joined(words, f" {word} ")
    if "discriminator" in schema:
        text += Markup(" (chosen by <code>{}</code>)").format(schema["discriminator"]["propertyName"])
    return text + Markup(", or null") if nullable else text


def _array(schema: Schema_, components: Schema_) -> Markup:
    lo, hi = schema.get("minItems"), schema.get("maxItems")
    count = _range(lo, hi, "items")
    items = schema.get("items")
    head = Markup("list") + (Markup(" of ") + count if count else Markup(""))
    if not items:
        return head
    return head + Markup(", each: ") + type_words(items, components)


def _object(schema: Schema_, components: Schema_) -> Markup:
    words = Markup("object")
    count = _range(schema.get("minProperties"), schema.get("maxProperties"), "entries")
    if count:
        words += Markup(" of ") + count
    values = schema.get("additionalProperties")
    if isinstance(values, dict):
        words += Markup(", each value: ") + type_words(values, components)
    names = schema.get("propertyNames", {})
    if "maxLength" in names:
        words += Markup(", names up to {} characters").format(names["maxLength"])
    return words


def _scalar_name(schema: Schema_) -> str:
    if schema.get("contentMediaType") or schema.get("format") == "binary":
        return "file"
    kind = schema.get("type", "value")
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)


def _bounds(schema: Schema_) -> list[Markup]:
    words: list[Markup] = []
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if lo is not None and hi is not None:
        words.append(Markup("{} to {}").format(_number(lo), _number(hi)))
    elif lo is not None:
        words.append(Markup("at least {}").format(_number(lo)))
    elif hi is not None:
        words.append(Markup("at most {}").format(_number(hi)))
    if "exclusiveMinimum" in schema:
        words.append(Markup("over {}").format(_number(schema["exclusiveMinimum"])))
    if "exclusiveMaximum" in schema:
        words.append(Markup("under {}").format(_number(schema["exclusiveMaximum"])))
    length = _range(schema.get("minLength"), schema.get("maxLength"), "characters")
    if length:
        words.append(length)
    if "pattern" in schema:
        words.append(Markup("matching <code>{}</code>").format(schema["pattern"]))
    return words


def _bounds_only(schema: Schema_) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("allOf", "title", "description")}


def _range(lo: Any, hi: Any, unit: str) -> Markup | None:
    if lo is not None and hi is not None:
        return Markup("{} to {} {}").format(lo, hi, unit) if lo != hi else Markup("{} {}").format(lo, unit)
    if lo is not None:
        return Markup("at least {} {}").format(lo, unit)
    if hi is not None:
        return Markup("up to {} {}").format(hi, unit)
    return None


def _number(value: float) -> str:
    """1.0 -> '1' (pydantic writes some integer bounds as floats); other numbers as JSON writes them."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _joined(parts: Iterable[Markup], sep: str) -> Markup:
    return Markup(escape(sep)).join(parts)
