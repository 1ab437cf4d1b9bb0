"""ASGI type aliases shared by every ketch module."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeAlias

__all__ = [
    "ASGIApp",
    "Lifespan",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "StatelessLifespan",
    "StatefulLifespan",
]

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

StatelessLifespan: TypeAlias = Callable[[Any], AbstractAsyncContextManager[None]]
StatefulLifespan: TypeAlias = Callable[[Any], AbstractAsyncContextManager[Mapping[str, Any]]]
Lifespan: TypeAlias = StatelessLifespan | StatefulLifespan
