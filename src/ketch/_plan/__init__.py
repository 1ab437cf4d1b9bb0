"""Endpoint plans: what each route does per request, worked out once at start-up.

The core planner here handles endpoints that take the ``Request`` (or ``WebSocket``) and path parameters by
name. Faces build richer plans (typed parameters, dependencies, Flask contexts) on the same shape: an ASGI
callable per route and method.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from ketch._plan.render import json_renderer
from ketch.concurrency import is_async_callable, run_in_threadpool
from ketch.exceptions import ClientDisconnect, ImproperlyConfigured
from ketch.limits import Limits
from ketch.requests import Request, check_declared_length
from ketch.responses import RAISE_SERVER_EXCEPTIONS, PlainTextResponse, Response
from ketch.routing.convertors import compile_path
from ketch.routing.matcher import PlanContext
from ketch.routing.route import Route, WebSocketRoute
from ketch.types import ASGIApp, Receive, Scope, Send
from ketch.websockets import WebSocket, WebSocketDisconnect, WebSocketState, allowed_origins, refused_origin

__all__ = ["CorePlanner", "HTTPPlan", "WebSocketPlan"]

logger = logging.getLogger("ketch.error")
ws_logger = logging.getLogger("ketch.websockets")

_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_CROSS_SITE = "Cross-site WebSocket handshake refused"


class HTTPPlan:
    """Serve one route and method: build the request, call the endpoint, render, handle errors, send."""

    __slots__ = ("endpoint", "call", "limits", "handlers", "body_limit", "name")

    def __init__(
        self,
        endpoint: Callable[..., Any],
        call: Callable[[Request], Any],
        context: PlanContext,
        method: str,
    ) -> None:
        self.endpoint = endpoint
        self.call = call
        self.limits: Limits = context.limits
        self.handlers = context.handlers
        # Methods that carry bodies are checked against Content-Length before the endpoint runs.
        self.body_limit = None if method in _BODYLESS_METHODS else self.limits.max_body_size
        self.name = getattr(endpoint, "__qualname__", repr(endpoint))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, self.limits)
        try:
            try:
                if self.body_limit is not None:
                    check_declared_length(scope, self.body_limit)
                response = await self.call(request)
            except ClientDisconnect:
                return  # nobody is listening: nothing to send, nothing to log
            except Exception as exc:
                response = await self.handlers.response_for(request, exc)
            await response(scope, receive, send)
        finally:
            # PERF: a private check, not an awaited close() on every request: only a parsed form holds files.
            if request._form is not None:
                await request.close()  # uploads the endpoint left open: their temporary files go now


class WebSocketPlan:
    """Serve one WebSocket route: the endpoint gets the connection; errors close it without a traceback.

    A cross-site handshake that carries cookies is refused with a 403 before the endpoint runs, unless the app's
    ``websocket_origins`` lists the site (see :func:`ketch.websockets.refused_origin`).
    """

    __slots__ = ("call", "limits", "handlers", "name", "origins")

    def __init__(self, call: Callable[[WebSocket], Any], context: PlanContext, name: str) -> None:
        self.call = call
        self.limits = context.limits
        self.handlers = context.handlers
        self.name = name
        # The setting of the app that plans the route (routes of included routers too); None: no check.
        self.origins = allowed_origins(getattr(context.app, "websocket_origins", ()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send, self.limits)
        if self.origins is not None:
            origin = refused_origin(scope, self.origins)
            if origin is not None:
                # A client error, not the app's: a debug line at most.
                ws_logger.debug("Refused a cross-site WebSocket handshake to %s from %r", scope.get("path"), origin)
                await websocket.send_denial_response(PlainTextResponse(_CROSS_SITE, status_code=403))
                return
        try:
            await self.call(websocket)
        except WebSocketDisconnect:
            return  # the client went away: the connection is over, and that is not an error
        except Exception as exc:
            if self.handlers.lookup(exc) is not None:
                result = await self.handlers.response_for(websocket, exc)
                if isinstance(result, Response):
                    # An HTTP error before accept becomes the handshake's denial response.
                    if websocket.application_state == WebSocketState.CONNECTING:
                        await websocket.send_denial_response(result)
                    elif websocket.application_state == WebSocketState.CONNECTED:
                        await websocket.close(code=1011)
                return
            logger.error("Exception in WebSocket route %s (%s)", scope.get("path"), self.name, exc_info=exc)
            if scope.get(RAISE_SERVER_EXCEPTIONS):
                raise  # a test client asked to see the error itself (it reports the 1011 to its user)
            if websocket.application_state == WebSocketState.CONNECTING:
                await websocket.close(code=1011)  # the server turns this into an HTTP 403 denial
            elif websocket.application_state == WebSocketState.CONNECTED:
                await websocket.close(code=1011)


class CorePlanner:
    """Plans endpoints of the shape ``endpoint(request, **path_params)``; sync endpoints go to the thread pool."""

    def plan_http(self, route: Route, method: str, context: PlanContext) -> ASGIApp:
        endpoint = route.endpoint
        render = json_renderer(route.options.get("status_code"), route.options.get("response_class"))
        # The full path: a prefix given to include_router may carry parameters of its own.
        binder = _binder(endpoint, compile_path(context.path)[2], Request, context.path)
        if is_async_callable(endpoint):

            async def call(request: Request) -> Response:
                return render(await endpoint(*binder(request)))

        elif route.options.get("sync_to_thread") is False:  # declared non-blocking: run on the event loop

            async def call(request: Request) -> Response:
                return render(endpoint(*binder(request)))

        else:

            async def call(request: Request) -> Response:
                return render(await run_in_threadpool(endpoint, *binder(request)))

        return HTTPPlan(endpoint, call, context, method)

    def plan_websocket(self, route: WebSocketRoute, context: PlanContext) -> ASGIApp:
        endpoint = route.endpoint
        binder = _binder(endpoint, compile_path(context.path)[2], WebSocket, context.path)

        async def call(websocket: WebSocket) -> None:
            await endpoint(*binder(websocket))

        return WebSocketPlan(call, context, getattr(endpoint, "__qualname__", repr(endpoint)))


def _binder(
    endpoint: Callable[..., Any], path_params: dict[str, Any], connection_type: type, path: str
) -> Callable[[Any], list[Any]]:
    """Work out once which positional arguments the endpoint takes: the connection and/or path params."""
    try:
        parameters = list(inspect.signature(endpoint).parameters.values())
    except (TypeError, ValueError):
        return lambda connection: [connection]
    sources: list[str | None] = []
    for param in parameters:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = param.annotation
        if isinstance(annotation, str):
            is_connection = annotation.split(".")[-1] in (connection_type.__name__, "Request", "WebSocket")
        else:
            is_connection = isinstance(annotation, type) and issubclass(annotation, connection_type)
        if is_connection or (annotation is param.empty and param.name in ("request", "websocket", "ws")):
            sources.append(None)
        elif param.name in path_params:
            sources.append(param.name)
        elif param.default is not param.empty:
            break
        else:
            raise ImproperlyConfigured(
                f"Cannot provide parameter {param.name!r} of {getattr(endpoint, '__qualname__', endpoint)} "
                f"for {path!r}: the core planner passes only the request and path parameters"
            )
    if sources == [None]:
        return lambda connection: [connection]
    if not sources:
        return lambda connection: []

    def bind(connection: Any) -> list[Any]:
        params = connection.scope.get("path_params", {})
        return [connection if source is None else params[source] for source in sources]

    return bind
