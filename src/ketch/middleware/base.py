"""``@app.middleware("http")``: function middleware with ``call_next``, streaming-safe.

``call_next`` runs the rest of the app in a child task (which inherits the caller's context variables) and returns
as soon as the response has started, with a body that streams as the app sends it: nothing is buffered, and a
streaming or server-sent-events response keeps streaming through the middleware.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ketch.requests import Request
from ketch.responses import Response
from ketch.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CallNext", "FunctionMiddleware", "StreamedResponse"]

CallNext = Callable[[Request], Awaitable[Response]]
_DONE: Any = object()


class StreamedResponse(Response):
    """The response returned by ``call_next``: headers are known, the body streams from the app below."""

    sized_body = False

    def __init__(self, status_code: int, raw_headers: list[tuple[bytes, bytes]], body: AsyncIterator[bytes]) -> None:
        self.status_code = status_code
        self.raw_headers = raw_headers
        self.background = None
        self.body = b""
        self.body_iterator = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        async for chunk in self.body_iterator:
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
        request = Request(scope, receive)
        task: asyncio.Task[None] | None = None

        async def call_next(request: Request) -> Response:
            nonlocal task
            queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)

            async def downstream_receive() -> Message:
                # Replay a body the middleware already read, so the endpoint still gets it.
                body = request._body
                if body is not None and not getattr(downstream_receive, "replayed", False):
                    downstream_receive.replayed = True  # type: ignore[attr-defined]
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            async def downstream_send(message: Message) -> None:
                await queue.put(message)

            async def run() -> None:
                try:
                    await self.app(scope, downstream_receive, downstream_send)
                finally:
                    await queue.put(_DONE)

            task = asyncio.ensure_future(run())
            first = await queue.get()
            if first is _DONE:
                task.result()  # re-raise what the app raised before starting a response
                raise RuntimeError("No response returned.")
            if first["type"] != "http.response.start":
                raise RuntimeError(f"Expected http.response.start, got {first['type']!r}")

            async def body() -> AsyncIterator[bytes]:
                while True:
                    message = await queue.get()
                    if message is _DONE:
                        assert task is not None
                        task.result()
                        return
                    if message["type"] == "http.response.body":
                        yield message.get("body", b"")
                        if not message.get("more_body", False):
                            return

            return StreamedResponse(first["status"], list(first.get("headers", [])), body())

        try:
            response = await self.dispatch(request, call_next)
            await response(scope, receive, send)
        finally:
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
