"""``@app.middleware("http")``: function middleware with ``call_next``, streaming-safe.

``call_next`` runs the rest of the app in a child task (which inherits the caller's context variables) and returns
as soon as the response has started, with a body that streams as the app sends it: nothing is buffered, and a
streaming or server-sent-events response keeps streaming through the middleware.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ketch.exceptions import ClientDisconnect
from ketch.limits import DEFAULT_LIMITS
from ketch.requests import Request
from ketch.responses import RESPONSE_STARTED, Response
from ketch.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BaseHTTPMiddleware", "CallNext", "DispatchFunction", "FunctionMiddleware", "StreamedResponse"]

CallNext = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, CallNext], Awaitable[Response]]
_DONE: Any = object()


class StreamedResponse(Response):
    """The response returned by ``call_next``: headers are known, the body streams from the app below."""

    sized_body = False

    def __init__(
        self,
        status_code: int,
        raw_headers: list[tuple[bytes, bytes]],
        body: AsyncIterator[bytes],
        is_complete: Callable[[], bool] = lambda: False,
    ) -> None:
        self.status_code = status_code
        self.raw_headers = raw_headers
        self.background = None
        self.body = b""
        self.body_iterator = body
        self._app_body = body
        self._is_complete = is_complete

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        scope[RESPONSE_STARTED] = True
        # The app's own "last chunk" flag is passed on, so a one-message body stays one message (GZip's
        # minimum_size and Content-Length still apply outside); a middleware that swapped the iterator streams.
        untouched = self.body_iterator is self._app_body
        async for chunk in self.body_iterator:
            if untouched and self._is_complete():
                await send({"type": "http.response.body", "body": chunk, "more_body": False})
                return
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class FunctionMiddleware:
    """Wraps ``dispatch(request, call_next) -> Response`` as pure ASGI middleware (HTTP only)."""

    def __init__(self, app: ASGIApp, dispatch: Callable[[Request, CallNext], Awaitable[Response]]) -> None:
        self.app = app
        self.dispatch = dispatch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The app's limits, so a body read here is bounded as the route would bound it (at most the app's).
        request = Request(scope, receive, getattr(scope.get("app"), "limits", None) or DEFAULT_LIMITS)
        task: asyncio.Task[None] | None = None
        listening = True  # False once the middleware is done: nobody reads the app's messages any more
        complete = False  # the app's whole response body went through

        async def call_next(request: Request) -> Response:
            nonlocal task
            queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)

            disconnected = False

            async def downstream_receive() -> Message:
                nonlocal disconnected
                # Replay a body the middleware already read, so the endpoint still gets it.
                body = request._body
                if body is not None and not getattr(downstream_receive, "replayed", False):
                    downstream_receive.replayed = True  # type: ignore[attr-defined]
                    return {"type": "http.request", "body": body, "more_body": False}
                message = await receive()
                disconnected = disconnected or message["type"] == "http.disconnect"
                return message

            async def downstream_send(message: Message) -> None:
                if listening:
                    await queue.put(message)

            async def run() -> None:
                try:
                    await self.app(scope, downstream_receive, downstream_send)
                finally:
                    if listening:
                        await queue.put(_DONE)

            task = asyncio.ensure_future(run())
            first = await queue.get()
            # The app's response start went into our queue, not to the client: the response has not started.
            # (ketch responses record their start synchronously after the put, so it is already there to undo.)
            scope.pop(RESPONSE_STARTED, None)
            if first is _DONE:
                task.result()  # re-raise what the app raised before starting a response
                if disconnected:
                    raise ClientDisconnect()  # the app saw the client go and had nobody to answer
                raise RuntimeError("No response returned.")
            if first["type"] != "http.response.start":
                raise RuntimeError(f"Expected http.response.start, got {first['type']!r}")

            async def body() -> AsyncIterator[bytes]:
                nonlocal complete
                while True:
                    message = await queue.get()
                    if message is _DONE:
                        assert task is not None
                        task.result()
                        return
                    if message["type"] == "http.response.body":
                        if not message.get("more_body", False):
                            complete = True
                        yield message.get("body", b"")
                        if complete:
                            return

            return StreamedResponse(first["status"], list(first.get("headers", [])), body(), lambda: complete)

        try:
            response = await self.dispatch(request, call_next)
            await response(scope, receive, send)
        except ClientDisconnect:
            return  # nobody is listening: nothing to send, nothing to log
        finally:
            listening = False
            if task is not None and not task.done():
                if complete:
                    await task  # the response is out; the app is running its background tasks
                else:
                    task.cancel()  # the middleware answered (or failed) without the app's full response
                    await asyncio.gather(task, return_exceptions=True)


class BaseHTTPMiddleware(FunctionMiddleware):
    """Class-based ``call_next`` middleware, Starlette's API: subclass it and override :meth:`dispatch`, or pass
    ``dispatch=``. ``app.add_middleware(MyMiddleware, **options)`` builds it."""

    def __init__(self, app: ASGIApp, dispatch: DispatchFunction | None = None) -> None:
        super().__init__(app, dispatch if dispatch is not None else self.dispatch)
        self.dispatch_func = self.dispatch

    async def dispatch(self, request: Request, call_next: CallNext) -> Response:
        """Answer ``request``, usually by calling ``await call_next(request)`` and changing what it returns."""
        raise NotImplementedError()
