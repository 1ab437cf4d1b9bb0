"""What a typed route reads and returns, as schema fields: read from the same signature specs its plan uses.

``describe`` builds the route's dependency graph (``_plan/dependencies.py``: the specs the plan validates with) and
walks it in FastAPI's order: the endpoint's own parameters first, then each dependency's, depth first, each
dependency once per cache key. Parameter models are flattened into one parameter per field; body parameters are
combined into the one request body a client sends (an embedded body becomes a ``Body_<operation id>`` model).
"""

from __future__ import annotations

import functools
import inspect
import re
from copy import copy
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any, Union, cast, get_args, get_origin

from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, GetPydanticSchema, Json, create_model
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ketch._plan.dependencies import Node, build_graph, call_kind
from ketch._plan.render import stream_item_type
from ketch._plan.signature import FieldSpec, return_annotation
from ketch.openapi.fields import SchemaField, model_fields, with_upload_schema
from ketch.openapi.routes import OperationRoute
from ketch.params import Body, File, Form, Path
from ketch.responses import Response
from ketch.security.base import SecurityBase
from ketch.sse import EventSourceResponse, ServerSentEvent

__all__ = ["ParamGroup", "TypedDescription", "describe", "param_aliases"]

SOURCES = ("path", "query", "header", "cookie")


@dataclass(eq=False)
class ParamGroup:
    """One declared parameter and the parameters it shows as (several for a parameter model)."""

    source: str
    parent: SchemaField
    fields: list[SchemaField]
    optional_model: bool = False


@dataclass(eq=False)
class TypedDescription:
    """Everything the document says about a typed route's requests and responses."""

    params: list[ParamGroup] = field(default_factory=list)
    security: list[tuple[SecurityBase, list[str]]] = field(default_factory=list)
    body_field: SchemaField | None = None
    body_media_type: str = "application/json"
    response_field: SchemaField | None = None
    response_fields: dict[int | str, SchemaField] = field(default_factory=dict)
    stream_item_field: SchemaField | None = None
    is_json_stream: bool = False
    is_sse_stream: bool = False

    @property
    def param_fields(self) -> list[SchemaField]:
        return [f for group in self.params for f in group.fields]

    @property
    def schema_fields(self) -> list[SchemaField]:
        """Every field whose schema the document needs, for the one pydantic pass."""
        found = [f for f in (self.body_field, self.response_field, self.stream_item_field) if f is not None]
        return [*found, *self.response_fields.values(), *self.param_fields]


def describe(route: OperationRoute) -> TypedDescription:
    """Read ``route``'s parameters, body and responses (see the module docstring)."""
    path_params = re.findall("{(.*?)}", route.path_format)
    graph = build_graph(route.endpoint, route.dependencies, path_params)
    result = TypedDescription()
    _walk_params(graph.endpoint, graph.nodes, result)
    body_specs: list[FieldSpec] = []
    _collect_body(graph.endpoint, graph.nodes, body_specs)
    _describe_body(body_specs, route.unique_id, result)
    _describe_responses(route, graph.endpoint, result)
    return result


# -- parameters and security ---------------------------------------------------------------------------------------


def _unwrapped(call: Any) -> Any:
    while isinstance(call, functools.partial):
        call = call.func
    return inspect.unwrap(call)


def _uses_scopes(node: Node, nodes: list[Node], own: tuple[str, ...], seen: dict[int, bool]) -> bool:
    if own or "security_scopes" in node.signature.kinds or isinstance(_unwrapped(node.call), SecurityBase):
        return True
    if node.index in seen:
        return seen[node.index]
    seen[node.index] = False  # a cycle cannot happen, but a shared node is asked once
    result = any(
        _uses_scopes(nodes[child], nodes, spec.scopes, seen)
        for child, spec in zip(node.children, node.signature.dependencies, strict=False)
    )
    seen[node.index] = result
    return result


def _walk_params(root: Node, nodes: list[Node], result: TypedDescription) -> None:
    """FastAPI's walk: each node once per cache key, its parameters grouped by source, security schemes noted."""
    visited: set[tuple[Any, ...]] = set()
    grouped: dict[str, list[FieldSpec]] = {source: [] for source in SOURCES}
    seen: dict[int, bool] = {}
    stack: list[tuple[Node, list[str], tuple[str, ...], bool]] = [(root, [], (), True)]
    while stack:
        node, parent_scopes, own, is_root = stack.pop()
        scopes = list(parent_scopes)
        scopes.extend(s for s in own if s not in scopes)
        uses = _uses_scopes(node, nodes, own, seen)
        key = (id(node.call), tuple(sorted(set(scopes))) if uses else (), node.scope or "")
        if key in visited:
            continue
        visited.add(key)
        for spec in node.signature.fields:
            grouped[spec.source].append(spec)
        scheme = _unwrapped(node.call)
        if not is_root and isinstance(scheme, SecurityBase):
            result.security.append((scheme, scopes))
        pairs = list(zip(node.children, node.signature.dependencies, strict=False))
        stack.extend((nodes[child], scopes, spec.scopes, False) for child, spec in reversed(pairs))
    for source in SOURCES:
        result.params.extend(_param_group(source, spec) for spec in grouped[source])


def _param_field(spec: FieldSpec) -> SchemaField:
    info = copy(spec.info)
    marker = spec.marker
    if not info.alias and getattr(marker, "convert_underscores", False):
        info.alias = spec.name.replace("_", "-")
    else:
        info.alias = info.alias or spec.name
    if isinstance(marker, Path):
        info.validation_alias = _path_choice(info.validation_alias, spec.keys)
    return SchemaField(info, spec.name, marker=marker)


def _path_choice(alias: Any, keys: tuple[str, ...]) -> Any:
    if isinstance(alias, AliasChoices) and all(isinstance(c, str) for c in alias.choices) and keys:
        return keys[0]
    return alias


def _param_group(source: str, spec: FieldSpec) -> ParamGroup:
    parent = _param_field(spec)
    model = spec.model if not _is_json(spec.info) else None
    if model is None:
        return ParamGroup(source, parent, [parent])
    optional = spec.info.annotation is not model and not spec.info.is_required()
    return ParamGroup(source, parent, model_fields(model), optional)


def _is_json(info: FieldInfo) -> bool:
    return any(type(item) is Json for item in info.metadata)


def param_aliases(schema_field: SchemaField, convert_underscores: bool = False) -> list[tuple[str, str]]:
    """(validation alias, request key) pairs in preference order, as FastAPI's ``_get_param_aliases``."""
    alias = schema_field.validation_alias
    request_alias = alias.replace("_", "-") if convert_underscores and alias == schema_field.name else alias
    validation_alias = schema_field.info.validation_alias
    if isinstance(schema_field.marker, Path) or isinstance(validation_alias, AliasPath):
        return [(alias, request_alias)]
    aliases = [(alias, request_alias)]
    if isinstance(validation_alias, AliasChoices):
        if any(isinstance(choice, AliasPath) for choice in validation_alias.choices):
            return aliases
        aliases = [(str(choice), str(choice)) for choice in validation_alias.choices]
    config: dict[str, Any] = dict(schema_field.config or {})
    by_name = config.get("validate_by_name", config.get("populate_by_name", False))
    if config.get("validate_by_alias") is False or by_name:
        request_name = schema_field.name.replace("_", "-") if convert_underscores else schema_field.name
        if config.get("validate_by_alias") is False:
            return [(schema_field.name, request_name)]
        if schema_field.name not in [a for a, _ in aliases]:
            aliases.append((schema_field.name, request_name))
    return aliases


# -- the request body ----------------------------------------------------------------------------------------------


def _collect_body(node: Node, nodes: list[Node], found: list[FieldSpec]) -> None:
    # Every occurrence, repeats included (FastAPI counts a shared dependency's body parameters once per use).
    found.extend(node.signature.body)
    for child in node.children:
        _collect_body(nodes[child], nodes, found)


def _as_marker(info: FieldInfo, marker: FieldInfo) -> FieldInfo:
    """``info`` as an instance of its marker's class, with only the explicitly given options marked as set.

    pydantic copies a ``FieldInfo`` subclass given to ``create_model`` as it is, but rebuilds a plain one from the
    options it was given: body models must be built from the same kind of field as FastAPI builds them from, or
    their schemas differ (a title the user never set, for one).
    """
    field_info = copy(marker)
    for name in FieldInfo.__slots__:
        if hasattr(info, name):
            setattr(field_info, name, copy(getattr(info, name)))
    field_info._attributes_set = {k: v for k, v in info._attributes_set.items() if k != "default"}
    field_info._final = False  # not yet merged into a model: pydantic merges it as it merges a marker
    return field_info


def _body_field(spec: FieldSpec) -> SchemaField:
    info = _as_marker(spec.info, spec.marker)
    info.alias = info.alias or spec.name
    info.annotation = with_upload_schema(info.annotation)
    return SchemaField(info, spec.name, marker=spec.marker)


def _model_type(annotation: Any) -> type[BaseModel] | None:
    if get_origin(annotation) in (Union, type(int | None)):
        args = get_args(annotation)
        if len(args) == 2 and type(None) in args:
            annotation = next(arg for arg in args if arg is not type(None))
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _form_union_models(annotation: Any) -> list[type[BaseModel]]:
    if get_origin(annotation) not in (Union, type(int | None)):
        return []
    models = []
    for arg in get_args(annotation):
        if arg is type(None):
            continue
        if get_origin(arg) is Annotated:
            arg = get_args(arg)[0]
        if not (isinstance(arg, type) and issubclass(arg, BaseModel)):
            return []
        models.append(arg)
    return models if len(models) > 1 else []


def _form_models(body: SchemaField) -> list[type[BaseModel]]:
    if not isinstance(body.marker, Form) or getattr(body.marker, "embed", None) or _is_json(body.info):
        return []
    model = _model_type(body.info.annotation)
    return [model] if model is not None else _form_union_models(body.info.annotation)


def _should_embed(fields: list[SchemaField]) -> bool:
    if not fields:
        return False
    if len({f.name for f in fields}) > 1:
        return True
    first = fields[0]
    first_models = _form_models(first)
    if first_models and any(not _form_models(f) or f.info.annotation is not first.info.annotation for f in fields[1:]):
        return True
    if getattr(first.marker, "embed", None):
        return True
    annotation = first.info.annotation
    is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return isinstance(first.marker, Form) and not is_model and not first_models


def _describe_body(specs: list[FieldSpec], unique_id: str, result: TypedDescription) -> None:
    if not specs:
        return
    fields = [_body_field(spec) for spec in specs]
    embed = _should_embed(fields)
    first = fields[0]
    nullable_form_model = any(_form_models(f) and type(None) in get_args(f.info.annotation) for f in fields)
    if not embed and not nullable_form_model:
        result.body_field = first
        result.body_media_type = getattr(first.marker, "media_type", "application/json")
        return
    body_model = _body_model(fields, "Body_" + unique_id)
    if not embed:
        info = copy(first.info)
        info.annotation = body_model
        info.metadata = []
        info.discriminator = None
        result.body_field = SchemaField(info, first.name, marker=first.marker)
        result.body_media_type = getattr(first.marker, "media_type", "application/json")
        return
    required = any(f.info.is_required() for f in fields)
    options: dict[str, Any] = {} if required else {"default": None}
    info = FieldInfo(annotation=body_model, alias="body", **options)
    result.body_field = SchemaField(info, "body")
    result.body_media_type = _embedded_media_type(fields)


def _embedded_media_type(fields: list[SchemaField]) -> str:
    markers = [f.marker for f in fields]
    if any(isinstance(m, File) for m in markers):
        return "multipart/form-data"
    kind: type = Form if any(isinstance(m, Form) for m in markers) else Body
    media_types = [getattr(m, "media_type", "application/json") for m in markers if isinstance(m, kind)]
    if kind is Form and "multipart/form-data" in media_types:
        return "multipart/form-data"
    if len(set(media_types)) == 1:
        return str(media_types[0])
    return "application/x-www-form-urlencoded" if kind is Form else "application/json"


def _body_model(fields: list[SchemaField], model_name: str) -> type[BaseModel]:
    config: ConfigDict | None = None
    members = fields
    if any(_form_models(f) for f in fields):
        members = []
        for index, body in enumerate(fields):
            info = copy(body.info)
            models = _form_models(body)
            if len(models) == 1:
                model = models[0]
                annotation: Any = Annotated[
                    model, GetPydanticSchema(get_pydantic_json_schema=partial(_form_model_schema, model))
                ]
                info.annotation = annotation if body.info.annotation is model else annotation | None
            name = f"field_{index}"
            info.alias = info.validation_alias = info.serialization_alias = name
            info.title = info.title or body.name.replace("_", " ").title()
            members.append(SchemaField(info, name, marker=body.marker))
        config = ConfigDict(json_schema_extra=partial(_apply_form_body_schema, fields))
    definitions = {f.name: (f.info.annotation, f.info) for f in members}
    return cast(type[BaseModel], create_model(model_name, __config__=config, **definitions))  # type: ignore[call-overload]


def _form_model_schema(model: type[BaseModel], core_schema: Any, handler: Any) -> dict[str, Any]:
    """A form model's schema with its properties under the names a form sends them by (FastAPI 0.163)."""
    schema = handler(core_schema)
    model_schema = handler.resolve_ref_schema(schema)
    properties = model_schema.get("properties", {})
    required = model_schema.get("required", [])
    aliases: dict[str, list[str]] = {}
    for member in model_fields(model):
        validation_alias = member.info.validation_alias
        schema_name = (
            validation_alias.choices[0] if isinstance(validation_alias, AliasChoices) else member.validation_alias
        )
        names = [alias for alias, _ in param_aliases(member)]
        changed = names[0] != schema_name or (len(names) > 1 and schema_name in required)
        if isinstance(schema_name, str) and schema_name in properties and changed:
            aliases[schema_name] = names
    if not aliases:
        return cast(dict[str, Any], schema)
    model_schema = dict(model_schema)
    model_schema["properties"] = {aliases.get(name, [name])[0]: value for name, value in properties.items()}
    model_schema["required"] = []
    for name in required:
        names = aliases.get(name, [name])
        if len(names) == 1:
            model_schema["required"].append(names[0])
        else:
            model_schema["allOf"] = [*model_schema.get("allOf", []), {"anyOf": [{"required": [n]} for n in names]}]
    return model_schema


def _apply_form_body_schema(fields: list[SchemaField], schema: dict[str, Any]) -> None:
    """The body schema of a form that mixes form models with plain fields: one flat object (FastAPI 0.163)."""
    parameter_schemas = schema.pop("properties")
    schema.pop("required", None)
    properties: dict[str, Any] = {}
    required: list[str] = []
    conditions: list[dict[str, Any]] = []
    for index, body in enumerate(fields):
        member_schema = parameter_schemas[f"field_{index}"]
        models = _form_models(body)
        if not models:
            alias = param_aliases(body)[0][0]
            if alias in properties:
                conditions.append({"properties": {alias: member_schema}})
            else:
                properties[alias] = member_schema
            if body.info.is_required() and alias not in required:
                required.append(alias)
            continue
        member_schema.pop("default", None)
        if type(None) in get_args(body.info.annotation):
            member_schema["anyOf"] = [c for c in member_schema["anyOf"] if c.get("type") != "null"]
            absent = _absent_schema(models)
            if body.info.is_required():
                conditions.append({"not": absent})
            else:
                member_schema = {"anyOf": [absent, member_schema]}
        conditions.append(member_schema)
    if properties:
        schema["properties"] = properties
    if required:
        schema["required"] = required
    schema["allOf"] = conditions


def _absent_schema(models: list[type[BaseModel]]) -> dict[str, Any]:
    if any(model.model_config.get("extra") in ("allow", "forbid") for model in models):
        return {"maxProperties": 0}
    names = sorted({alias for model in models for item in model_fields(model) for alias, _ in param_aliases(item)})
    return {"not": {"anyOf": [{"required": [name]} for name in names]}} if names else {}


# -- responses -----------------------------------------------------------------------------------------------------


def _is_subclass(value: Any, cls: type) -> bool:
    return isinstance(value, type) and issubclass(value, cls)


def _describe_responses(route: OperationRoute, endpoint: Node, result: TypedDescription) -> None:
    for status, response in route.responses.items():
        additional = response.get("model") if isinstance(response, dict) else None
        if additional:
            name = f"Response_{status}_{route.unique_id}"
            result.response_fields[status] = _explicit_response_field(name, additional)
    generator = endpoint.kind in ("gen", "asyncgen") or call_kind(route.endpoint) in ("gen", "asyncgen")
    response_class = route.response_class
    result.is_sse_stream = generator and _is_subclass(response_class, EventSourceResponse)
    result.is_json_stream = generator and response_class is None
    options = route.options
    model: Any = options.get("response_model")
    if "response_model" not in options:
        annotation = return_annotation(route.endpoint)
        item = stream_item_type(annotation) if annotation is not None else None
        if _is_subclass(annotation, Response):
            model = None
        elif item is not None and generator:
            default_or_sse = response_class is None or _is_subclass(response_class, EventSourceResponse)
            if default_or_sse and not _is_subclass(item, ServerSentEvent):
                result.stream_item_field = _response_field("StreamItem_" + route.unique_id, item)
            model = None
        else:
            model = annotation
        if model is not None:
            result.response_field = _response_field("Response_" + route.unique_id, model)
        return
    if model:
        result.response_field = _explicit_response_field("Response_" + route.unique_id, model)


def _explicit_response_field(name: str, model: Any) -> SchemaField:
    return SchemaField(FieldInfo(annotation=model, default=PydanticUndefined), name, mode="serialization")


def _response_field(name: str, model: Any) -> SchemaField | None:
    try:
        return _explicit_response_field(name, model)
    except Exception:
        return None  # an inferred annotation pydantic cannot describe (``-> Response | dict``): no schema
