"""Pulling a route's declared inputs out of the request, shaped for its validators.

An extractor is built once per route and knows which sources the route reads: a route with no header parameters
never looks at the headers, one with no cookies never parses them. Query, cookie and path values are handed to
pydantic as the request's own mappings whenever no reshaping is needed (no copying); repeated keys become lists only
for list-typed parameters, as FastAPI reads them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import Json

from ketch._plan.signature import (
    is_bytes_annotation,
    is_bytes_sequence_annotation,
    is_sequence_annotation,
    model_field_aliases,
)
from ketch._plan.validate import UNSET, Slot, data_key, is_form_model
from ketch.datastructures import FormData, Headers, ImmutableMultiDict, UploadFile
from ketch.requests import HTTPConnection, Request

__all__ = ["ParamsExtractor", "is_json_content_type", "read_body", "read_form"]


class ParamsExtractor:
    """Builds the validation data ``{source: mapping}`` (per dependency node when there are several)."""

    __slots__ = ("sources", "query_lists", "header_keys", "models", "multi_node", "nodes")

    def __init__(self, slots: Sequence[Slot], multi_node: bool) -> None:
        plain = [slot for slot in slots if slot.spec.model is None]
        self.sources = {slot.spec.source for slot in plain}
        self.query_lists = sorted(
            {key for s in plain if s.spec.source == "query" and s.spec.is_sequence for key in s.spec.keys}
        )
        self.header_keys: list[tuple[str, bool]] = []
        for slot in plain:
            if slot.spec.source == "header":
                self.header_keys += [(key, slot.spec.is_sequence) for key in slot.spec.keys]
        self.models = [_ModelReader(slot) for slot in slots if slot.spec.model is not None]
        self.multi_node = multi_node
        self.nodes = sorted({f"n{slot.node}" for slot in slots})

    def extract(self, connection: HTTPConnection) -> dict[str, Any]:
        data: dict[str, Any] = {}
        sources = self.sources
        if "path" in sources:
            data["path"] = connection.scope.get("path_params", {})
        if "query" in sources:
            data["query"] = self._query(connection)
        if "header" in sources:
            data["header"] = self._headers(connection.headers)
        if "cookie" in sources:
            data["cookie"] = connection.cookies
        for reader in self.models:
            value = reader.read(connection)
            if value is not UNSET:
                data[reader.key] = value
        if self.multi_node:
            return {node: data for node in self.nodes}
        return data

    def _query(self, connection: HTTPConnection) -> Mapping[str, Any]:
        if not self.query_lists:
            # PERF: pydantic reads a plain dict fastest (a missing key costs no KeyError); most query strings
            # have nothing to unescape and are split straight into one.
            plain = _plain_query(connection.scope.get("query_string", b""), connection.limits.max_query_params)
            return plain if plain is not None else dict(connection.query_params.items())
        params = connection.query_params
        data: dict[str, Any] = dict(params.items())
        for key in self.query_lists:
            values = params.getlist(key)
            if values:
                data[key] = values
            else:
                data.pop(key, None)
        return data

    def _headers(self, headers: Headers) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, is_sequence in self.header_keys:
            if is_sequence:
                values = headers.getlist(key)
                if values:
                    data[key] = values
            else:
                value = headers.get(key)
                if value is not None:
                    data[key] = value
        return data


def _plain_query(raw: bytes, limit: int | None) -> dict[str, str] | None:
    """The last value of each key of a query string with no escapes (``%``, ``+``), as ``QueryParams`` reads it;
    None for any other query string, and for one over the parameter limit (``QueryParams`` refuses it)."""
    if b"%" in raw or b"+" in raw or (limit is not None and raw and raw.count(b"&") >= limit):
        return None
    data: dict[str, str] = {}
    for field in raw.decode("latin-1").split("&"):
        if field:
            key, _, value = field.partition("=")
            data[key] = value
    return data


class _ModelReader:
    """Reads the dict for a parameter model (``Annotated[Filters, Query()]``) the way FastAPI does: the model's
    own fields by alias (header names with ``_`` turned into ``-``), plus every other key as an extra, so a model
    with ``extra="forbid"`` rejects keys it does not declare."""

    __slots__ = ("key", "source", "fields", "optional", "extra_policy")

    def __init__(self, slot: Slot) -> None:
        spec = slot.spec
        model = spec.model
        assert model is not None
        self.key = data_key(slot)
        self.source = spec.source
        self.optional = spec.info.annotation is not model
        self.extra_policy = model.model_config.get("extra")
        default_convert = getattr(spec.marker, "convert_underscores", True)
        # (validation alias, request keys in order, is_sequence) per model field.
        self.fields: list[tuple[list[tuple[str, str]], bool]] = []
        for name, info in model.model_fields.items():
            convert = spec.source == "header" and getattr(info, "convert_underscores", default_convert)
            aliases = model_field_aliases(name, info, convert)
            is_sequence = not any(type(m) is Json for m in info.metadata) and is_sequence_annotation(info.annotation)
            self.fields.append((aliases, is_sequence))

    def read(self, connection: HTTPConnection) -> Any:
        received: Any
        if self.source == "query":
            received = connection.query_params
        elif self.source == "header":
            received = connection.headers
        else:
            received = connection.cookies
        is_headers = self.source == "header"
        values: dict[str, Any] = {}
        processed: set[str] = set()
        own: set[str] = set()
        for aliases, is_sequence in self.fields:
            own.update(name.lower() if is_headers else name for _, name in aliases)
            alias, request_key = next((pair for pair in aliases if pair[1] in received), aliases[0])
            value = _value(received, request_key, is_sequence)
            if value is not UNSET:
                values[alias] = value
            if is_headers:
                processed.add(request_key.lower())
                processed.update(v.lower() for v, h in aliases if v != h)
            else:
                processed.add(request_key)
        values.update(_extras(received, processed))
        supplied = bool(own.intersection(received)) or (self.extra_policy in ("allow", "forbid") and bool(values))
        if self.optional and not supplied:
            return UNSET
        return values


def _value(received: Any, key: str, is_sequence: bool) -> Any:
    if is_sequence and isinstance(received, ImmutableMultiDict | Headers):
        value: Any = received.getlist(key)
    else:
        value = received.get(key)
    if value is None or (is_sequence and len(value) == 0):
        return UNSET
    return value


def _extras(received: Any, processed: set[str]) -> Iterator[tuple[str, Any]]:
    if isinstance(received, ImmutableMultiDict):
        items: list[tuple[str, Any]] = received.multi_items()
    elif isinstance(received, Headers):
        items = received.items()
    else:
        for key in received:
            if key not in processed:
                yield key, received.get(key)
        return
    grouped: dict[str, list[Any]] = {}
    for key, value in items:
        if key not in processed:
            grouped.setdefault(key, []).append(value)
    for key, values in grouped.items():
        yield key, values[0] if len(values) == 1 else values


@functools.lru_cache(maxsize=64)
def is_json_content_type(value: str) -> bool:
    """``application/json`` or ``application/<anything>+json``, parameters ignored (as FastAPI decides)."""
    media = value.split(";", 1)[0].strip().lower()
    if media.count("/") != 1:
        return False
    main, sub = media.split("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


async def read_body(request: Request, strict_content_type: bool) -> tuple[str, Any]:
    """Read the body: ``("json", bytes)`` to parse, ``("raw", bytes)`` when it is not JSON, ``("none", UNSET)``.

    A JSON body needs a JSON ``Content-Type``; with ``strict_content_type=False`` a body without any
    ``Content-Type`` is parsed as JSON too (FastAPI >= 0.132 behaviour).
    """
    raw = await request.body()
    if not raw:
        return "none", UNSET
    content_type = None
    for key, header in request.scope["headers"]:
        if key == b"content-type":
            content_type = header.decode("latin-1")
            break
    if not content_type:
        return ("raw", raw) if strict_content_type else ("json", raw)
    return ("json", raw) if is_json_content_type(content_type) else ("raw", raw)


def _is_empty_upload(value: Any) -> bool:
    # What browsers send for a file input left empty: no name, no bytes.
    return isinstance(value, UploadFile) and value.filename == "" and value.size == 0


def _form_value(form: FormData, key: str, is_sequence: bool) -> Any:
    value: Any
    if is_sequence:
        value = [item for item in form.getlist(key) if not _is_empty_upload(item)]
        return value if value else UNSET
    value = form.get(key)
    if value is None or value == "" or _is_empty_upload(value):
        return UNSET
    return value


async def _read_upload(upload: UploadFile) -> bytes:
    # Reading for a ``bytes`` parameter must not move a file another parameter also reads.
    position = upload.file.tell()
    try:
        return await upload.read()
    finally:
        await upload.seek(position)


async def _as_bytes(value: Any, annotation: Any) -> Any:
    if isinstance(value, UploadFile) and is_bytes_annotation(annotation):
        return await _read_upload(value)
    if isinstance(value, list) and is_bytes_sequence_annotation(annotation):
        return [await _read_upload(item) if isinstance(item, UploadFile) else item for item in value]
    return value


async def read_form(form: FormData, slots: Sequence[Slot]) -> tuple[dict[str, Any], list[Any]]:
    """The values of a form body, as FastAPI reads them: plain fields by request key (an empty string or an
    empty file counts as absent; ``bytes`` parameters get the file's content), and one dict per form model."""
    plain: dict[str, Any] = {}
    models: list[Any] = []
    for slot in slots:
        spec = slot.spec
        if is_form_model(spec):
            models.append(_form_model_input(form, spec.model, spec.info.annotation is not spec.model))
            continue
        for key in spec.keys:
            value = _form_value(form, key, spec.is_sequence)
            if value is not UNSET:
                plain[key] = await _as_bytes(value, spec.info.annotation) if spec.is_file else value
                break
    return plain, models


def _form_model_input(form: FormData, model: Any, optional: bool) -> Any:
    values: dict[str, Any] = {}
    own: set[str] = set()
    for name, info in model.model_fields.items():
        aliases = model_field_aliases(name, info, False)
        own.update(alias for alias, _ in aliases)
        is_sequence = not any(type(m) is Json for m in info.metadata) and is_sequence_annotation(info.annotation)
        for alias, _ in aliases:
            value = _form_value(form, alias, is_sequence)
            if value is not UNSET:
                values[alias] = value
                break
    values.update(_extras(form, own))
    if optional:
        supplied = bool(own.intersection(form)) or (model.model_config.get("extra") in ("allow", "forbid") and form)
        if not supplied:
            return UNSET
    return values
