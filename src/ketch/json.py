"""JSON encoding and decoding over pydantic-core: fast, and aware of datetimes, UUIDs, models and dataclasses."""

from __future__ import annotations

from typing import Any

import pydantic_core

__all__ = ["dumps", "loads"]


def dumps(obj: Any, *, indent: int | None = None) -> bytes:
    """Serialize ``obj`` to compact UTF-8 JSON bytes (non-ASCII kept as is)."""
    return pydantic_core.to_json(obj, indent=indent)


def loads(data: str | bytes | bytearray) -> Any:
    """Parse JSON; raises ``ValueError`` on invalid JSON, invalid UTF-8 or excessive nesting."""
    return pydantic_core.from_json(data)
