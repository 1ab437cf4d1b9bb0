"""JSON encoding and decoding over pydantic-core: fast, and aware of datetimes, UUIDs, models and dataclasses."""

from __future__ import annotations

from typing import Any

import pydantic_core

__all__ = ["dumps", "loads"]


def dumps(obj: Any, *, indent: int | None = None) -> bytes:
    """Serialize ``obj`` to compact UTF-8 JSON bytes (non-ASCII kept as is).

    NaN and the infinities have no JSON form: they raise ``ValueError`` rather than put invalid JSON on the wire.
    """
    data = pydantic_core.to_json(obj, indent=indent)
    # PERF: pydantic-core writes NaN/Infinity as bare constants. A substring scan is cheap and almost always
    # misses; only a hit (which may be inside a string) pays for a second encoding that tells the two apart.
    if (b"NaN" in data or b"Infinity" in data) and data != pydantic_core.to_json(
        obj, indent=indent, inf_nan_mode="null"
    ):
        raise ValueError("Out of range float values (NaN, Infinity) are not JSON compliant")
    return data


def loads(data: str | bytes | bytearray) -> Any:
    """Parse JSON; raises ``ValueError`` on invalid JSON (including NaN/Infinity), invalid UTF-8, excessive
    nesting or integers longer than 4300 digits."""
    return pydantic_core.from_json(data, allow_inf_nan=False)
