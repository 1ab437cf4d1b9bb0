"""Default exception handlers, and the lookup that picks a handler for an exception.

A handler is ``handler(request, exc) -> Response`` (sync or async). Handlers are registered by status code or by
exception class on the app or on any router; the lookup for a route walks its routers from the innermost out to
the app, and at each level tries the status code (for ``HTTPException``), then the exception's classes in MRO
order, as Flask does for blueprints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from ketch.concurrency import is_async_callable, run_in_threadpool
from ketch.encoders import encode_json, jsonable_encoder
from ketch.exceptions import HTTPException, RequestValidationError, WebSocketException, WebSocketRequestValidationError
from ketch.requests import HTTPConnection
from ketch.responses import JSONResponse, Response
from ketch.websockets import WebSocketState

__all__ = [
    "ExceptionHandler",
    "ExceptionHandlers",
    "HandlerKey",
    "http_exception_handler",
    "request_validation_exception_handler",
    "websocket_exception_handler",
    "websocket_request_validation_exception_handler",
]

HandlerKey: TypeAlias = int | type[BaseException]
ExceptionHandler: TypeAlias = Callable[[Any, Any], Any]

_EMPTY_BODY = frozenset({204, 304}) | frozenset(range(100, 200))


async def http_exception_handler(request: HTTPConnection, exc: HTTPException) -> Response:
    """``{"detail": ...}`` as JSON with the exception's status and headers (no body for 1xx, 204, 304)."""
    if exc.status_code in _EMPTY_BODY:
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def websocket_exception_handler(websocket: Any, exc: WebSocketException) -> None:
    """Close the WebSocket with the exception's code and reason (unless the endpoint already closed it)."""
    if websocket.application_state != WebSocketState.DISCONNECTED:
        await websocket.close(code=exc.code, reason=exc.reason)


async def request_validation_exception_handler(request: HTTPConnection, exc: RequestValidationError) -> Response:
    """422 with ``{"detail": [errors]}``, byte for byte what FastAPI sends."""
    return Response(encode_json({"detail": exc.errors()}), status_code=422, media_type="application/json")


async def websocket_request_validation_exception_handler(websocket: Any, exc: WebSocketRequestValidationError) -> None:
    """Close the WebSocket with 1008 (policy violation), as FastAPI does.

    The reason is the error list as JSON when it fits the 123 bytes a close frame allows (FastAPI passes the list
    itself, which servers cannot send), else the first error's message.
    """
    errors = jsonable_encoder(exc.errors())
    reason = encode_json(errors)
    if len(reason) > 123:
        first = errors[0] if errors else {}
        reason = f"{first.get('msg', 'Invalid parameters')}: {first.get('loc', '')}".encode()[:123]
    await websocket.close(code=1008, reason=reason.decode("utf-8", "ignore"))


class ExceptionHandlers:
    """The handler maps that apply to one route, innermost first, with a per-exception-type cache."""

    __slots__ = ("levels", "_cache")

    def __init__(self, levels: Sequence[Mapping[HandlerKey, ExceptionHandler]]) -> None:
        self.levels = [dict(level) for level in levels if level]
        self._cache: dict[Any, ExceptionHandler | None] = {}

    def lookup(self, exc: BaseException) -> ExceptionHandler | None:
        """The handler for ``exc``, or None if nothing is registered for it."""
        key: Any = (type(exc), exc.status_code) if isinstance(exc, HTTPException) else type(exc)
        try:
            return self._cache[key]
        except KeyError:
            pass
        found: ExceptionHandler | None = None
        for level in self.levels:
            if isinstance(exc, HTTPException) and exc.status_code in level:
                found = level[exc.status_code]
                break
            found = next((level[cls] for cls in type(exc).__mro__ if cls in level), None)
            if found is not None:
                break
        self._cache[key] = found
        return found

    async def response_for(self, connection: Any, exc: Exception) -> Any:
        """Run the handler for ``exc`` and return what it returns; re-raise ``exc`` if there is none."""
        handler = self.lookup(exc)
        if handler is None:
            raise exc
        if is_async_callable(handler):
            return await handler(connection, exc)
        return await run_in_threadpool(handler, connection, exc)


def default_handlers() -> dict[HandlerKey, ExceptionHandler]:
    """The handlers every app starts with; user registrations for the same keys replace them."""
    return {
        HTTPException: http_exception_handler,
        WebSocketException: websocket_exception_handler,
        RequestValidationError: request_validation_exception_handler,
        WebSocketRequestValidationError: websocket_request_validation_exception_handler,
    }
