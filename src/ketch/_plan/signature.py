"""Reading a typed endpoint's signature: which value each parameter takes, and from where.

Runs at start-up only. Every parameter becomes one of: a ``FieldSpec`` (a value read from the path, query, headers,
cookies or body, validated by pydantic), a dependency (``Depends``), or a connection object the plan passes in
(``Request``, ``Response``, ``BackgroundTasks``, ...). The rules are FastAPI's: an explicit marker wins; else a
name in the path is a path parameter, an ``UploadFile`` is a file, a model, dict or other complex type is the body,
and anything else is a query parameter.
"""

from __future__ import annotations

import inspect
import types
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from copy import copy
from dataclasses import dataclass, field, is_dataclass, replace
from typing import Annotated, Any, ForwardRef, Union, get_args, get_origin

from pydantic import AliasChoices, AliasPath, BaseModel, Json
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ketch.background import BackgroundTasks
from ketch.datastructures import UploadFile
from ketch.exceptions import ImproperlyConfigured
from ketch.params import Body, Depends, File, Form, Param, Path, Query, Security, SecurityScopes
from ketch.requests import HTTPConnection, Request
from ketch.responses import Response
from ketch.websockets import WebSocket

__all__ = [
    "CallSignature",
    "DependsSpec",
    "FieldSpec",
    "is_sequence_annotation",
    "model_field_aliases",
    "model_type",
    "read_signature",
]

# What a parameter receives when it is not a validated value.
SPECIAL_TYPES: tuple[tuple[type, str], ...] = (
    (Request, "request"),
    (WebSocket, "websocket"),
    (HTTPConnection, "connection"),
    (Response, "response"),
    (BackgroundTasks, "background"),
    (SecurityScopes, "security_scopes"),
)
# Unannotated parameters with these names get the connection, as with the core planner.
CONNECTION_NAMES = ("request", "websocket", "ws")

_SEQUENCE_TYPES: tuple[type, ...] = (list, tuple, set, frozenset, deque, Sequence)


@dataclass(eq=False)
class FieldSpec:
    """One validated value: its parameter name, where it is read from, and its pydantic field.

    Attributes:
        name: the parameter name the value is passed as.
        source: "path", "query", "header", "cookie" or "body" (forms and files are "body" too).
        info: the merged pydantic field: ``annotation`` without ``Annotated``, constraints in ``metadata``,
            default, title, description...
        marker: the ketch marker (``Query()``, ``Header()``, ``Body()``...) with the source-specific options.
        keys: the request keys tried in order (alias, validation-alias choices); the first is used in errors.
        is_sequence: read every value of a repeated key (``?q=1&q=2``) as a list.
        model: for a parameter model (``Annotated[Filters, Query()]``), the model whose fields are read.
    """

    name: str
    source: str
    info: FieldInfo
    marker: FieldInfo
    keys: tuple[str, ...]
    is_sequence: bool = False
    model: type[BaseModel] | None = None

    @property
    def required(self) -> bool:
        return self.info.is_required()

    @property
    def annotation(self) -> Any:
        return self.info.annotation

    @property
    def is_form(self) -> bool:
        return isinstance(self.marker, Form)

    @property
    def is_file(self) -> bool:
        return isinstance(self.marker, File)


@dataclass(eq=False)
class DependsSpec:
    """A sub-dependency: the parameter it fills (None for route-level ``dependencies=``) and its marker."""

    name: str | None
    depends: Depends
    scopes: tuple[str, ...] = ()


@dataclass(eq=False)
class CallSignature:
    """Everything read from one callable's signature (an endpoint or a dependency)."""

    call: Callable[..., Any]
    fields: list[FieldSpec] = field(default_factory=list)
    body: list[FieldSpec] = field(default_factory=list)
    dependencies: list[DependsSpec] = field(default_factory=list)
    specials: list[tuple[str, str]] = field(default_factory=list)
    # The class a ``response: Response`` parameter is annotated with (the carrier is made of that class).
    response_type: type[Response] | None = None

    @property
    def kinds(self) -> set[str]:
        return {kind for _, kind in self.specials}


def read_signature(call: Callable[..., Any], path_params: Sequence[str]) -> CallSignature:
    """Classify every parameter of ``call``; raises ``ImproperlyConfigured`` for a parameter that cannot work."""
    result = CallSignature(call)
    for param in _typed_parameters(call):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        _classify(result, param, path_params)
    return result


def _classify(result: CallSignature, param: inspect.Parameter, path_params: Sequence[str]) -> None:
    name, annotation, default = param.name, param.annotation, param.default
    is_path = name in path_params
    annotation = getattr(annotation, "__value__", annotation) if _is_type_alias(annotation) else annotation
    type_annotation: Any = Any if annotation is inspect.Parameter.empty else annotation
    marker: FieldInfo | None = None
    depends: Depends | None = None
    if get_origin(type_annotation) is Annotated:
        args = get_args(type_annotation)
        type_annotation = args[0]
        specific = [a for a in args[1:] if isinstance(a, Param | Body | Depends)]
        if specific and isinstance(specific[-1], Depends):
            depends = specific[-1]
        elif specific:
            last = specific[-1]
            assert isinstance(last, FieldInfo)
            marker = last
            if marker.default is not PydanticUndefined and marker.default is not ...:
                raise ImproperlyConfigured(
                    f"`{type(marker).__name__}` default value cannot be set in `Annotated` for {name!r}. "
                    "Set the default value with `=` instead."
                )
    if isinstance(default, Depends):
        if depends is not None or marker is not None:
            raise ImproperlyConfigured(f"Cannot declare {name!r} with both a marker in Annotated and a default")
        depends, default = default, inspect.Parameter.empty
    elif isinstance(default, FieldInfo):
        if marker is not None:
            raise ImproperlyConfigured(f"Cannot declare {name!r} with markers both in Annotated and as default")
        if isinstance(default, Param | Body):
            marker = default
    if depends is not None:
        if depends.dependency is None:
            depends = replace(depends, dependency=type_annotation)
        scopes = tuple(depends.scopes or ()) if isinstance(depends, Security) else ()
        result.dependencies.append(DependsSpec(name, depends, scopes))
        return
    kind = _special_kind(type_annotation, name, annotation)
    if kind is not None and marker is None:
        result.specials.append((name, kind))
        if kind == "response" and isinstance(type_annotation, type):
            result.response_type = type_annotation
        return
    if isinstance(type_annotation, str | ForwardRef):
        raise ImproperlyConfigured(
            f"Cannot resolve the annotation {type_annotation!r} of parameter {name!r} of "
            f"{getattr(result.call, '__qualname__', result.call)!r}: define the names it uses at module level"
        )
    spec = _field_spec(name, annotation, default, marker, type_annotation, is_path)
    (result.body if spec.source == "body" else result.fields).append(spec)


def _field_spec(
    name: str, annotation: Any, default: Any, marker: FieldInfo | None, type_annotation: Any, is_path: bool
) -> FieldSpec:
    if annotation is inspect.Parameter.empty:
        annotation = Any
    if marker is None:
        if is_path:
            marker = Path()
        elif is_upload_annotation(type_annotation) or is_upload_sequence_annotation(type_annotation):
            marker = File()
        elif not is_scalar_annotation(type_annotation):
            marker = Body()
        else:
            marker = Query()
    elif is_path and not isinstance(marker, Path):
        raise ImproperlyConfigured(f"Cannot use `{type(marker).__name__}` for path param {name!r}")
    if is_path and default is not inspect.Parameter.empty:
        if not isinstance(default, FieldInfo) or not default.is_required():
            raise ImproperlyConfigured(f"Path parameter {name!r} cannot have a default value")
    # The merged field: constraints from every FieldInfo in Annotated, plus the default given with `=`.
    assigned = default if default is not inspect.Parameter.empty else PydanticUndefined
    if isinstance(assigned, FieldInfo):
        assigned = copy(assigned)
    info = FieldInfo.from_annotated_attribute(annotation, assigned)
    if is_path:
        info.default_factory = None
    source = "body" if isinstance(marker, Body) else marker.in_.value  # type: ignore[attr-defined]
    keys = _request_keys(name, marker, info)
    is_sequence = source != "path" and not _is_json(info) and is_sequence_annotation(info.annotation)
    model = None
    if source in ("query", "header", "cookie"):
        model = model_type(info.annotation)
    elif isinstance(marker, Form) and not marker.embed and not _is_json(info):
        model = model_type(info.annotation)
    return FieldSpec(name, source, info, marker, keys, is_sequence, model)


def _request_keys(name: str, marker: FieldInfo, info: FieldInfo) -> tuple[str, ...]:
    """The names to look the value up by, as FastAPI does: validation alias, alias, or the (converted) name."""
    alias = info.alias
    if not alias:
        alias = name.replace("_", "-") if getattr(marker, "convert_underscores", False) else name
    validation_alias = info.validation_alias
    if isinstance(validation_alias, str) and validation_alias:
        alias = validation_alias
    if isinstance(validation_alias, AliasChoices) and not isinstance(marker, Path):
        if all(isinstance(choice, str) for choice in validation_alias.choices):
            return tuple(str(choice) for choice in validation_alias.choices)
    if isinstance(validation_alias, AliasPath):
        return (alias,)
    return (alias,)


def model_field_aliases(name: str, info: FieldInfo, convert: bool) -> list[tuple[str, str]]:
    """(validation alias, request key) pairs in preference order, as FastAPI's ``_get_param_aliases``."""
    validation_alias = info.validation_alias
    alias = validation_alias if isinstance(validation_alias, str) and validation_alias else (info.alias or name)
    request_key = alias.replace("_", "-") if convert and alias == name else alias
    if isinstance(validation_alias, AliasChoices) and all(isinstance(c, str) for c in validation_alias.choices):
        return [(str(c), str(c)) for c in validation_alias.choices]
    return [(alias, request_key)]


def _special_kind(type_annotation: Any, name: str, annotation: Any) -> str | None:
    if annotation is inspect.Parameter.empty:
        return "connection" if name in CONNECTION_NAMES else None
    if isinstance(type_annotation, str):
        # An annotation that could not be resolved: recognise the connection types by name, as the core planner does.
        short = type_annotation.rsplit(".", 1)[-1]
        return {"Request": "request", "WebSocket": "websocket", "HTTPConnection": "connection"}.get(short)
    for cls, kind in SPECIAL_TYPES:
        if _subclass(type_annotation, cls):
            return kind
    return None


def _typed_parameters(call: Callable[..., Any]) -> list[inspect.Parameter]:
    try:
        signature = inspect.signature(call, eval_str=True)
    except NameError:
        # Names only imported under TYPE_CHECKING: keep what resolves, leave the rest as strings.
        signature = inspect.signature(call)
        namespace = getattr(inspect.unwrap(call), "__globals__", {})
        signature = signature.replace(
            parameters=[p.replace(annotation=_resolve(p.annotation, namespace)) for p in signature.parameters.values()]
        )
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"Cannot read the signature of {call!r}: {exc}") from None
    return list(signature.parameters.values())


def _resolve(annotation: Any, namespace: dict[str, Any]) -> Any:
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, namespace)  # the endpoint's own annotation, at start-up
    except Exception:
        return annotation


def return_annotation(call: Callable[..., Any]) -> Any:
    """The resolved return annotation of ``call``, or None when it has none."""
    try:
        annotation = inspect.signature(call, eval_str=True).return_annotation
    except (NameError, TypeError, ValueError):
        return None
    if annotation is inspect.Signature.empty or isinstance(annotation, str | ForwardRef):
        return None
    return annotation


# -- classifying annotations ---------------------------------------------------------------------------------------


def _subclass(annotation: Any, cls: type | tuple[type, ...]) -> bool:
    return (
        isinstance(annotation, type) and not isinstance(annotation, types.GenericAlias) and issubclass(annotation, cls)
    )


def _is_type_alias(annotation: Any) -> bool:
    return type(annotation).__name__ == "TypeAliasType" and hasattr(annotation, "__value__")


def _union_args(annotation: Any) -> tuple[Any, ...] | None:
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return get_args(annotation)
    return None


def _is_json(info: FieldInfo) -> bool:
    return any(type(item) is Json for item in info.metadata)


def _bare_is_sequence(annotation: Any) -> bool:
    return not _subclass(annotation, (str, bytes)) and _subclass(annotation, _SEQUENCE_TYPES)


def is_sequence_annotation(annotation: Any) -> bool:
    """True for list/tuple/set/... annotations (also inside ``Optional`` or ``Annotated``), never for str/bytes."""
    if get_origin(annotation) is Annotated:
        return is_sequence_annotation(get_args(annotation)[0])
    args = _union_args(annotation)
    if args is not None:
        return any(is_sequence_annotation(arg) for arg in args)
    return _bare_is_sequence(annotation) or _bare_is_sequence(get_origin(annotation))


def _bare_is_complex(annotation: Any) -> bool:
    return (
        _subclass(annotation, (BaseModel, Mapping, UploadFile))
        or _bare_is_sequence(annotation)
        or is_dataclass(annotation)
    )


def _is_complex(annotation: Any) -> bool:
    args = _union_args(annotation)
    if args is not None:
        return any(_is_complex(arg) for arg in args)
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_complex(get_args(annotation)[0])
    return (
        _bare_is_complex(annotation)
        or _bare_is_complex(origin)
        or hasattr(origin, "__pydantic_core_schema__")
        or hasattr(origin, "__get_pydantic_core_schema__")
    )


def is_scalar_annotation(annotation: Any) -> bool:
    """True for values a query string can carry (not models, mappings, sequences, dataclasses or uploads)."""
    return annotation is Ellipsis or not _is_complex(annotation)


def _unwrap_optional(annotation: Any) -> Any:
    args = _union_args(annotation)
    if args is not None and len(args) == 2 and type(None) in args:
        return next(arg for arg in args if arg is not type(None))
    return annotation


def model_type(annotation: Any) -> type[BaseModel] | None:
    """The model of a parameter model annotation (``Filters`` or ``Filters | None``), else None."""
    inner = _unwrap_optional(annotation)
    return inner if _subclass(inner, BaseModel) else None


def is_upload_annotation(annotation: Any) -> bool:
    """``UploadFile`` or ``UploadFile | None``."""
    args = _union_args(annotation)
    if args is not None:
        return any(_subclass(arg, UploadFile) for arg in args)
    return _subclass(annotation, UploadFile)


def is_bytes_annotation(annotation: Any) -> bool:
    """``bytes`` or ``bytes | None``."""
    args = _union_args(annotation)
    if args is not None:
        return any(_subclass(arg, bytes) for arg in args)
    return _subclass(annotation, bytes)


def is_upload_sequence_annotation(annotation: Any) -> bool:
    """``list[UploadFile]`` and the like."""
    args = _union_args(annotation)
    if args is not None:
        return any(is_upload_sequence_annotation(arg) for arg in args)
    return is_sequence_annotation(annotation) and all(is_upload_annotation(a) for a in get_args(annotation))


def is_bytes_sequence_annotation(annotation: Any) -> bool:
    """``list[bytes]`` and the like."""
    args = _union_args(annotation)
    if args is not None:
        return any(is_bytes_sequence_annotation(arg) for arg in args)
    return is_sequence_annotation(annotation) and all(is_bytes_annotation(a) for a in get_args(annotation))
