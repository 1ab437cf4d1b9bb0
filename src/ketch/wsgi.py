"""Serving a WSGI app (Flask, Django, ...) from ketch: ``app.mount("/legacy", WSGIMiddleware(flask_app))``.

The request body is read first (bounded by the app's limits) and handed to the WSGI app as ``wsgi.input``. The
WSGI app then runs on ketch's thread pool: the call itself, and every step of its response iterable, so the event
loop never blocks. The status and headers are sent with the first non-empty body chunk (as PEP 3333 asks) and the
rest of the body streams chunk by chunk; if the client goes away, the iterable is closed (its ``close()`` runs).
"""

from __future__ import annotations

import io
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator
from contextlib import aclosing
from types import TracebackType
from typing import Any, cast

from ketch.concurrency import iterate_in_threadpool, run_in_threadpool
from ketch.datastructures import encode_header
from ketch.exceptions import ClientDisconnect, HTTPException
from ketch.limits import DEFAULT_LIMITS, Limits
from ketch.requests import Request
from ketch.responses import PlainTextResponse, StreamingResponse
from ketch.types import Receive, Scope, Send

__all__ = ["WSGIApp", "WSGIMiddleware", "build_environ"]

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Headers a WSGI environ names without the HTTP_ prefix.
_CGI_NAMES = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


def build_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) for an HTTP ``scope`` whose body is ``body``.

    Strings carry bytes as latin-1, as PEP 3333 asks: ``PATH_INFO`` is the UTF-8 path decoded as latin-1.
    ``SCRIPT_NAME`` is the ASGI ``root_path`` (a mount's prefix), and ``PATH_INFO`` what follows it.
    """
    root = scope.get("root_path", "")
    path = scope["path"]
    if root and (path == root or path.startswith(root.rstrip("/") + "/")):
        path = path[len(root) :]
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = str(client[0]), str(client[1])
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        key = _CGI_NAMES.get(name) or "HTTP_" + name.upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if key in environ:
            # Repeated headers are joined into one value (cookies with "; ", the rest with ",").
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    return environ


class _Exchange:
    """One WSGI call: ``start_response`` and ``write`` for the app, and what they recorded."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.written: list[bytes] = []
        self.sent = False  # the status and headers went to the client: start_response may no longer change them

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            if self.sent:
                raise exc_info[1].with_traceback(exc_info[2])
        elif self.status is not None:
            raise RuntimeError("start_response() was already called")
        self.status = int(status.split(" ", 1)[0])
        self.headers = [encode_header(name, value) for name, value in headers]
        return self.written.append

    def begin(self, app: WSGIApp, environ: dict[str, Any]) -> tuple[Iterable[bytes], Iterator[bytes], list[bytes]]:
        """Call the app and run its iterable up to the first non-empty chunk (on a worker thread)."""
        iterable = app(environ, self.start_response)
        iterator = iter(iterable)
        first: list[bytes] = []
        try:
            for chunk in iterator:
                if chunk:
                    first.append(chunk)
                    break
        except BaseException:
            _close(iterable, iterator)
            raise
        return iterable, iterator, first

    def take_written(self) -> list[bytes]:
        written, self.written[:] = list(self.written), []
        return written


def _close(iterable: Iterable[bytes], iterator: Iterator[bytes]) -> None:
    # PEP 3333: the server calls the iterable's close(); a generator is its own iterator, so once is enough.
    for obj in (iterator,) if iterator is iterable else (iterator, iterable):
        close = getattr(obj, "close", None)
        if close is not None:
            close()


class WSGIMiddleware:
    """An ASGI app that serves a WSGI app on ketch's thread pool.

    Args:
        app: the WSGI application (``environ, start_response -> iterable of bytes``).
        limits: bounds the request body it reads (default: the ketch app's limits, else ketch's defaults).
    """

    def __init__(self, app: WSGIApp, *, limits: Limits | None = None) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await _lifespan(receive, send)
            return
        if kind != "http":
            await send({"type": "websocket.close", "code": 1000, "reason": ""})  # WSGI has no WebSockets
            return
        limits = self.limits or getattr(scope.get("app"), "limits", None) or DEFAULT_LIMITS
        try:
            body = await Request(scope, receive, limits).body()
        except ClientDisconnect:
            return
        except HTTPException as exc:
            await PlainTextResponse(str(exc.detail), exc.status_code, headers=exc.headers)(scope, receive, send)
            return
        exchange = _Exchange()
        iterable, iterator, first = await run_in_threadpool(exchange.begin, self.app, build_environ(scope, body))
        try:
            if exchange.status is None:
                raise RuntimeError("The WSGI app returned without calling start_response()")
            response = StreamingResponse(_body(exchange, first, _Steps(iterator)), status_code=exchange.status)
            response.raw_headers = exchange.headers
            exchange.sent = True
            await response(scope, receive, send)
        finally:
            await run_in_threadpool(_close, iterable, iterator)


class _Steps:
    """The app's iterator without its ``close()``: the middleware closes the iterable itself, exactly once."""

    def __init__(self, iterator: Iterator[bytes]) -> None:
        self.iterator = iterator

    def __iter__(self) -> _Steps:
        return self

    def __next__(self) -> bytes:
        return next(self.iterator)


async def _body(exchange: _Exchange, first: list[bytes], steps: _Steps) -> AsyncIterator[bytes]:
    # What write() sent comes before the chunks; every step of the iterable runs on the thread pool.
    for chunk in [*exchange.take_written(), *first]:
        yield chunk
    # aclosing: a step still running on a thread finishes before the middleware closes the iterable.
    async with aclosing(cast("AsyncGenerator[bytes]", iterate_in_threadpool(steps))) as chunks:
        async for chunk in chunks:
            for written in exchange.take_written():
                yield written
            if chunk:
                yield chunk
    for written in exchange.take_written():
        yield written


async def _lifespan(receive: Receive, send: Send) -> None:
    # Served alone (uvicorn module:wsgi_app): a WSGI app has nothing to start or stop.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
