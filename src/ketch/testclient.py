"""Test clients: drive an ASGI app in-process through httpx, with lifespan and WebSockets.

``TestClient`` is an ``httpx.Client`` for ordinary (sync) tests: the app runs on a private event loop in a
background thread, started on the first request and stopped on ``close()`` or when the ``with`` block ends.
``AsyncTestClient`` is an ``httpx.AsyncClient`` that runs the app in the caller's own event loop.

Both act like a small ASGI server: the request body reaches the app in chunks, ``receive()`` answers
``http.disconnect`` once the response is complete (or the client stopped reading), response bodies stream back
as the app sends them, and a response the app leaves unfinished is an error in the test, never a silently
truncated body. ``with client:`` runs the lifespan protocol; its state reaches every request as ``request.state``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
import warnings
import weakref
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx

from ketch.json import dumps, loads
from ketch.responses import RAISE_SERVER_EXCEPTIONS
from ketch.types import ASGIApp, Message, Scope
from ketch.websockets import WebSocketDisconnect

__all__ = [
    "AsyncTestClient",
    "AsyncWebSocketTestSession",
    "TestClient",
    "WebSocketDenialResponse",
    "WebSocketTestSession",
]

_T = TypeVar("_T")
_Read = Callable[[], Awaitable[bytes | None]]

# How much of a request body one http.request message carries (about what a server reads from a socket).
_REQUEST_CHUNK = 64 * 1024
# Response chunks buffered before the app's send() waits for the test to read (backpressure, bounded memory).
_MAX_UNREAD = 16
# After the test stops listening, how long the app gets to notice the disconnect before it is cancelled.
_STOP_GRACE = 2.0
# How long close() waits for the loop thread to finish.
_JOIN_TIMEOUT = 10.0


class WebSocketDenialResponse(httpx.Response, WebSocketDisconnect):  # type: ignore[misc]
    """The app refused the WebSocket handshake with an HTTP response (the ``websocket.http.response`` extension).

    It is both the ``httpx.Response`` the client got (``status_code``, ``headers``, ``content``) and a
    ``WebSocketDisconnect`` (code 1006, as a browser reports a failed handshake).
    """

    def __init__(self, status_code: int, headers: list[tuple[bytes, bytes]], content: bytes) -> None:
        httpx.Response.__init__(self, status_code, headers=headers, content=content)
        WebSocketDisconnect.__init__(self, 1006, f"Handshake denied with HTTP {status_code}")


class _ClientDisconnected(OSError):
    """Raised by ``send()`` once the test closed the WebSocket (ASGI WebSocket spec 2.4)."""


class _Exit:
    """Put in an outbox when the app returns or raises."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


async def _run_app(
    app: ASGIApp, scope: Scope, receive: Any, send: Any, outbox: asyncio.Queue[Message | _Exit]
) -> BaseException | None:
    """Call the app; post an ``_Exit`` when it is done, and return what it raised (cancellation propagates)."""
    try:
        await app(scope, receive, send)
    except BaseException as exc:
        outbox.put_nowait(_Exit(exc))
        if isinstance(exc, asyncio.CancelledError):
            raise
        return exc
    outbox.put_nowait(_Exit(None))
    return None


async def _stop_task(task: asyncio.Task[Any] | None) -> None:
    """Give an app task that has been told the client left a moment to finish, then cancel it."""
    if task is None or task.done():
        return
    try:
        await asyncio.wait_for(asyncio.shield(task), _STOP_GRACE)
    except TimeoutError:
        task.cancel()
        await asyncio.wait({task})


# -- request bodies ------------------------------------------------------------------------------------------


def _bytes_reader(data: bytes) -> _Read:
    chunks = iter([data[i : i + _REQUEST_CHUNK] for i in range(0, len(data), _REQUEST_CHUNK)])

    async def read() -> bytes | None:
        return next(chunks, None)

    return read


def _async_reader(stream: AsyncIterable[bytes]) -> _Read:
    iterator = aiter(stream)

    async def read() -> bytes | None:
        return await anext(iterator, None)

    return read


def _threaded_reader(stream: Iterable[bytes]) -> _Read:
    # A sync stream (a generator, a file upload) may block: read it off the app's event loop.
    step = functools.partial(next, iter(stream), None)

    async def read() -> bytes | None:
        return await asyncio.get_running_loop().run_in_executor(None, step)

    return read


def _body_reader(request: httpx.Request, *, is_async: bool) -> _Read:
    try:
        return _bytes_reader(request.content)
    except httpx.RequestNotRead:
        pass
    if is_async:
        return _async_reader(request.stream)  # type: ignore[arg-type]
    return _threaded_reader(request.stream)  # type: ignore[arg-type]


# -- the fake server -----------------------------------------------------------------------------------------


class _Server:
    """What a server would tell the app: the scope of each connection, and the lifespan state."""

    __slots__ = ("app", "root_path", "client", "raise_server_exceptions", "state")

    def __init__(
        self, app: ASGIApp, root_path: str, client: tuple[str, int], raise_server_exceptions: bool, backend: str
    ) -> None:
        if backend != "asyncio":
            raise ValueError(f"Unsupported backend {backend!r}: ketch runs on asyncio")
        self.app = app
        self.root_path = root_path
        self.client = client
        self.raise_server_exceptions = raise_server_exceptions
        self.state: dict[str, Any] | None = None  # set while a lifespan is running

    def scope(self, request: httpx.Request, kind: str) -> Scope:
        url = request.url
        scheme = url.scheme
        if kind == "websocket":
            scheme = {"http": "ws", "https": "wss"}.get(scheme, scheme)
        default_port = 443 if scheme in ("https", "wss") else 80
        raw_path = url.raw_path.split(b"?", 1)[0]
        # NOTE: like uvicorn --root-path, the root path is prepended to both path and raw_path (ASGI spec).
        scope: Scope = {
            "type": kind,
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": scheme,
            "path": self.root_path + url.path,
            "raw_path": quote(self.root_path).encode("ascii") + raw_path,
            "query_string": url.query,
            "root_path": self.root_path,
            "headers": [(key.lower(), value) for key, value in request.headers.raw],
            "client": self.client,
            "server": (url.host, url.port or default_port),
            "extensions": {},
        }
        if kind == "http":
            scope["method"] = request.method
        if self.state is not None:
            scope["state"] = dict(self.state)
        if self.raise_server_exceptions:
            scope[RAISE_SERVER_EXCEPTIONS] = True  # ketch re-raises after its 500 / close 1011
        return scope

    def websocket_scope(self, request: httpx.Request, subprotocols: Sequence[str] | None) -> Scope:
        scope = self.scope(request, "websocket")
        scope["subprotocols"] = list(subprotocols or [])
        scope["extensions"]["websocket.http.response"] = {}  # the app may deny the handshake with a response
        return scope


# -- one HTTP exchange ---------------------------------------------------------------------------------------


class _HTTPExchange:
    """One request and its response. The app runs as a task; the client reads with start / next_chunk / aclose.

    Every method runs on the app's event loop (the sync client calls them through its loop thread).
    """

    def __init__(self, server: _Server, scope: Scope, read: _Read) -> None:
        self.app = server.app
        self.scope = scope
        self.raise_errors = server.raise_server_exceptions
        self.done = False  # the client has seen the end (or gave up); no further reads
        self._read = read
        self._outbox: asyncio.Queue[Message | _Exit] = asyncio.Queue()
        self._reader_moved = asyncio.Event()
        self._finished = asyncio.Event()  # response complete or client gone: receive() answers http.disconnect
        self._pending: bytes | None = None
        self._request_complete = False
        self._started = self._complete = self._client_gone = False
        self._drop_body = scope["method"] == "HEAD"
        self._task: asyncio.Task[BaseException | None] | None = None

    # The app's side.

    async def receive(self) -> Message:
        if self._request_complete or self._client_gone:
            await self._finished.wait()
            return {"type": "http.disconnect"}
        # One chunk of look-ahead tells whether more_body is True.
        chunk = self._pending if self._pending is not None else await self._next_body_chunk()
        self._pending = await self._next_body_chunk() if chunk else b""
        self._request_complete = not self._pending
        return {"type": "http.request", "body": chunk, "more_body": not self._request_complete}

    async def _next_body_chunk(self) -> bytes:
        while (chunk := await self._read()) is not None:
            if chunk:
                return chunk
        return b""

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self._started:
                raise RuntimeError('The app sent "http.response.start" twice')
            self._started = True
            self._outbox.put_nowait(message)
        elif kind == "http.response.body":
            if not self._started:
                raise RuntimeError('The app sent "http.response.body" before "http.response.start"')
            if self._complete:
                raise RuntimeError('The app sent "http.response.body" after the response was complete')
            more_body = message.get("more_body", False)
            self._complete = not more_body
            body = message.get("body", b"")
            if body and not self._drop_body and not self._client_gone:
                self._outbox.put_nowait({"type": kind, "body": bytes(body)})
            if self._complete:
                self._finished.set()
            else:
                await self._wait_for_reader()
        else:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} for an HTTP connection")

    async def _wait_for_reader(self) -> None:
        while self._outbox.qsize() >= _MAX_UNREAD and not self._client_gone:
            self._reader_moved.clear()
            await self._reader_moved.wait()

    # The client's side.

    async def start(self) -> tuple[int, list[tuple[bytes, bytes]]]:
        """Run the app until it starts the response; the status and headers."""
        self._task = asyncio.ensure_future(_run_app(self.app, self.scope, self.receive, self.send, self._outbox))
        item = await self._outbox.get()
        if not isinstance(item, _Exit):
            return item["status"], list(item.get("headers", []))
        self.done = True
        if self.raise_errors:
            raise item.error or RuntimeError("The app returned without starting a response")
        return 500, []  # what a server sends when the app fails before responding

    async def next_chunk(self) -> bytes | None:
        """The next body chunk; None once the app has finished (background tasks included)."""
        while not self.done:
            item = await self._outbox.get()
            self._reader_moved.set()
            if not isinstance(item, _Exit):
                return item["body"]  # type: ignore[no-any-return]
            self.done = True
            if item.error is not None and self.raise_errors:
                raise item.error
            if not self._complete:
                raise httpx.RemoteProtocolError("The app stopped before completing the response body")
        return None

    async def aclose(self) -> None:
        """The client stops listening: the app sees ``http.disconnect`` and gets a moment to wind down."""
        self.done = self._client_gone = True
        self._finished.set()
        self._reader_moved.set()
        await _stop_task(self._task)


class _SyncStream(httpx.SyncByteStream):
    def __init__(self, exchange: _HTTPExchange, loop: _LoopThread) -> None:
        self._exchange = exchange
        self._loop: _LoopThread | None = loop

    def __iter__(self) -> Iterator[bytes]:
        while self._loop is not None and (chunk := self._loop.call(self._exchange.next_chunk)) is not None:
            yield chunk

    def close(self) -> None:
        loop, self._loop = self._loop, None  # httpx keeps responses in reference cycles: let go of the loop now
        if loop is not None and not self._exchange.done:
            loop.call(self._exchange.aclose)


class _AsyncStream(httpx.AsyncByteStream):
    def __init__(self, exchange: _HTTPExchange) -> None:
        self._exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._exchange.next_chunk()) is not None:
            yield chunk

    async def aclose(self) -> None:
        if not self._exchange.done:
            await self._exchange.aclose()


class _SyncTransport(httpx.BaseTransport):
    def __init__(self, server: _Server, loop: _LoopThread) -> None:
        self._server = server
        self._loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scope = self._server.scope(request, "http")
        exchange = _HTTPExchange(self._server, scope, _body_reader(request, is_async=False))
        status, headers = self._loop.call(exchange.start)
        return httpx.Response(status, headers=headers, stream=_SyncStream(exchange, self._loop))


class _AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, server: _Server) -> None:
        self._server = server

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        scope = self._server.scope(request, "http")
        exchange = _HTTPExchange(self._server, scope, _body_reader(request, is_async=True))
        status, headers = await exchange.start()
        return httpx.Response(status, headers=headers, stream=_AsyncStream(exchange))


# -- lifespan ------------------------------------------------------------------------------------------------


class _Lifespan:
    """One lifespan conversation: ``startup()`` on enter, ``shutdown()`` on exit; ``state`` is what it yields."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message | _Exit] = asyncio.Queue()
        self._task: asyncio.Task[BaseException | None] | None = None
        self._running = False

    async def startup(self) -> None:
        scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        send = self._outbox.put
        self._task = asyncio.ensure_future(_run_app(self.app, scope, self._to_app.get, send, self._outbox))
        message = await self._ask("lifespan.startup")
        if message is None:
            return  # the app returned: it does not speak lifespan
        if message["type"] == "lifespan.startup.failed":
            await _stop_task(self._task)
            raise RuntimeError(f"Application startup failed: {message.get('message', '')}")
        self._running = True

    async def shutdown(self, raise_errors: bool = True) -> None:
        """Run shutdown; ``raise_errors=False`` when an error is already on its way (never hide it)."""
        if not self._running:
            return
        self._running = False
        try:
            message = await self._ask("lifespan.shutdown")
        except Exception:
            if raise_errors:
                raise
            return
        await _stop_task(self._task)
        if raise_errors and message is not None and message["type"] == "lifespan.shutdown.failed":
            raise RuntimeError(f"Application shutdown failed: {message.get('message', '')}")

    async def _ask(self, kind: str) -> Message | None:
        self._to_app.put_nowait({"type": kind})
        item = await self._outbox.get()
        if isinstance(item, _Exit):
            if item.error is not None:
                raise item.error
            return None
        return item


# -- WebSockets ----------------------------------------------------------------------------------------------


def _upgrade_headers(subprotocols: Sequence[str] | None, headers: Mapping[str, str] | None) -> dict[str, str]:
    upgrade = {
        "connection": "upgrade",
        "upgrade": "websocket",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
    }
    if subprotocols:
        upgrade["sec-websocket-protocol"] = ", ".join(subprotocols)
    return {**upgrade, **(headers or {})}


class _WebSocketExchange:
    """One WebSocket conversation with the app, which runs as a task. Every method runs on the app's loop."""

    def __init__(self, server: _Server, scope: Scope) -> None:
        self.app = server.app
        self.scope = scope
        self.raise_errors = server.raise_server_exceptions
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] = []
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message | _Exit] = asyncio.Queue()
        self._task: asyncio.Task[BaseException | None] | None = None
        self._exit: _Exit | None = None
        self._app_close: Message | None = None
        self._accepted = self._client_closed = self._error_raised = False

    async def _app_send(self, message: Message) -> None:
        if self._client_closed and message["type"] == "websocket.send":
            raise _ClientDisconnected("The test client closed the WebSocket")
        if message["type"] == "websocket.close":
            self._app_close = message
        self._outbox.put_nowait(message)

    async def connect(self) -> None:
        """Run the handshake: return once accepted, raise WebSocketDisconnect if refused."""
        app_call = _run_app(self.app, self.scope, self._to_app.get, self._app_send, self._outbox)
        self._task = asyncio.ensure_future(app_call)
        self._to_app.put_nowait({"type": "websocket.connect"})
        try:
            message = await self.receive()
            if message["type"] == "websocket.close":
                raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
            if message["type"] == "websocket.http.response.start":
                raise await self._denial(message)
            if message["type"] != "websocket.accept":
                raise RuntimeError(f"Unexpected ASGI message {message['type']!r} before the handshake")
        except BaseException:
            await _stop_task(self._task)
            raise
        self._accepted = True
        self.accepted_subprotocol = message.get("subprotocol")
        self.extra_headers = list(message.get("headers") or [])

    async def _denial(self, start: Message) -> WebSocketDenialResponse:
        body = []
        while True:
            message = await self.receive()
            if message["type"] != "websocket.http.response.body":
                raise RuntimeError(f"Expected 'websocket.http.response.body', got {message['type']!r}")
            body.append(message.get("body", b""))
            if not message.get("more_body", False):
                return WebSocketDenialResponse(start["status"], list(start.get("headers", [])), b"".join(body))

    async def send(self, message: Message) -> None:
        self._to_app.put_nowait(message)

    async def receive(self) -> Message:
        """The next message the app sent; once the app has returned, raise as a client would see it."""
        if self._exit is None:
            item = await self._outbox.get()
            if not isinstance(item, _Exit):
                return item
            self._exit = item
        raise self._exit_error(self._exit)

    def _exit_error(self, exit: _Exit) -> BaseException:
        if exit.error is not None and self.raise_errors:
            self._error_raised = True
            return exit.error
        if self._app_close is not None:  # receiving again after the app's close: the same close again
            return WebSocketDisconnect(self._app_close.get("code", 1000), self._app_close.get("reason"))
        if not self._accepted:
            return WebSocketDenialResponse(500, [], b"")  # as uvicorn answers a handshake the app never completed
        return WebSocketDisconnect(1011 if exit.error is not None else 1000)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        if not self._client_closed:
            self._client_closed = True
            self._to_app.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason or ""})

    async def finish(self, raise_app_error: bool) -> None:
        """The session ends: close if still open, let the app finish, re-raise an error it has not yet shown."""
        await self.close(1000)
        task = self._task
        await _stop_task(task)
        error = task.result() if task is not None and not task.cancelled() else None
        if error is not None and raise_app_error and self.raise_errors and not self._error_raised:
            self._error_raised = True
            raise error


def _data_message(data: str | bytes) -> Message:
    if isinstance(data, str):
        return {"type": "websocket.receive", "text": data}
    return {"type": "websocket.receive", "bytes": data}


def _json_message(data: Any, mode: str) -> Message:
    encoded = dumps(data)
    return _data_message(encoded.decode("utf-8") if mode == "text" else encoded)


def _payload(message: Message, key: str) -> Any:
    if message["type"] == "websocket.close":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    value = message.get(key)
    if value is None:
        other = "bytes" if key == "text" else "text"
        raise RuntimeError(f"Expected a {key} message, got {other}")
    return value


def _json_payload(message: Message, mode: str) -> Any:
    return loads(_payload(message, "text" if mode == "text" else "bytes"))


class WebSocketTestSession:
    """A WebSocket conversation from a synchronous test: ``with client.websocket_connect("/ws") as ws:``.

    Entering runs the handshake (``WebSocketDisconnect`` or ``WebSocketDenialResponse`` if the app refuses);
    ``receive_*`` raise ``WebSocketDisconnect`` (with ``code`` and ``reason``) once the app closes; leaving closes
    the connection with 1000 and re-raises an exception the app raised (with ``raise_server_exceptions``).
    """

    def __init__(self, exchange: _WebSocketExchange, loop: _LoopThread) -> None:
        self._exchange = exchange
        self._loop = loop

    def __enter__(self) -> Self:
        self._loop.call(self._exchange.connect)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._loop.call(self._exchange.finish, exc_type is None)

    @property
    def accepted_subprotocol(self) -> str | None:
        return self._exchange.accepted_subprotocol

    @property
    def extra_headers(self) -> list[tuple[bytes, bytes]]:
        return self._exchange.extra_headers

    def send(self, message: Message) -> None:
        self._loop.call(self._exchange.send, message)

    def send_text(self, data: str) -> None:
        self.send(_data_message(data))

    def send_bytes(self, data: bytes) -> None:
        self.send(_data_message(data))

    def send_json(self, data: Any, mode: str = "text") -> None:
        self.send(_json_message(data, mode))

    def receive(self) -> Message:
        return self._loop.call(self._exchange.receive)

    def receive_text(self) -> str:
        return _payload(self.receive(), "text")  # type: ignore[no-any-return]

    def receive_bytes(self) -> bytes:
        return _payload(self.receive(), "bytes")  # type: ignore[no-any-return]

    def receive_json(self, mode: str = "text") -> Any:
        return _json_payload(self.receive(), mode)

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        self._loop.call(self._exchange.close, code, reason)


class AsyncWebSocketTestSession:
    """The async twin of :class:`WebSocketTestSession`: ``async with client.websocket_connect("/ws") as ws:``."""

    def __init__(self, exchange: _WebSocketExchange) -> None:
        self._exchange = exchange

    async def __aenter__(self) -> Self:
        await self._exchange.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._exchange.finish(exc_type is None)

    @property
    def accepted_subprotocol(self) -> str | None:
        return self._exchange.accepted_subprotocol

    @property
    def extra_headers(self) -> list[tuple[bytes, bytes]]:
        return self._exchange.extra_headers

    async def send(self, message: Message) -> None:
        await self._exchange.send(message)

    async def send_text(self, data: str) -> None:
        await self.send(_data_message(data))

    async def send_bytes(self, data: bytes) -> None:
        await self.send(_data_message(data))

    async def send_json(self, data: Any, mode: str = "text") -> None:
        await self.send(_json_message(data, mode))

    async def receive(self) -> Message:
        return await self._exchange.receive()

    async def receive_text(self) -> str:
        return _payload(await self.receive(), "text")  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        return _payload(await self.receive(), "bytes")  # type: ignore[no-any-return]

    async def receive_json(self, mode: str = "text") -> Any:
        return _json_payload(await self.receive(), mode)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        await self._exchange.close(code, reason)


# -- the sync client's event loop ----------------------------------------------------------------------------


class _LoopThread:
    """A private event loop on a daemon thread, started on first use.

    ``stop()`` cancels what is left, shuts the loop down (async generators, default executor) and joins the
    thread; the next call starts a fresh one. Whoever holds this object (the client, a response stream, a
    WebSocket session) keeps the loop usable; once nothing does, a finalizer stops it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def call(self, func: Callable[..., Coroutine[Any, Any, _T]], *args: Any) -> _T:
        """Run ``func(*args)`` on the loop and wait for its result (or exception)."""
        loop = self._start()
        if threading.current_thread() is self._thread:
            raise RuntimeError("TestClient was called from inside the app's own event loop; use AsyncTestClient")
        return asyncio.run_coroutine_threadsafe(func(*args), loop).result()

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                ready: concurrent.futures.Future[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]
                ready = concurrent.futures.Future()
                thread = threading.Thread(target=_serve_loop, args=(ready,), name="ketch-testclient", daemon=True)
                thread.start()
                loop, stopped = ready.result()
                self._loop, self._thread = loop, thread
                # The finalizer holds what it needs to stop the thread, never this object.
                self._finalizer = weakref.finalize(self, _stop_loop, loop, stopped, thread)
            return self._loop

    def stop(self) -> None:
        """Stop the loop and join its thread (idempotent)."""
        with self._lock:
            finalizer, self._finalizer = self._finalizer, None
            self._loop = self._thread = None
        if finalizer is not None:
            finalizer()


def _serve_loop(ready: concurrent.futures.Future[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]) -> None:
    async def serve() -> None:
        stopped = asyncio.get_running_loop().create_future()
        ready.set_result((asyncio.get_running_loop(), stopped))
        await stopped

    with asyncio.Runner() as runner:
        runner.run(serve())


def _stop_loop(loop: asyncio.AbstractEventLoop, stopped: asyncio.Future[None], thread: threading.Thread) -> None:
    if loop.is_closed():
        return
    loop.call_soon_threadsafe(stopped.set_result, None)
    if thread is threading.current_thread():
        return  # collected on its own thread: it stops once this callback returns
    thread.join(_JOIN_TIMEOUT)
    if thread.is_alive():
        warnings.warn(
            "The test client's event loop did not stop: the app ignores cancellation", ResourceWarning, stacklevel=2
        )


# -- the clients ---------------------------------------------------------------------------------------------


class TestClient(httpx.Client):
    """A synchronous ``httpx.Client`` that calls an ASGI app in-process.

    Use it as ``client = TestClient(app)`` (no lifespan; ketch plans its routes on the first request) or as
    ``with TestClient(app) as client:`` to run the lifespan protocol: start-up on enter (a failure raises
    ``RuntimeError`` there), shutdown on exit, and the lifespan state in every request's ``request.state``.

    Args:
        app: the ASGI app.
        base_url: the URL relative request paths are joined to.
        raise_server_exceptions: re-raise an exception from the app in the test instead of returning a 500.
        root_path: the ASGI ``root_path``, as a server started with ``--root-path`` sets it.
        backend: only ``"asyncio"`` (ketch runs on asyncio).
        cookies: cookies to start with; cookies the app sets persist across requests.
        headers: default request headers (``user-agent: testclient`` unless given).
        follow_redirects: follow redirects (default True, as Starlette's TestClient).
        client: the ``(host, port)`` the app sees as ``request.client``.
    """

    __test__ = False

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        backend: str = "asyncio",
        cookies: httpx.Cookies | dict[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.app = app
        self._server = _Server(app, root_path, client, raise_server_exceptions, backend)
        self._loop = _LoopThread()
        self._lifespan: _Lifespan | None = None
        transport = _SyncTransport(self._server, self._loop)
        super().__init__(**_client_options(base_url, cookies, headers, follow_redirects), transport=transport)

    def __enter__(self) -> Self:
        if self._lifespan is not None:
            raise RuntimeError("This TestClient is already inside a `with` block")
        lifespan = _Lifespan(self.app)
        try:
            self._loop.call(lifespan.startup)
        except BaseException:
            self._loop.stop()
            raise
        self._lifespan = lifespan
        self._server.state = lifespan.state
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        self._server.state = None
        try:
            if lifespan is not None:
                self._loop.call(lifespan.shutdown, exc_type is None)
        finally:
            self._loop.stop()

    def close(self) -> None:
        """Close the client and stop its event loop thread."""
        self._loop.stop()
        super().close()

    def websocket_connect(
        self, url: str, subprotocols: Sequence[str] | None = None, headers: Mapping[str, str] | None = None
    ) -> WebSocketTestSession:
        """A WebSocket session with the app at ``url``; use it with ``with``.

        The handshake carries the client's default headers and cookies plus ``headers``; ``subprotocols`` is
        offered in ``Sec-WebSocket-Protocol`` and appears in ``scope["subprotocols"]``.
        """
        request = self.build_request("GET", url, headers=_upgrade_headers(subprotocols, headers))
        exchange = _WebSocketExchange(self._server, self._server.websocket_scope(request, subprotocols))
        return WebSocketTestSession(exchange, self._loop)


class AsyncTestClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that calls an ASGI app in the caller's event loop.

    ``async with AsyncTestClient(app) as client:`` runs the lifespan protocol around the block; the arguments
    are those of :class:`TestClient`.
    """

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        backend: str = "asyncio",
        cookies: httpx.Cookies | dict[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.app = app
        self._server = _Server(app, root_path, client, raise_server_exceptions, backend)
        self._lifespan: _Lifespan | None = None
        transport = _AsyncTransport(self._server)
        super().__init__(**_client_options(base_url, cookies, headers, follow_redirects), transport=transport)

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        lifespan = _Lifespan(self.app)
        try:
            await lifespan.startup()
        except BaseException:
            await self.aclose()
            raise
        self._lifespan = lifespan
        self._server.state = lifespan.state
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        self._server.state = None
        try:
            if lifespan is not None:
                await lifespan.shutdown(exc_type is None)
        finally:
            await super().__aexit__(exc_type, exc_value, traceback)

    def websocket_connect(
        self, url: str, subprotocols: Sequence[str] | None = None, headers: Mapping[str, str] | None = None
    ) -> AsyncWebSocketTestSession:
        """An async WebSocket session with the app at ``url``; use it with ``async with``."""
        request = self.build_request("GET", url, headers=_upgrade_headers(subprotocols, headers))
        return AsyncWebSocketTestSession(
            _WebSocketExchange(self._server, self._server.websocket_scope(request, subprotocols))
        )


def _client_options(
    base_url: str, cookies: httpx.Cookies | dict[str, str] | None, headers: Mapping[str, str] | None, follow: bool
) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "cookies": cookies,
        "headers": {"user-agent": "testclient", **(headers or {})},
        "follow_redirects": follow,
    }
