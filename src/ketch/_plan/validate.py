"""Validation with pydantic: one validator per source group, built at start-up; errors in FastAPI's shape.

``ParamsValidator`` covers every path, query, header and cookie value of a route (its dependencies' too) with one
generated model, so a request costs one call into pydantic-core however many parameters it has. Each field reads
its value through an ``AliasPath`` (``("query", "q")``), which also makes pydantic report the ``loc`` FastAPI
reports. ``BodyValidator`` validates a JSON body straight from the request bytes (``validate_json``) and falls
back to FastAPI's exact parse-then-validate only when that fails, so every error body matches FastAPI's.
"""

from __future__ import annotations

import json
import types
from collections.abc import Sequence
from copy import deepcopy
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    AliasChoices,
    AliasPath,
    ConfigDict,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ketch._plan.signature import FieldSpec, model_field_aliases
from ketch.datastructures import UploadFile
from ketch.exceptions import HTTPException, RequestValidationError

__all__ = [
    "UNSET",
    "BodyValidator",
    "ErrorList",
    "FormValidator",
    "ParamsValidator",
    "Slot",
    "missing_error",
    "pydantic_field",
]

UNSET: Any = PydanticUndefined
ErrorList = list[tuple[int, dict[str, Any]]]  # (node index, FastAPI-shaped error), node 0 when there is one node

_CONFIG = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())


class Slot:
    """A validated value's place: the key it is stored under, the dependency node it belongs to, and its spec."""

    __slots__ = ("key", "node", "spec")

    def __init__(self, key: str, node: int, spec: FieldSpec) -> None:
        self.key = key
        self.node = node
        self.spec = spec


def missing_error(loc: tuple[Any, ...]) -> dict[str, Any]:
    """The error FastAPI reports for a required value the request does not carry."""
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": None}


def annotated(annotation: Any, metadata: Sequence[Any]) -> Any:
    """``Annotated[annotation, *metadata]`` (bare when there is no metadata), with uploads made validatable."""
    annotation = with_upload_validator(annotation)
    if not metadata:
        return annotation
    return Annotated.__class_getitem__((annotation, *metadata))  # type: ignore[attr-defined]


def _check_upload(value: Any) -> UploadFile:
    if not isinstance(value, UploadFile):
        raise ValueError(f"Expected UploadFile, received: {type(value)}")
    return value


def with_upload_validator(annotation: Any) -> Any:
    """``annotation`` with every ``UploadFile`` in it validated as FastAPI does (an instance check whose error is
    "Value error, Expected UploadFile, received: <class 'str'>")."""
    if isinstance(annotation, type) and issubclass(annotation, UploadFile):
        return Annotated[annotation, PlainValidator(_check_upload)]
    args = get_args(annotation)
    origin = get_origin(annotation)
    if origin is None or not args:
        return annotation
    new = tuple(with_upload_validator(arg) for arg in args)
    if all(a is b for a, b in zip(new, args, strict=True)):
        return annotation
    if origin is Annotated:
        return Annotated.__class_getitem__((new[0], *annotation.__metadata__))
    if origin is Union or origin is types.UnionType:
        return Union.__getitem__(new)
    return origin[new]


def pydantic_field(info: FieldInfo, validation_alias: str | AliasPath | AliasChoices | None) -> tuple[Any, Any]:
    """A ``(annotation, Field(...))`` pair for ``create_model``: the spec's type, constraints and default."""
    kwargs: dict[str, Any] = {"default": info.default, "validation_alias": validation_alias}
    if info.default_factory is not None:
        kwargs["default_factory"] = info.default_factory
        del kwargs["default"]
    if info.discriminator is not None:
        kwargs["discriminator"] = info.discriminator
    if info.validate_default is not None:
        kwargs["validate_default"] = info.validate_default
    return annotated(info.annotation, info.metadata), Field(**kwargs)


def _uses_strict(schema: Any) -> bool:
    # Strict fields validate JSON more leniently than Python values (a date string passes); FastAPI validates the
    # parsed Python value, so such bodies take that path too.
    return "'strict': True" in repr(schema)


class ParamsValidator:
    """One model for all non-body values; ``validate(data)`` takes ``{source: mapping}`` (per node if several)."""

    __slots__ = ("validator", "multi_node", "node", "synthetic", "loc_names")

    def __init__(self, slots: Sequence[Slot], multi_node: bool) -> None:
        self.multi_node = multi_node
        # The node every value belongs to when only one node reads any (not always the first: its dependencies
        # may read nothing), so that the nodes not depending on it still run when a value is invalid.
        self.node = slots[0].node if slots else 0
        # Parameter models read a dict made for them, stored in the data under a key of their own.
        self.synthetic: dict[str, str] = {}
        # Header models report a field by the header it was read from ("x-token", not "x_token").
        self.loc_names: dict[str, dict[str, str]] = {}
        fields: dict[str, Any] = {}
        for slot in slots:
            spec = slot.spec
            prefix: tuple[str, ...] = (f"n{slot.node}",) if multi_node else ()
            if spec.model is not None:
                key = data_key(slot)
                self.synthetic[key] = spec.source
                if spec.source == "header":
                    self.loc_names[key] = _header_names(spec)
                alias: Any = AliasPath(*prefix, key) if prefix else key
            elif len(spec.keys) == 1:
                alias = AliasPath(*prefix, spec.source, spec.keys[0])
            else:
                alias = AliasChoices(*(AliasPath(*prefix, spec.source, key) for key in spec.keys))
            fields[slot.key] = pydantic_field(spec.info, alias)
        model = create_model("Params", __config__=_CONFIG, **fields)
        self.validator = model.__pydantic_validator__

    def validate(self, data: dict[str, Any]) -> tuple[dict[str, Any], ErrorList]:
        """The values by slot key, or the errors (tagged with their node) when any value is invalid."""
        try:
            return self.validator.validate_python(data).__dict__, []
        except ValidationError as exc:
            return {}, self._errors(exc.errors(include_url=False))

    def _errors(self, raw: list[Any]) -> ErrorList:
        result: ErrorList = []
        for error in raw:
            loc = error["loc"]
            node = self.node
            if self.multi_node:
                node, loc = int(loc[0][1:]), loc[1:]
            source = self.synthetic.get(loc[0])
            if source is not None:
                names = self.loc_names.get(loc[0])
                if names and len(loc) > 1 and loc[1] in names:
                    loc = (source, names[loc[1]], *loc[2:])
                else:
                    loc = (source, *loc[1:])
                if error["type"] == "missing" and len(loc) == 1:
                    error["input"] = None
            elif error["type"] == "missing" and len(loc) == 2:
                error["input"] = None  # FastAPI reports a missing parameter with no input
            error["loc"] = loc
            result.append((node, error))
        return result


def _header_names(spec: FieldSpec) -> dict[str, str]:
    assert spec.model is not None
    if spec.model.model_config.get("loc_by_alias", True) is False:
        return {}
    default_convert = getattr(spec.marker, "convert_underscores", True)
    names: dict[str, str] = {}
    for name, info in spec.model.model_fields.items():
        convert = getattr(info, "convert_underscores", default_convert)
        alias, request_key = model_field_aliases(name, info, convert)[0]
        if alias != request_key:
            names[name] = request_key
    return names


def data_key(slot: Slot) -> str:
    """The key a parameter model's own dict is stored under in the validation data."""
    return f"{slot.spec.source}#{slot.key}"


class BodyValidator:
    """Validates the body: one value (the whole body) or several (keys of one JSON object, ``embed``).

    ``validate_json(raw)`` validates request bytes; ``validate_python(value)`` a parsed value, the raw bytes of a
    body that is not JSON, or ``UNSET`` when there was no body.
    """

    __slots__ = ("slots", "keys", "embed", "adapter", "validator", "python_only", "first_node")

    def __init__(self, slots: Sequence[Slot], embed: bool) -> None:
        self.slots = list(slots)
        self.keys = [slot.key for slot in slots]
        self.embed = embed
        self.first_node: dict[str, int] = {}
        self.adapter: TypeAdapter[Any] | None = None
        if embed:
            fields: dict[str, Any] = {}
            for slot in slots:
                keys = slot.spec.keys
                alias: Any = keys[0] if len(keys) == 1 else AliasChoices(*keys)
                fields[slot.key] = pydantic_field(slot.spec.info, alias)
                self.first_node.setdefault(keys[0], slot.node)
            model = create_model("Body", __config__=_CONFIG, **fields)
            self.validator: Any = model.__pydantic_validator__
            schema: Any = model.__pydantic_core_schema__
        else:
            info = slots[0].spec.info
            extra = [Field(discriminator=info.discriminator)] if info.discriminator is not None else []
            self.adapter = TypeAdapter(annotated(info.annotation, [*info.metadata, *extra]))
            self.validator = self.adapter.validator
            schema = self.adapter.core_schema
        self.python_only = _uses_strict(schema)

    # -- entry points ------------------------------------------------------------------------------------------

    def validate_json(self, raw: bytes) -> tuple[dict[str, Any], ErrorList, Any]:
        """Validate JSON bytes: ``(values by slot key, errors, the parsed body for the exception)``.

        Raises:
            RequestValidationError: the bytes are not JSON (FastAPI's ``json_invalid`` error with the position).
            HTTPException: 400, the bytes cannot be decoded at all (bad UTF-8, absurd nesting or numbers).
        """
        if self.python_only:
            return self._parse_then_validate(raw)
        try:
            result = self.validator.validate_json(raw)
        except ValidationError:
            # PERF: errors are rare; they are reported from FastAPI's parse-then-validate path, whose messages
            # ("valid list", not "valid array") and parse errors (position, nesting, huge numbers) they match.
            return self._parse_then_validate(raw)
        return self._values(result), [], UNSET

    def validate_python(self, value: Any) -> tuple[dict[str, Any], ErrorList]:
        """Validate a parsed body, raw non-JSON bytes, or ``UNSET`` (no body)."""
        if not self.embed:
            return self._single(value)
        if value is UNSET or isinstance(value, bytes | bytearray):
            value = {}  # a body that is absent or not JSON carries none of the keys: defaults or "missing"
        elif not isinstance(value, dict):
            # FastAPI looks each key up with .get(): anything but an object makes every field missing.
            return {}, [(slot.node, missing_error(("body", slot.spec.keys[0]))) for slot in self.slots]
        try:
            model = self.validator.validate_python(value, from_attributes=True)
        except ValidationError as exc:
            return {}, self._embedded_errors(exc.errors(include_url=False))
        return model.__dict__, []

    # -- helpers -----------------------------------------------------------------------------------------------

    def _parse_then_validate(self, raw: bytes) -> tuple[dict[str, Any], ErrorList, Any]:
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            error = {
                "type": "json_invalid",
                "loc": ("body", exc.pos),
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": exc.msg},
            }
            raise RequestValidationError([error], body=exc.doc) from None
        except Exception:
            raise HTTPException(400, "There was an error parsing the body") from None
        values, errors = self.validate_python(parsed)
        return values, errors, parsed

    def _single(self, value: Any) -> tuple[dict[str, Any], ErrorList]:
        spec = self.slots[0].spec
        if value is UNSET:
            if spec.required:
                return {}, [(slot.node, missing_error(("body",))) for slot in self.slots]
            default = spec.info.get_default(call_default_factory=True)
            if not spec.info.validate_default:
                return {slot.key: deepcopy(default) for slot in self.slots}, []
            value = default
        try:
            result = self.validator.validate_python(value, from_attributes=True)
        except ValidationError as exc:
            return {}, self._body_errors(exc.errors(include_url=False))
        return self._values(result), []

    def _values(self, result: Any) -> dict[str, Any]:
        if self.embed:
            return result.__dict__  # type: ignore[no-any-return]
        return dict.fromkeys(self.keys, result)  # every slot (one per node reading the body) gets the value

    def _body_errors(self, raw: list[Any]) -> ErrorList:
        result: ErrorList = []
        for slot in self.slots:
            for error in raw:
                result.append((slot.node, {**error, "loc": ("body", *error["loc"])}))
        return result

    def _embedded_errors(self, raw: list[Any]) -> ErrorList:
        result: ErrorList = []
        for error in raw:
            loc = ("body", *error["loc"])
            if error["type"] == "missing" and len(loc) == 2:
                error["input"] = None
            error["loc"] = loc
            result.append((self.first_node.get(loc[1], 0), error))
        return result


class FormValidator:
    """Validates a form body: plain fields (embedded, by name) with one model, and each form model
    (``Annotated[Model, Form()]``) on its own, reported at ``("body", ...)`` as FastAPI does."""

    __slots__ = ("plain", "models")

    def __init__(self, slots: Sequence[Slot]) -> None:
        plain = [slot for slot in slots if not is_form_model(slot.spec)]
        self.plain = BodyValidator(plain, True) if plain else None
        self.models: list[tuple[Slot, TypeAdapter[Any]]] = []
        for slot in slots:
            if is_form_model(slot.spec):
                info = slot.spec.info
                self.models.append((slot, TypeAdapter(annotated(info.annotation, info.metadata))))

    def validate(self, plain: dict[str, Any], models: list[Any]) -> tuple[dict[str, Any], ErrorList]:
        """``plain``: the plain fields' values by request key; ``models``: each form model's dict (or UNSET)."""
        values: dict[str, Any] = {}
        errors: ErrorList = []
        if self.plain is not None:
            values, errors = self.plain.validate_python(plain)
        for (slot, adapter), value in zip(self.models, models, strict=True):
            info = slot.spec.info
            if value is UNSET:
                if info.is_required():
                    errors.append((slot.node, missing_error(("body",))))
                else:
                    values[slot.key] = deepcopy(info.get_default(call_default_factory=True))
                continue
            try:
                values[slot.key] = adapter.validate_python(value, from_attributes=True)
            except ValidationError as exc:
                errors += [(slot.node, {**e, "loc": ("body", *e["loc"])}) for e in exc.errors(include_url=False)]
        return values, errors


def is_form_model(spec: FieldSpec) -> bool:
    """A form model: ``Annotated[Model, Form()]`` whose fields are the form's fields."""
    return spec.is_form and spec.model is not None
