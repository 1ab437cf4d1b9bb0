"""``fastapi.routing``: ``APIRouter`` is ketch's ``Router`` with FastAPI's constructor and defaults.

FastAPI's defaults: a GET route does not answer HEAD. Options left unset (``None``) are not passed on, so they never
hide a value set on an enclosing router or the app. ``route_class``, ``default``, ``dependency_overrides_provider``
and a router's own ``on_startup``/``on_shutdown``/``lifespan`` are kept as attributes but not used by ketch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from ketch.routing import Mount, Router
from ketch.routing import Route as APIRoute
from ketch.routing import WebSocketRoute as APIWebSocketRoute
from ketch.routing.route import BaseRoute

__all__ = ["APIRoute", "APIRouter", "APIWebSocketRoute", "Mount"]


def _given(**options: Any) -> dict[str, Any]:
    """The options that were given: FastAPI marks "not set" with a placeholder, ketch by leaving the key out."""
    return {name: value for name, value in options.items() if value is not None}


class APIRouter(Router):
    """``APIRouter(prefix=..., tags=..., dependencies=..., responses=...)``: a group of typed routes."""

    automatic_head = False

    def __init__(
        self,
        *,
        prefix: str = "",
        tags: list[Any] | None = None,
        dependencies: Sequence[Any] | None = None,
        default_response_class: type[Any] | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        callbacks: list[BaseRoute] | None = None,
        routes: list[BaseRoute] | None = None,
        redirect_slashes: bool = True,
        default: Any = None,
        dependency_overrides_provider: Any = None,
        route_class: type[Any] = APIRoute,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Callable[[Any], AbstractAsyncContextManager[Any]] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[Any], str] | None = None,
        strict_content_type: bool | None = None,
    ) -> None:
        super().__init__(
            prefix=prefix,
            routes=routes,
            tags=tags,
            **_given(
                dependencies=dependencies,
                default_response_class=default_response_class,
                responses=responses,
                callbacks=callbacks,
                deprecated=deprecated,
                include_in_schema=None if include_in_schema else False,
                generate_unique_id_function=generate_unique_id_function,
                strict_content_type=strict_content_type,
            ),
        )
        self.redirect_slashes = redirect_slashes
        self.default = default
        self.dependency_overrides_provider = dependency_overrides_provider
        self.route_class = route_class
        self.on_startup = list(on_startup or [])
        self.on_shutdown = list(on_shutdown or [])
        self.lifespan_context = lifespan
