"""Schema fields: every value the document describes, and one pydantic pass that turns them all into JSON Schema.

A ``SchemaField`` is a named pydantic field (a parameter, a request body, a response model) with the direction it
is described in: "validation" for what clients send, "serialization" for what the app returns. All fields of a
document go through one ``GenerateJsonSchema`` run (``definitions``), so every model gets one component name,
pydantic disambiguates models that share a name, and a model that reads differently in each direction gets
``-Input`` and ``-Output`` components.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, is_dataclass
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, WithJsonSchema
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import CoreSchema, PydanticUndefined

from ketch._plan.validate import with_upload_validator
from ketch.datastructures import UploadFile

__all__ = [
    "REF_PREFIX",
    "REF_TEMPLATE",
    "DocumentSchemaGenerator",
    "Mode",
    "SchemaField",
    "SchemaMap",
    "definitions",
    "field_schema",
    "flat_models",
    "model_fields",
    "with_upload_schema",
]

REF_PREFIX = "#/components/schemas/"
REF_TEMPLATE = "#/components/schemas/{model}"

Mode = Literal["validation", "serialization"]
SchemaMap = dict[tuple["SchemaField", Mode], JsonSchemaValue]

# The FieldInfo attributes that are carried into the field's own schema (FastAPI's ``_Attrs``).
_ATTRIBUTES: dict[str, Any] = {
    "default": ...,
    "default_factory": None,
    "alias": None,
    "alias_priority": None,
    "validation_alias": None,
    "serialization_alias": None,
    "title": None,
    "field_title_generator": None,
    "description": None,
    "examples": None,
    "exclude": None,
    "exclude_if": None,
    "discriminator": None,
    "deprecated": None,
    "json_schema_extra": None,
    "frozen": None,
    "validate_default": None,
    "repr": True,
    "init": None,
    "init_var": None,
    "kw_only": None,
}


_UPLOAD_SCHEMA = WithJsonSchema({"type": "string", "contentMediaType": "application/octet-stream"})


def with_upload_schema(annotation: Any) -> Any:
    """``annotation`` with every ``UploadFile`` in it described as binary content, as FastAPI describes it."""
    validated = with_upload_validator(annotation)
    if validated is annotation:
        return annotation
    return _add_upload_schema(validated)


def _add_upload_schema(annotation: Any) -> Any:
    args = get_args(annotation)
    if get_origin(annotation) is Annotated and isinstance(args[0], type) and issubclass(args[0], UploadFile):
        return Annotated[args[0], *annotation.__metadata__, _UPLOAD_SCHEMA]
    origin = get_origin(annotation)
    if origin is None or not args:
        return annotation
    new = tuple(_add_upload_schema(arg) for arg in args)
    if origin is Annotated:
        return Annotated[new[0], *annotation.__metadata__]
    if origin is Union or origin is types.UnionType:
        return Union[new]  # noqa: UP007 - rebuilding a union from its parts
    return origin[new]


class DocumentSchemaGenerator(GenerateJsonSchema):
    """pydantic's generator, with ``bytes`` described as binary content (``contentMediaType``) as in OpenAPI 3.1."""

    def bytes_schema(self, schema: Any) -> JsonSchemaValue:
        json_schema: dict[str, Any] = {"type": "string", "contentMediaType": "application/octet-stream"}
        bytes_mode = self._config.ser_json_bytes if self.mode == "serialization" else self._config.val_json_bytes
        if bytes_mode == "base64":
            json_schema["contentEncoding"] = "base64"
        self.update_with_validations(json_schema, schema, self.ValidationsMapping.bytes)
        return json_schema


def _attributes(info: FieldInfo) -> dict[str, Any]:
    found = {}
    for name in _ATTRIBUTES:
        value = getattr(info, name, PydanticUndefined)
        if value is not PydanticUndefined:
            found[name] = value
    return found


@dataclass(eq=False)
class SchemaField:
    """One described value: its pydantic field, its name (the fallback title) and its direction.

    Attributes:
        info: the field: annotation, constraints in ``metadata``, default, title, description, alias...
        name: the parameter name, or a generated one (``Response_200_...``) for bodies and responses.
        mode: "validation" (sent by clients) or "serialization" (sent by the app).
        config: the model config of the model the field belongs to, if any (for its aliases).
        marker: the ketch marker the field came from (``Query()``, ``Body()``...), for its OpenAPI options.
    """

    info: FieldInfo
    name: str
    mode: Mode = "validation"
    config: ConfigDict | None = None
    marker: Any = None
    adapter: TypeAdapter[Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        with warnings.catch_warnings():
            # pydantic warns about field-only options (alias...) in a bare ``Annotated``: they are only carried.
            warnings.simplefilter("ignore")
            annotation = with_upload_schema(self.info.annotation)
            arguments = (annotation, *self.info.metadata, Field(**_attributes(self.info)))
            self.adapter = TypeAdapter(cast(Any, Annotated[arguments]), config=self.config)

    @property
    def alias(self) -> str:
        return self.info.alias if self.info.alias is not None else self.name

    @property
    def validation_alias(self) -> str:
        """The name a client sends the value under."""
        alias = self.info.validation_alias
        return alias if isinstance(alias, str) and alias else self.alias

    @property
    def serialization_alias(self) -> str:
        return self.info.serialization_alias or self.alias

    def __hash__(self) -> int:
        return id(self)


def model_fields(model: type[BaseModel]) -> list[SchemaField]:
    """The fields of a model as schema fields (a parameter model's fields become separate parameters)."""
    return list(_model_fields(model))


@lru_cache(maxsize=512)
def _model_fields(model: type[BaseModel]) -> tuple[SchemaField, ...]:
    fields = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        nested = _subclass(annotation, (BaseModel, dict)) or is_dataclass(annotation)
        fields.append(SchemaField(info, name, config=None if nested else model.model_config))
    return tuple(fields)


def _subclass(value: Any, cls: type | tuple[type, ...]) -> bool:
    return isinstance(value, type) and issubclass(value, cls)


def _has_computed_fields(schema_field: SchemaField) -> bool:
    core = schema_field.adapter.core_schema
    if cast(dict[str, Any], core).get("schema", {}).get("computed_fields", []):
        return True
    return _annotation_has_computed_fields(schema_field.info.annotation, set())


def _annotation_has_computed_fields(annotation: Any, known: set[type[BaseModel]]) -> bool:
    if _subclass(annotation, BaseModel):
        if annotation in known:
            return False
        known.add(annotation)
        if annotation.model_computed_fields:
            return True
        return any(_annotation_has_computed_fields(f.annotation, known) for f in annotation.model_fields.values())
    return any(_annotation_has_computed_fields(arg, known) for arg in get_args(annotation))


# -- models reachable from the fields ---------------------------------------------------------------------------

ModelOrEnum = type[BaseModel] | type[Enum]


def flat_models(fields: Sequence[SchemaField]) -> set[ModelOrEnum]:
    """Every model and enum the fields use, nested ones included."""
    known: set[ModelOrEnum] = set()
    for schema_field in fields:
        _collect_field(schema_field.info.annotation, known)
    return known


def _collect_field(annotation: Any, known: set[ModelOrEnum]) -> None:
    if _subclass(annotation, BaseModel):
        if annotation not in known:
            known.add(annotation)
            _collect_model(annotation, known)
    elif _subclass(annotation, Enum):
        known.add(annotation)
    else:
        _collect_annotation(annotation, known)


def _collect_model(model: type[BaseModel], known: set[ModelOrEnum]) -> None:
    for schema_field in model_fields(model):
        _collect_field(schema_field.info.annotation, known)


def _collect_annotation(annotation: Any, known: set[ModelOrEnum]) -> None:
    if get_origin(annotation) is None:
        return
    for arg in get_args(annotation):
        if _subclass(arg, (BaseModel, Enum)):
            if arg not in known:
                known.add(arg)
                if _subclass(arg, BaseModel):
                    _collect_model(arg, known)
        else:
            _collect_annotation(arg, known)


# -- one pass through pydantic -----------------------------------------------------------------------------------


def definitions(
    fields: Sequence[SchemaField], separate_input_output_schemas: bool = True
) -> tuple[SchemaMap, dict[str, dict[str, Any]]]:
    """The JSON Schema of every field (``{(field, mode): schema}``) and the component schemas they refer to."""
    generator = DocumentSchemaGenerator(ref_template=REF_TEMPLATE)
    extra: list[SchemaField] = []
    annotations = {f.info.annotation for f in fields}
    modes: tuple[Mode, ...] = ("validation", "serialization")
    for mode in modes:
        for model in flat_models([f for f in fields if f.mode == mode]):
            if model not in annotations:
                # Models only nested in others get their own input too, in the direction they are used.
                extra.append(SchemaField(FieldInfo(annotation=model), model.__name__, mode))
    inputs: list[tuple[SchemaField, Mode, CoreSchema]] = []
    for schema_field in [*fields, *extra]:
        field_mode: Mode = schema_field.mode
        if not separate_input_output_schemas and not _has_computed_fields(schema_field):
            field_mode = "validation"
        inputs.append((schema_field, field_mode, schema_field.adapter.core_schema))
    mapping, defs = generator.generate_definitions(inputs=inputs)
    components: dict[str, dict[str, Any]] = {str(name): schema for name, schema in defs.items()}
    for definition in components.values():
        if "description" in definition:
            # A form feed ends what the docs show: the rest of a docstring is for the code's readers.
            definition["description"] = str(definition["description"]).split("\f")[0]
    return mapping, components


def field_schema(
    schema_field: SchemaField,
    mapping: SchemaMap,
    separate_input_output_schemas: bool = True,
    alias: str | None = None,
) -> dict[str, Any]:
    """The schema of one field from ``definitions``' mapping, titled after the field unless it is a reference."""
    mode = schema_field.mode
    if not separate_input_output_schemas and not _has_computed_fields(schema_field):
        mode = "validation"
    if alias is None:
        alias = schema_field.validation_alias if schema_field.mode == "validation" else schema_field.serialization_alias
    schema = dict(mapping[(schema_field, mode)])
    if "$ref" not in schema:
        schema["title"] = schema_field.info.title or alias.title().replace("_", " ")
    return schema
