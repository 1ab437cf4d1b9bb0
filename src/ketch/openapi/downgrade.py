"""An OpenAPI 3.1 document rewritten as OpenAPI 3.0, for client generators that read only 3.0.

OpenAPI 3.1 schemas are JSON Schema 2020-12; 3.0 schemas are an older dialect. The rewrite covers what pydantic
and ketch generate: ``null`` in a type or an ``anyOf`` becomes ``nullable: true``; ``const`` becomes a one-value
``enum``; ``examples`` in a schema becomes ``example``; numeric ``exclusiveMinimum``/``exclusiveMaximum`` become
``minimum``/``maximum`` with a boolean; binary content (``contentMediaType``/``contentEncoding``) becomes
``format: binary``/``byte``; tuples (``prefixItems``) become arrays of their item types. What 3.0 cannot say at
all (``webhooks``, ``info.summary``, ``license.identifier``) is dropped. Nothing is changed in place.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["to_openapi_30"]

_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SUBSCHEMAS = ("items", "not", "additionalProperties")
_DROPPED = ("$schema", "$id", "$comment", "$defs", "contentSchema", "unevaluatedProperties", "dependentSchemas")


def to_openapi_30(document: dict[str, Any], version: str = "3.0.3") -> dict[str, Any]:
    """``document`` (OpenAPI 3.1) as an OpenAPI 3.0 document."""
    result = copy.deepcopy(document)
    result["openapi"] = version
    result.pop("webhooks", None)
    result.pop("jsonSchemaDialect", None)
    info = result.get("info", {})
    info.pop("summary", None)
    if isinstance(info.get("license"), dict):
        info["license"].pop("identifier", None)
    components = result.get("components", {})
    components.pop("pathItems", None)
    for name, schema in list(components.get("schemas", {}).items()):
        components["schemas"][name] = _schema(schema)
    for item in result.get("paths", {}).values():
        _path_item(item)
    return result


def _path_item(item: dict[str, Any]) -> None:
    for parameter in item.get("parameters", []):
        _parameter(parameter)
    for operation in item.values():
        if not isinstance(operation, dict) or "responses" not in operation:
            continue
        for parameter in operation.get("parameters", []):
            _parameter(parameter)
        body = operation.get("requestBody")
        if isinstance(body, dict):
            _content(body.get("content", {}))
        for response in operation.get("responses", {}).values():
            if isinstance(response, dict):
                _content(response.get("content", {}))
                for header in response.get("headers", {}).values():
                    _parameter(header)
        for callback in operation.get("callbacks", {}).values():
            for callback_item in callback.values():
                _path_item(callback_item)


def _parameter(parameter: dict[str, Any]) -> None:
    if isinstance(parameter.get("schema"), dict):
        parameter["schema"] = _schema(parameter["schema"])
    _content(parameter.get("content", {}))


def _content(content: dict[str, Any]) -> None:
    for media in content.values():
        if not isinstance(media, dict):
            continue
        if isinstance(media.get("schema"), dict):
            media["schema"] = _schema(media["schema"])
        if "itemSchema" in media:
            # A stream's item schema (JSON Lines, Server-Sent Events) has no 3.0 form: kept as an extension.
            media["x-itemSchema"] = _schema(media.pop("itemSchema"))


def _schema(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    schema = {key: value for key, value in schema.items() if key not in _DROPPED}
    for key in _SUBSCHEMA_LISTS:
        if key in schema:
            schema[key] = [_schema(sub) for sub in schema[key]]
    for key in _SUBSCHEMAS:
        if isinstance(schema.get(key), dict):
            schema[key] = _schema(schema[key])
    if isinstance(schema.get("properties"), dict):
        schema["properties"] = {name: _schema(sub) for name, sub in schema["properties"].items()}
    _prefix_items(schema)
    _nullable(schema)
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    if isinstance(schema.get("examples"), list):
        examples = schema.pop("examples")
        if examples:
            schema.setdefault("example", examples[0])
    _exclusive(schema, "exclusiveMinimum", "minimum")
    _exclusive(schema, "exclusiveMaximum", "maximum")
    _binary(schema)
    if "$ref" in schema and len(schema) > 1:
        # A 3.0 reference ignores everything next to it: keep the siblings by wrapping the reference.
        schema = {"allOf": [{"$ref": schema.pop("$ref")}], **schema}
    return schema


def _prefix_items(schema: dict[str, Any]) -> None:
    prefix = schema.pop("prefixItems", None)
    if prefix is None:
        return
    items = [_schema(item) for item in prefix]
    schema["items"] = items[0] if len(items) == 1 else {"anyOf": items}
    schema.setdefault("minItems", len(items))
    if schema.get("items") is not False:
        schema.setdefault("maxItems", len(items))


def _nullable(schema: dict[str, Any]) -> None:
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:
        rest = [k for k in kind if k != "null"]
        schema["nullable"] = True
        if len(rest) == 1:
            schema["type"] = rest[0]
        elif rest:
            del schema["type"]
            schema["anyOf"] = [{"type": k} for k in rest]
        else:
            del schema["type"]
    elif kind == "null":
        del schema["type"]
        schema["nullable"] = True
    choices = schema.get("anyOf")
    if isinstance(choices, list) and any(c == {"type": "null"} or c == {"nullable": True} for c in choices):
        rest = [c for c in choices if c not in ({"type": "null"}, {"nullable": True})]
        del schema["anyOf"]
        schema["nullable"] = True
        if len(rest) == 1 and "$ref" not in rest[0]:
            for key, value in rest[0].items():
                schema.setdefault(key, value)
        elif rest:
            schema["anyOf" if len(rest) > 1 else "allOf"] = rest


def _exclusive(schema: dict[str, Any], exclusive: str, inclusive: str) -> None:
    value = schema.get(exclusive)
    if isinstance(value, bool) or value is None:
        return
    schema[inclusive] = value
    schema[exclusive] = True


def _binary(schema: dict[str, Any]) -> None:
    encoding = schema.pop("contentEncoding", None)
    media_type = schema.pop("contentMediaType", None)
    if schema.get("type") != "string" or "format" in schema:
        return
    if encoding == "base64":
        schema["format"] = "byte"
    elif media_type is not None:
        schema["format"] = "binary"
