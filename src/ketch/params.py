"""Parameter markers for typed endpoints: where a value comes from, and how it is validated.

```python
from typing import Annotated
from ketch.params import Query, Header, Body, Depends

async def search(q: Annotated[str, Query(min_length=3)], token: Annotated[str, Header()]): ...
```

``Query``, ``Path``, ``Header``, ``Cookie``, ``Body``, ``Form`` and ``File`` are pydantic ``FieldInfo`` subclasses, so
they carry every pydantic constraint (``gt``, ``max_length``, ``pattern``, ...) and also work inside pydantic models.
They take the same arguments as FastAPI's functions of the same names. ``Depends`` and ``Security`` declare
dependencies. Markers are read once, when the route is planned at start-up; nothing here runs per request.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, TypedDict, Unpack, cast

from pydantic import AliasChoices, AliasPath, Discriminator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = [
    "Body",
    "Cookie",
    "Depends",
    "FieldOptions",
    "File",
    "Form",
    "Header",
    "Param",
    "ParamTypes",
    "Path",
    "Query",
    "Security",
    "SecurityScopes",
]


class ParamTypes(Enum):
    """Where a non-body parameter is read from (the first item of its error ``loc``)."""

    query = "query"
    header = "header"
    path = "path"
    cookie = "cookie"


class FieldOptions(TypedDict, total=False):
    """The keyword options every marker takes: pydantic's field options plus OpenAPI extras."""

    default_factory: Callable[[], Any] | None
    annotation: Any
    alias: str | None
    alias_priority: int | None
    validation_alias: str | AliasPath | AliasChoices | None
    serialization_alias: str | None
    title: str | None
    description: str | None
    gt: float | None
    ge: float | None
    lt: float | None
    le: float | None
    min_length: int | None
    max_length: int | None
    pattern: str | re.Pattern[str] | None
    regex: str | None
    discriminator: str | Discriminator | None
    strict: bool | None
    validate_default: bool | None
    union_mode: Literal["smart", "left_to_right"] | None
    fail_fast: bool | None
    multiple_of: float | None
    allow_inf_nan: bool | None
    max_digits: int | None
    decimal_places: int | None
    examples: list[Any] | None
    example: Any
    openapi_examples: dict[str, Any] | None
    deprecated: Any
    include_in_schema: bool
    json_schema_extra: dict[str, Any] | Callable[[dict[str, Any]], None] | None


# Options that pydantic would store as "set" even when passed as None; dropped unless given a value.
_NONE_MEANS_UNSET = ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern")


def _init_marker(marker: FieldInfo, default: Any, options: dict[str, Any]) -> None:
    """Set the OpenAPI extras on ``marker`` and initialise its pydantic half, the way FastAPI's markers do."""
    marker.include_in_schema = options.pop("include_in_schema", True)  # type: ignore[attr-defined]
    marker.openapi_examples = options.pop("openapi_examples", None)  # type: ignore[attr-defined]
    marker.example = options.pop("example", PydanticUndefined)  # type: ignore[attr-defined]
    if marker.example is not PydanticUndefined:  # type: ignore[attr-defined]
        warnings.warn("`example` has been deprecated, please use `examples` instead", DeprecationWarning, stacklevel=4)
    regex = options.pop("regex", None)
    if regex is not None:
        warnings.warn("`regex` has been deprecated, please use `pattern` instead", DeprecationWarning, stacklevel=4)
        options.setdefault("pattern", regex)
    alias = options.get("alias")
    if isinstance(alias, str):
        # An alias names the value both ways unless a direction is given its own name.
        if options.get("validation_alias") is None:
            options["validation_alias"] = alias
        if options.get("serialization_alias") is None:
            options["serialization_alias"] = alias
    kwargs = {k: v for k, v in options.items() if not (k in _NONE_MEANS_UNSET and v is None)}
    FieldInfo.__init__(marker, default=default, **kwargs)


class Param(FieldInfo):  # type: ignore[misc]  # FieldInfo is final for users; markers extend it as FastAPI's do
    """Base of the non-body markers: a pydantic field plus where it is read from.

    Args:
        default: the value when the request does not carry one; required when omitted.
        **options: pydantic field options (``alias``, ``gt``, ``max_length``, ``pattern``, ``examples``, ...) and
            ``include_in_schema``, ``openapi_examples``, ``deprecated`` for the OpenAPI document.
    """

    in_: ParamTypes = ParamTypes.query

    include_in_schema: bool
    openapi_examples: dict[str, Any] | None
    example: Any

    def __init__(self, default: Any = PydanticUndefined, **options: Unpack[FieldOptions]) -> None:
        _init_marker(self, default, cast(dict[str, Any], options))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.default})"


class Query(Param):  # type: ignore[misc]
    """A query-string parameter (``?q=...``); a list type reads every repeated value."""

    in_ = ParamTypes.query


class Path(Param):  # type: ignore[misc]
    """A path parameter (``/items/{item_id}``); always required."""

    in_ = ParamTypes.path

    def __init__(self, default: Any = ..., **options: Unpack[FieldOptions]) -> None:
        if default is not ...:
            raise ValueError("Path parameters cannot have a default value")
        super().__init__(default, **options)


class Header(Param):  # type: ignore[misc]
    """A request header. ``user_agent`` reads ``user-agent`` unless ``convert_underscores=False``."""

    in_ = ParamTypes.header

    def __init__(
        self, default: Any = PydanticUndefined, *, convert_underscores: bool = True, **options: Unpack[FieldOptions]
    ) -> None:
        self.convert_underscores = convert_underscores
        super().__init__(default, **options)


class Cookie(Param):  # type: ignore[misc]
    """A cookie sent by the client."""

    in_ = ParamTypes.cookie


class Body(FieldInfo):  # type: ignore[misc]
    """A value read from the JSON request body.

    One body parameter is the whole body unless ``embed=True``; several are read from the keys of one JSON object.
    """

    include_in_schema: bool
    openapi_examples: dict[str, Any] | None
    example: Any

    def __init__(
        self,
        default: Any = PydanticUndefined,
        *,
        embed: bool | None = None,
        media_type: str = "application/json",
        **options: Unpack[FieldOptions],
    ) -> None:
        self.embed = embed
        self.media_type = media_type
        _init_marker(self, default, cast(dict[str, Any], options))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.default})"


class Form(Body):  # type: ignore[misc]
    """A field of an urlencoded or multipart form body."""

    def __init__(
        self,
        default: Any = PydanticUndefined,
        *,
        media_type: str = "application/x-www-form-urlencoded",
        **options: Unpack[FieldOptions],
    ) -> None:
        super().__init__(default, media_type=media_type, **options)


class File(Form):  # type: ignore[misc]
    """An uploaded file of a multipart body, as ``UploadFile`` or ``bytes``."""

    def __init__(
        self,
        default: Any = PydanticUndefined,
        *,
        media_type: str = "multipart/form-data",
        **options: Unpack[FieldOptions],
    ) -> None:
        super().__init__(default, media_type=media_type, **options)


@dataclass(frozen=True)
class Depends:
    """Declare a dependency: ``dependency`` is called per request and its result passed in.

    Args:
        dependency: a function, async function, class or callable instance; its own parameters are resolved the
            same way as an endpoint's. When omitted, the parameter's type annotation is called.
        use_cache: reuse the value when the same dependency appears twice in one request.
        scope: for ``yield`` dependencies, when the code after ``yield`` runs: ``"function"`` right after the
            endpoint returns, ``"request"`` (the default) after the response is sent. ``"app"`` creates the value
            once at start-up and tears it down at shutdown.
        max_concurrency: at most this many calls of the dependency run at once.
        sync_to_thread: for a plain ``def`` dependency (or a class), whether it runs on the thread pool (the
            default, as in FastAPI) or directly on the event loop (``False``). Run on the loop only what never
            blocks (reads settings, builds objects, checks values): it saves the thread hop, but a blocking call
            there stalls every request in the process.
    """

    dependency: Callable[..., Any] | None = None
    use_cache: bool = field(default=True, kw_only=True)
    scope: Literal["function", "request", "app"] | None = field(default=None, kw_only=True)
    max_concurrency: int | None = field(default=None, kw_only=True)
    sync_to_thread: bool = field(default=True, kw_only=True)

    def __post_init__(self) -> None:
        if self.max_concurrency is not None and (type(self.max_concurrency) is not int or self.max_concurrency < 1):
            raise ValueError("max_concurrency must be a positive integer or None")


@dataclass(frozen=True)
class Security(Depends):
    """A dependency that also declares the OAuth2 ``scopes`` it requires (see ``SecurityScopes``)."""

    scopes: Sequence[str] | None = field(default=None, kw_only=True)


class SecurityScopes:
    """Ask for this in a dependency to learn the OAuth2 scopes every ``Security`` on the way to it requires.

    Attributes:
        scopes: the scopes, in order, without repeats.
        scope_str: the scopes joined by spaces, as OAuth2 writes them.
    """

    def __init__(self, scopes: list[str] | None = None) -> None:
        self.scopes: list[str] = list(scopes or [])
        self.scope_str: str = " ".join(self.scopes)
