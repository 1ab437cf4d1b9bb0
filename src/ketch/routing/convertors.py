"""Path parameter convertors: ``{id:int}`` (and Flask's ``<int:id>``) both parse to the same spec."""

from __future__ import annotations

import math
import re
import uuid
from typing import Any, ClassVar

__all__ = ["CONVERTORS", "Convertor", "compile_path", "register_convertor"]


class Convertor:
    """Turns a path segment matched by ``regex`` into a value, and a value back into a segment."""

    # NUL never matches a parameter, so it cannot reach a file name or a query through one (a 404 instead).
    regex: ClassVar[str] = r"[^/\x00]+"

    def convert(self, value: str) -> Any:
        return value

    def to_string(self, value: Any) -> str:
        text = str(value)
        if not text:
            raise ValueError("Must not be empty")
        if "/" in text:
            raise ValueError("Must not contain '/'")
        return text


class StringConvertor(Convertor):
    regex = r"[^/\x00]+"


class PathConvertor(Convertor):
    regex = r"[^\x00]*"

    def to_string(self, value: Any) -> str:
        return str(value)


class IntegerConvertor(Convertor):
    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: Any) -> str:
        value = int(value)
        if value < 0:
            raise ValueError("Negative integers are not supported")
        return str(value)


class FloatConvertor(Convertor):
    regex = r"[0-9]+(?:\.[0-9]+)?"

    def convert(self, value: str) -> float:
        number = float(value)
        if math.isinf(number):
            raise ValueError("Out of range")  # 400 digits of "9" overflow to inf: no match, not an inf param
        return number

    def to_string(self, value: Any) -> str:
        value = float(value)
        if value < 0 or math.isnan(value) or math.isinf(value):
            raise ValueError("Only finite, non-negative floats are supported")
        return (f"{value:.20f}").rstrip("0").rstrip(".")


class UUIDConvertor(Convertor):
    regex = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"

    def convert(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_string(self, value: Any) -> str:
        return str(value)


CONVERTORS: dict[str, Convertor] = {
    "str": StringConvertor(),
    "string": StringConvertor(),
    "path": PathConvertor(),
    "int": IntegerConvertor(),
    "float": FloatConvertor(),
    "uuid": UUIDConvertor(),
}


def register_convertor(name: str, convertor: Convertor) -> None:
    """Make ``{param:name}`` available in every path."""
    CONVERTORS[name] = convertor


# {name} or {name:type}; Flask's <name> or <type:name> (Flask puts the type first).
_PARAM = re.compile(
    r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-zA-Z_][a-zA-Z0-9_]*))?\}|<(?:([a-zA-Z_][a-zA-Z0-9_]*):)?([a-zA-Z_][a-zA-Z0-9_]*)>"
)


def compile_path(
    path: str, convertors: dict[str, Convertor] | None = None
) -> tuple[re.Pattern[str] | None, str, dict[str, Convertor]]:
    """Compile a route path into (regex or None for a static path, format string, param convertors).

    ``/items/{id:int}`` -> (``^/items/(?P<id>[0-9]+)$``, ``/items/{id}``, {"id": int convertor}).
    """
    table = CONVERTORS if convertors is None else {**CONVERTORS, **convertors}
    regex = "^"
    fmt = ""
    index = 0
    params: dict[str, Convertor] = {}
    for match in _PARAM.finditer(path):
        name = match.group(1) or match.group(4)
        kind = match.group(2) or match.group(3) or "str"
        if kind not in table:
            raise ValueError(f"Unknown path convertor {kind!r} in {path!r}")
        if name in params:
            raise ValueError(f"Duplicated param name {name!r} in path {path!r}")
        convertor = table[kind]
        literal = path[index : match.start()]
        regex += re.escape(literal) + f"(?P<{name}>{convertor.regex})"
        fmt += literal + "{" + name + "}"
        params[name] = convertor
        index = match.end()
    if not params:
        return None, path, {}
    # \Z, not $: "$" also matches before a trailing newline, so "/items/5\n" would match "{id:int}".
    regex += re.escape(path[index:]) + r"\Z"
    fmt += path[index:]
    return re.compile(regex), fmt, params
