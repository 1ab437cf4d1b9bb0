"""The OpenAPI 3.1 document: a plain function of the routes that were registered (no I/O, no request).

``get_openapi`` walks the routes, reads what each typed route takes and returns from its signature specs
(``openapi/typed.py``), runs every schema through pydantic once (``openapi/fields.py``), and assembles paths,
components, security schemes, webhooks and tags the way FastAPI does, so the document of an app written against
``ketch.compat.fastapi`` equals FastAPI's (``fastapi_compatible``). A classic-face route shows what can be known
without a signature: its path parameters, summary and description.

An app's own document (not ``fastapi_compatible``) differs in two ways, both to tell clients the truth: every
operation also lists the statuses ketch itself may answer it with (400 for a body it cannot parse, 413 for one over
the size limit, 401 when a security scheme finds no credentials), and a stream's item schema is ``x-itemSchema``
(FastAPI writes OpenAPI 3.2's ``itemSchema``, which a 3.1 validator refuses).
"""

from __future__ import annotations

import copy
import http.client
import inspect
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import PydanticUndefined as _PYDANTIC_UNSET

from ketch.encoders import jsonable_encoder
from ketch.openapi.fields import REF_PREFIX, SchemaField, SchemaMap, definitions, field_schema
from ketch.openapi.models import OpenAPI
from ketch.openapi.routes import OperationRoute, callback_routes
from ketch.openapi.typed import TypedDescription, describe, param_aliases
from ketch.responses import JSONResponse, Response
from ketch.routing.route import BaseRoute
from ketch.routing.router import Router

__all__ = [
    "HTTP_ERROR_DEFINITION",
    "METHODS_WITH_BODY",
    "VALIDATION_ERROR_DEFINITION",
    "VALIDATION_ERROR_RESPONSE_DEFINITION",
    "DocumentRoute",
    "deep_dict_update",
    "get_openapi",
    "webhook_routes",
]

METHODS_WITH_BODY = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"}
_BODYLESS = {"GET", "HEAD", "OPTIONS", "TRACE"}

VALIDATION_ERROR_DEFINITION: dict[str, Any] = {
    "title": "ValidationError",
    "type": "object",
    "properties": {
        "loc": {"title": "Location", "type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"title": "Message", "type": "string"},
        "type": {"title": "Error Type", "type": "string"},
        "input": {"title": "Input"},
        "ctx": {"title": "Context", "type": "object"},
    },
    "required": ["loc", "msg", "type"],
}
VALIDATION_ERROR_RESPONSE_DEFINITION: dict[str, Any] = {
    "title": "HTTPValidationError",
    "type": "object",
    "properties": {"detail": {"title": "Detail", "type": "array", "items": {"$ref": REF_PREFIX + "ValidationError"}}},
}
HTTP_ERROR_DEFINITION: dict[str, Any] = {
    "title": "HTTPError",
    "type": "object",
    "properties": {"detail": {"title": "Detail", "type": "string"}},
    "required": ["detail"],
}
_SSE_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {"type": "string"},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer", "minimum": 0},
    },
}
STATUS_CODE_RANGES = {
    "1XX": "Information",
    "2XX": "Success",
    "3XX": "Redirection",
    "4XX": "Client Error",
    "5XX": "Server Error",
    "DEFAULT": "Default Response",
}


@dataclass(eq=False)
class DocumentRoute:
    """A route with what the document says about it, worked out once per document."""

    view: OperationRoute
    typed: TypedDescription | None
    callbacks: list[DocumentRoute] = field(default_factory=list)

    @property
    def schema_fields(self) -> list[SchemaField]:
        own = self.typed.schema_fields if self.typed is not None else []
        return [*[f for callback in self.callbacks for f in callback.schema_fields], *own]


def _document_route(view: OperationRoute) -> DocumentRoute:
    typed = describe(view) if view.typed else None
    callbacks = [_document_route(callback) for callback in callback_routes(view.callbacks)]
    return DocumentRoute(view, typed, callbacks)


def get_openapi(
    *,
    title: str,
    version: str,
    routes: Iterable[OperationRoute],
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    webhooks: Iterable[OperationRoute] | None = None,
    tags: list[dict[str, Any]] | None = None,
    servers: list[dict[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: dict[str, Any] | None = None,
    license_info: dict[str, Any] | None = None,
    separate_input_output_schemas: bool = True,
    external_docs: dict[str, Any] | None = None,
    fastapi_compatible: bool = True,
    max_body_size: int | None = None,
) -> dict[str, Any]:
    """Build the OpenAPI document of ``routes`` (see the module docstring); the arguments are FastAPI's."""
    info: dict[str, Any] = {"title": title, "version": version}
    for key, value in (
        ("summary", summary),
        ("description", description),
        ("termsOfService", terms_of_service),
        ("contact", contact),
        ("license", license_info),
    ):
        if value:
            info[key] = value
    output: dict[str, Any] = {"openapi": openapi_version, "info": info}
    if servers:
        output["servers"] = servers
    documented = [_document_route(view) for view in routes if view.include_in_schema]
    hooks = [_document_route(view) for view in webhooks or () if view.include_in_schema]
    all_fields = [f for route in [*documented, *hooks] for f in route.schema_fields]
    mapping, defs = definitions(all_fields, separate_input_output_schemas)
    writer = _PathWriter(mapping, defs, separate_input_output_schemas, not fastapi_compatible, max_body_size)
    paths = writer.write_all(documented)
    webhook_paths = writer.write_all(hooks)
    components: dict[str, Any] = {}
    if writer.security_schemes:
        components["securitySchemes"] = writer.security_schemes
    if defs:
        components["schemas"] = {k: defs[k] for k in sorted(defs)}
    if components:
        output["components"] = components
    output["paths"] = paths
    if webhook_paths:
        output["webhooks"] = webhook_paths
    if tags:
        output["tags"] = tags
    if external_docs:
        output["externalDocs"] = external_docs
    document = OpenAPI.model_validate(output)
    return jsonable_encoder(document, by_alias=True, exclude_none=True)  # type: ignore[no-any-return]


class _PathWriter:
    """Writes path items, collecting security schemes and extra component schemas on the way."""

    def __init__(
        self,
        mapping: SchemaMap,
        defs: dict[str, dict[str, Any]],
        separate: bool,
        ketch_document: bool,
        max_body_size: int | None,
    ) -> None:
        self.mapping = mapping
        self.defs = defs
        self.separate = separate
        self.ketch_document = ketch_document
        self.item_schema = "x-itemSchema" if ketch_document else "itemSchema"
        self.max_body_size = max_body_size
        self.security_schemes: dict[str, Any] = {}
        self.operation_ids: set[str] = set()

    def schema(self, schema_field: SchemaField, alias: str | None = None) -> dict[str, Any]:
        return field_schema(schema_field, self.mapping, self.separate, alias)

    def write_all(self, routes: Sequence[DocumentRoute]) -> dict[str, dict[str, Any]]:
        paths: dict[str, dict[str, Any]] = {}
        for route in routes:
            item = self.path_item(route)
            if item:
                paths.setdefault(route.view.path_format, {}).update(item)
        return paths

    def path_item(self, route: DocumentRoute) -> dict[str, Any]:
        view, typed = route.view, route.typed
        item: dict[str, Any] = {}
        for method in view.methods:
            operation = self.metadata(view, method)
            if typed is not None:
                self.typed_operation(route, typed, method, operation)
            else:
                self.classic_operation(view, operation)
            if view.openapi_extra:
                deep_dict_update(operation, view.openapi_extra)
            item[method.lower()] = operation
        return item

    def metadata(self, view: OperationRoute, method: str) -> dict[str, Any]:
        operation: dict[str, Any] = {}
        if view.tags:
            operation["tags"] = view.tags
        operation["summary"] = view.summary or view.name.replace("_", " ").title()
        if view.description:
            operation["description"] = view.description
        operation_id = view.operation_id_for(method)
        if operation_id in self.operation_ids:
            message = f"Duplicate Operation ID {operation_id} for function {getattr(view.endpoint, '__name__', '')}"
            file_name = getattr(view.endpoint, "__globals__", {}).get("__file__")
            if file_name:
                message += f" at {file_name}"
            warnings.warn(message, stacklevel=1)
        self.operation_ids.add(operation_id)
        operation["operationId"] = operation_id
        if view.deprecated:
            operation["deprecated"] = view.deprecated
        return operation

    # -- a classic-face route: what can be known without a signature ---------------------------------------------

    def classic_operation(self, view: OperationRoute, operation: dict[str, Any]) -> None:
        from ketch.routing.convertors import compile_path

        try:
            convertors = compile_path(view.path)[2]
        except ValueError:
            convertors = {}
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": _convertor_schema(name, convertor)}
            for name, convertor in convertors.items()
        ]
        if parameters:
            operation["parameters"] = parameters
        responses = operation.setdefault("responses", {})
        responses.setdefault(str(view.status_code or 200), {"description": view.response_description})
        for status, extra in view.responses.items():
            responses[str(status)] = {"description": _status_text(status), **copy.deepcopy(extra)}

    # -- a typed route -----------------------------------------------------------------------------------------

    def typed_operation(
        self, route: DocumentRoute, typed: TypedDescription, method: str, operation: dict[str, Any]
    ) -> None:
        view = route.view
        security = self.security(typed)
        if security:
            operation.setdefault("security", []).extend(security)
        parameters = self.parameters(typed)
        if parameters:
            by_key = {(p["in"], p["name"]): p for p in parameters}
            # A required declaration of a parameter wins over an optional one of the same name.
            by_key.update({(p["in"], p["name"]): p for p in parameters if p.get("required")})
            operation["parameters"] = list(by_key.values())
        if method in METHODS_WITH_BODY and typed.body_field is not None:
            operation["requestBody"] = self.request_body(typed)
        if route.callbacks:
            operation["callbacks"] = {
                callback.view.name: {callback.view.path: self.path_item(callback)} for callback in route.callbacks
            }
        self.main_response(view, typed, operation)
        self.additional_responses(view, typed, operation)
        responses = operation["responses"]
        if (typed.param_fields or typed.body_field) and not {"422", "4XX", "default"} & set(responses):
            responses["422"] = {
                "description": "Validation Error",
                "content": {"application/json": {"schema": {"$ref": REF_PREFIX + "HTTPValidationError"}}},
            }
            self.defs.setdefault("ValidationError", VALIDATION_ERROR_DEFINITION)
            self.defs.setdefault("HTTPValidationError", VALIDATION_ERROR_RESPONSE_DEFINITION)
        if self.ketch_document:
            self.ketch_responses(typed, method, responses)

    def security(self, typed: TypedDescription) -> list[dict[str, list[str]]]:
        requirements: dict[str, list[str]] = {}
        for scheme, scopes in typed.security:
            name = scheme.scheme_name
            self.security_schemes[name] = jsonable_encoder(scheme.model, by_alias=True, exclude_none=True)
            merged = requirements.setdefault(name, [])
            merged.extend(scope for scope in scopes if scope not in merged)
        return [{name: scopes} for name, scopes in requirements.items()]

    def parameters(self, typed: TypedDescription) -> list[dict[str, Any]]:
        parameters = []
        for group in typed.params:
            if not getattr(group.parent.marker, "include_in_schema", True):
                continue
            parent_convert = getattr(group.parent.marker, "convert_underscores", True)
            for param in group.fields:
                convert = group.source == "header" and getattr(
                    param.marker if param.marker is not None else param.info, "convert_underscores", parent_convert
                )
                alias, name = param_aliases(param, convert_underscores=bool(convert))[0]
                parameter: dict[str, Any] = {
                    "name": name,
                    "in": group.source,
                    "required": param.info.is_required() and not group.optional_model,
                    "schema": self.schema(param, alias),
                }
                source = param.marker if param.marker is not None else param.info
                if param.info.description:
                    parameter["description"] = param.info.description
                openapi_examples = getattr(source, "openapi_examples", None)
                example = getattr(source, "example", _UNSET)
                if openapi_examples:
                    parameter["examples"] = jsonable_encoder(openapi_examples)
                elif example is not _UNSET and example is not _PYDANTIC_UNSET:
                    parameter["example"] = jsonable_encoder(example)
                if getattr(param.info, "deprecated", None):
                    parameter["deprecated"] = True
                parameters.append(parameter)
        return parameters

    def request_body(self, typed: TypedDescription) -> dict[str, Any]:
        body = typed.body_field
        assert body is not None
        content: dict[str, Any] = {"schema": self.schema(body)}
        marker = body.marker
        openapi_examples = getattr(marker, "openapi_examples", None)
        example = getattr(marker, "example", _PYDANTIC_UNSET)
        if openapi_examples:
            content["examples"] = jsonable_encoder(openapi_examples)
        elif example is not _PYDANTIC_UNSET:
            content["example"] = jsonable_encoder(example)
        request_body: dict[str, Any] = {}
        if body.info.is_required():
            request_body["required"] = True
        request_body["content"] = {typed.body_media_type: content}
        return request_body

    def main_response(self, view: OperationRoute, typed: TypedDescription, operation: dict[str, Any]) -> None:
        response_class = view.response_class or JSONResponse
        status_code = _default_status(view.status_code, response_class)
        response = operation.setdefault("responses", {}).setdefault(status_code, {})
        response["description"] = view.response_description
        if not _body_allowed(view.status_code):
            return
        content = response.setdefault("content", {})
        if typed.is_json_stream:
            item = typed.stream_item_field
            content["application/jsonl"] = {self.item_schema: self.schema(item) if item is not None else {}}
        elif typed.is_sse_stream:
            item_schema = copy.deepcopy(_SSE_EVENT_SCHEMA)
            if typed.stream_item_field is not None:
                item_schema["required"] = ["data"]
                item_schema["properties"]["data"] = {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": self.schema(typed.stream_item_field),
                }
            content["text/event-stream"] = {self.item_schema: item_schema}
        elif response_class.media_type:
            schema: dict[str, Any] = {"type": "string"}
            if _subclass(response_class, JSONResponse):
                schema = self.schema(typed.response_field) if typed.response_field is not None else {}
            content.setdefault(response_class.media_type, {})["schema"] = schema
        if not content:
            del response["content"]

    def additional_responses(self, view: OperationRoute, typed: TypedDescription, operation: dict[str, Any]) -> None:
        responses = operation.setdefault("responses", {})
        media_type = (view.response_class or JSONResponse).media_type or "application/json"
        for status, additional in view.responses.items():
            assert isinstance(additional, dict), "An additional response must be a dict"
            extra = copy.deepcopy(additional)
            extra.pop("model", None)
            key = str(status).upper()
            key = "default" if key == "DEFAULT" else key
            response = responses.setdefault(key, {})
            schema_field = typed.response_fields.get(status)
            if schema_field is not None:
                target = extra.setdefault("content", {}).setdefault(media_type, {}).setdefault("schema", {})
                deep_dict_update(target, self.schema(schema_field))
            text = _status_text(status)
            description = extra.get("description") or response.get("description") or text or "Additional Response"
            deep_dict_update(response, extra)
            response["description"] = description

    def ketch_responses(self, typed: TypedDescription, method: str, responses: dict[str, Any]) -> None:
        """The statuses ketch itself answers this operation with, when the app did not document them."""
        added = []
        if method not in _BODYLESS and self.max_body_size is not None:
            added.append(("413", "Content Too Large"))
        if typed.body_field is not None or any(group.source == "query" for group in typed.params):
            added.append(("400", "Bad Request"))
        if typed.security:
            added.append(("401", "Not Authenticated"))
        for status, description in added:
            if status in responses or "4XX" in responses or "default" in responses:
                continue
            schema = {"$ref": REF_PREFIX + "HTTPError"}
            responses[status] = {"description": description, "content": {"application/json": {"schema": schema}}}
            self.defs.setdefault("HTTPError", HTTP_ERROR_DEFINITION)


_UNSET: Any = object()


def deep_dict_update(main: dict[Any, Any], update: dict[Any, Any]) -> None:
    """Merge ``update`` into ``main``: nested dicts merge, lists concatenate, anything else is replaced."""
    for key, value in update.items():
        if key in main and isinstance(main[key], dict) and isinstance(value, dict):
            deep_dict_update(main[key], value)
        elif key in main and isinstance(main[key], list) and isinstance(value, list):
            main[key] = main[key] + value
        else:
            main[key] = value


def _subclass(value: Any, cls: type) -> bool:
    return isinstance(value, type) and issubclass(value, cls)


def _default_status(status_code: int | None, response_class: type[Response]) -> str:
    if status_code is not None:
        return str(status_code)
    parameter = inspect.signature(response_class.__init__).parameters.get("status_code")
    if parameter is not None and isinstance(parameter.default, int):
        return str(parameter.default)
    return "200"


def _body_allowed(status_code: int | str | None) -> bool:
    if status_code is None or status_code in {"default", "1XX", "2XX", "3XX", "4XX", "5XX"}:
        return True
    status = int(status_code)
    return not (status < 200 or status in {204, 205, 304})


def _status_text(status: int | str) -> str | None:
    text = STATUS_CODE_RANGES.get(str(status).upper())
    if text is not None:
        return text
    try:
        return http.client.responses.get(int(status))
    except ValueError:
        return None


def _convertor_schema(name: str, convertor: Any) -> dict[str, Any]:
    kind = type(convertor).__name__
    schema: dict[str, Any] = {"type": "string"}
    if kind == "IntegerConvertor":
        schema = {"type": "integer"}
    elif kind == "FloatConvertor":
        schema = {"type": "number"}
    elif kind == "UUIDConvertor":
        schema = {"type": "string", "format": "uuid"}
    schema["title"] = name.title().replace("_", " ")
    return schema


def webhook_routes(webhooks: Router | Sequence[BaseRoute] | None) -> list[OperationRoute]:
    """The webhooks of ``app.webhooks`` (a router) or a list of routes."""
    if webhooks is None:
        return []
    routes = webhooks.routes if isinstance(webhooks, Router) else list(webhooks)
    return list(callback_routes(routes))
