"""``starlette.applications``: ``Starlette`` is a ketch app with Starlette's defaults.

Only defaults live here: an ``OPTIONS`` request to a path that does not define it gets 405, as in Starlette.
Unlike Starlette, the body size limit is ketch's (10 MiB) unless ``max_body_size`` says otherwise (``None``: none).
WebSocket handshakes from other sites are accepted, cookies or not, as in Starlette (``websocket_origins=["*"]``;
a list of origins turns ketch's check on).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from ketch.app import Ketch
from ketch.routing.route import BaseRoute
from ketch.routing.router import Middleware

__all__ = ["Starlette"]


class Starlette(Ketch):
    """``Starlette(debug, routes, middleware, exception_handlers, lifespan, *, max_body_size, websocket_origins,
    startup_timeout)``."""

    def __init__(
        self,
        debug: bool = False,
        routes: Sequence[BaseRoute] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: Mapping[Any, Callable[..., Any]] | None = None,
        lifespan: Callable[[Any], AbstractAsyncContextManager[Any]] | None = None,
        *,
        max_body_size: int | None | Any = ...,
        websocket_origins: Sequence[str] = ("*",),
        startup_timeout: float | None = None,
    ) -> None:
        super().__init__(
            debug=debug,
            routes=routes,
            middleware=middleware,
            exception_handlers=dict(exception_handlers or {}),
            lifespan=lifespan,
            max_body_size=max_body_size,
            websocket_origins=websocket_origins,
            startup_timeout=startup_timeout,
            automatic_options=False,
        )
        self.router = self
