"""``jsonable_encoder``: turn any value an endpoint may return into plain JSON data (FastAPI parity).

Models become their ``model_dump(mode="json")``, dataclasses their fields, datetimes ISO strings, ``Decimal`` an int
or float, enums their value, sets and generators lists, UUIDs and paths strings; dict keys starting with ``_sa``
(SQLAlchemy's state) are dropped, as FastAPI does. Plain data is walked once and copied, never mutated.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network
from pathlib import PurePath
from re import Pattern
from types import GeneratorType
from typing import Any
from uuid import UUID

import pydantic_core
from pydantic import AnyUrl, BaseModel, NameEmail, SecretBytes, SecretStr
from pydantic_core import PydanticUndefinedType, Url

__all__ = ["ENCODERS_BY_TYPE", "decimal_encoder", "encode_json", "jsonable_encoder", "wire_jsonable"]

IncEx = set[int] | set[str] | dict[int, Any] | dict[str, Any]


def decimal_encoder(value: Decimal) -> int | float:
    """A ``Decimal`` without a fractional exponent becomes an int (``Decimal("1")`` → 1), else a float."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return int(value)
    return float(value)


def _isoformat(value: datetime.date | datetime.time) -> str:
    return value.isoformat()


ENCODERS_BY_TYPE: dict[type[Any], Callable[[Any], Any]] = {
    bytes: lambda o: o.decode(),
    datetime.date: _isoformat,
    datetime.datetime: _isoformat,
    datetime.time: _isoformat,
    datetime.timedelta: lambda td: td.total_seconds(),
    Decimal: decimal_encoder,
    Enum: lambda o: o.value,
    frozenset: list,
    deque: list,
    GeneratorType: list,
    IPv4Address: str,
    IPv4Interface: str,
    IPv4Network: str,
    IPv6Address: str,
    IPv6Interface: str,
    IPv6Network: str,
    NameEmail: str,
    PurePath: str,
    Pattern: lambda o: o.pattern,
    SecretBytes: str,
    SecretStr: str,
    set: list,
    UUID: str,
    Url: str,
    AnyUrl: str,
}

_SEQUENCES = (list, set, frozenset, GeneratorType, tuple, deque)
_PLAIN = frozenset({str, int, bool, type(None)})


def jsonable_encoder(
    obj: Any,
    include: IncEx | None = None,
    exclude: IncEx | None = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    custom_encoder: dict[Any, Callable[[Any], Any]] | None = None,
    sqlalchemy_safe: bool = True,
) -> Any:
    """Convert ``obj`` to data ``json.dumps`` accepts: dicts, lists, strings, numbers, booleans and None.

    Args:
        obj: the value to convert.
        include: fields to keep (passed to pydantic models, applied to dict keys at the top level).
        exclude: fields to drop (likewise).
        by_alias: use field aliases as keys for pydantic models.
        exclude_unset: drop model fields that were never set.
        exclude_defaults: drop model fields equal to their default.
        exclude_none: drop ``None`` values from models and dicts.
        custom_encoder: ``{type: function}`` tried before the built-in rules.
        sqlalchemy_safe: drop dict keys starting with ``_sa``.

    Raises:
        ValueError: ``obj`` is of no known kind and is neither a mapping nor an object with attributes.
    """
    encoder = _Encoder(by_alias, exclude_unset, exclude_defaults, exclude_none, custom_encoder or {}, sqlalchemy_safe)
    return encoder.encode(obj, _keyset(include), _keyset(exclude))


def wire_jsonable(obj: Any) -> tuple[Any, bool]:
    """``jsonable_encoder(obj)``, and whether ``json.dumps`` must write it (not pydantic-core) for FastAPI's bytes.

    The flag is set by NaN and infinities (``json.dumps`` refuses them), floats under 1e-4 (written ``1e-05`` by
    Python, ``1e-5`` by pydantic-core) and a ``None`` dict key; everything else encodes to the same bytes both ways.
    """
    encoder = _Encoder()
    data = encoder.encode(obj)
    return data, encoder.needs_stdlib


def encode_json(obj: Any) -> bytes:
    """``obj`` through ``jsonable_encoder`` to compact UTF-8 JSON: the bytes FastAPI's ``JSONResponse`` sends.

    pydantic-core writes them (several times faster than ``json``); the rare values it would write differently go
    through ``json.dumps``, which also refuses NaN and the infinities with ``ValueError``.
    """
    data, needs_stdlib = wire_jsonable(obj)
    if needs_stdlib:
        return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    return pydantic_core.to_json(data)


def _keyset(value: Any) -> Any:
    if value is not None and not isinstance(value, set | dict):
        return set(value)
    return value


class _Encoder:
    """One conversion with fixed options; ``needs_stdlib`` notes values ``pydantic_core.to_json`` would write
    differently from ``json.dumps`` (tiny exponents, NaN, infinities, a ``None`` key)."""

    __slots__ = ("by_alias", "exclude_unset", "exclude_defaults", "exclude_none", "custom", "sa_safe", "needs_stdlib")

    def __init__(
        self,
        by_alias: bool = True,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        custom: dict[Any, Callable[[Any], Any]] | None = None,
        sa_safe: bool = True,
    ) -> None:
        self.by_alias = by_alias
        self.exclude_unset = exclude_unset
        self.exclude_defaults = exclude_defaults
        self.exclude_none = exclude_none
        self.custom = custom or {}
        self.sa_safe = sa_safe
        self.needs_stdlib = False

    def encode(self, obj: Any, include: Any = None, exclude: Any = None) -> Any:
        # PERF: the plain kinds are checked by exact type first; most of a response is plain data.
        kind = type(obj)
        if not self.custom:
            if kind in _PLAIN:
                return obj
            if kind is float:
                self._check_float(obj)
                return obj
            if kind is dict:
                return self._dict(obj, include, exclude)
            if kind is list:
                return [self.encode(item, include, exclude) for item in obj]
        return self._general(obj, include, exclude)

    def _check_float(self, value: float) -> None:
        if not math.isfinite(value) or (value != 0.0 and abs(value) < 1e-4):
            self.needs_stdlib = True

    def _general(self, obj: Any, include: Any, exclude: Any) -> Any:
        if self.custom:
            if type(obj) in self.custom:
                return self.custom[type(obj)](obj)
            for cls, function in self.custom.items():
                if isinstance(obj, cls):
                    return function(obj)
        if isinstance(obj, BaseModel):
            data = obj.model_dump(
                mode="json",
                include=include,
                exclude=exclude,
                by_alias=self.by_alias,
                exclude_unset=self.exclude_unset,
                exclude_none=self.exclude_none,
                exclude_defaults=self.exclude_defaults,
            )
            return self.encode(data)
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return self.encode(dataclasses.asdict(obj), include, exclude)
        if isinstance(obj, Enum):
            return obj.value
        if isinstance(obj, PurePath):
            return str(obj)
        if isinstance(obj, str | int | type(None)):
            return obj
        if isinstance(obj, float):
            self._check_float(obj)
            return obj
        if isinstance(obj, PydanticUndefinedType):
            return None
        if isinstance(obj, dict):
            return self._dict(obj, include, exclude)
        if isinstance(obj, _SEQUENCES):
            return [self.encode(item, include, exclude) for item in obj]
        return self._by_type(obj, include, exclude)

    def _dict(self, obj: dict[Any, Any], include: Any, exclude: Any) -> dict[Any, Any]:
        allowed: Any = None
        if include is not None or exclude is not None:
            allowed = set(obj)
            if include is not None:
                allowed &= set(include)
            if exclude is not None:
                allowed -= set(exclude)
        encoded: dict[Any, Any] = {}
        for key, value in obj.items():
            if self.sa_safe and isinstance(key, str) and key.startswith("_sa"):
                continue
            if value is None and self.exclude_none:
                continue
            if allowed is not None and key not in allowed:
                continue
            new_key = key if type(key) is str else self.encode(key)
            if new_key is None:
                self.needs_stdlib = True  # json.dumps writes a None key as "null", pydantic-core as "None"
            encoded[new_key] = self.encode(value)
        return encoded

    def _by_type(self, obj: Any, include: Any, exclude: Any) -> Any:
        function = ENCODERS_BY_TYPE.get(type(obj))
        if function is None:
            function = next((f for cls, f in ENCODERS_BY_TYPE.items() if isinstance(obj, cls)), None)
        if function is None and type(obj).__name__ == "Color":
            function = str  # pydantic's (deprecated) and pydantic-extra-types' Color
        if function is not None:
            value = function(obj)
            if type(value) is float:
                self._check_float(value)
            return value
        try:
            data = dict(obj)
        except Exception as first:
            try:
                data = vars(obj)
            except Exception as second:
                raise ValueError([first, second]) from second
        return self.encode(data, include, exclude)
