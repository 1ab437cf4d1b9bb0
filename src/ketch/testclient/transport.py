"""HTTP through the test client: one request and its response (:class:`_HTTPExchange`), the request body fed
to the app in chunks, and the httpx transports and response streams of the sync and async clients.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator

import httpx

from ketch.testclient.loop_thread import _LoopThread
from ketch.testclient.server import _Exit, _run_app, _Server, _stop_task
from ketch.types import Message, Scope

__all__: list[str] = []

_Read = Callable[[], Awaitable[bytes | None]]

# How much of a request body one http.request message carries (about what a server reads from a socket).
_REQUEST_CHUNK = 64 * 1024
# Response chunks buffered before the app's send() waits for the test to read (backpressure, bounded memory).
_MAX_UNREAD = 16


# -- request bodies ------------------------------------------------------------------------------------------


def _bytes_reader(data: bytes) -> _Read:
    chunks = iter([data[i : i + _REQUEST_CHUNK] for i in range(0, len(data), _REQUEST_CHUNK)])

    async def read() -> bytes | None:
        return next(chunks, None)

    return read


def _async_reader(stream: AsyncIterable[bytes]) -> _Read:
    iterator = aiter(stream)
    return _resumable(lambda: asyncio.ensure_future(anext(iterator, None)))


def _threaded_reader(stream: Iterable[bytes]) -> _Read:
    # A sync stream (a generator, a file upload) may block: read it off the app's event loop.
    step = functools.partial(next, iter(stream), None)
    return _resumable(lambda: asyncio.get_running_loop().run_in_executor(None, step))


def _resumable(start: Callable[[], asyncio.Future[bytes | None]]) -> _Read:
    """A reader whose read, if the app stops waiting for it (an ``is_disconnected()`` poll that timed out), goes
    on and hands its chunk to the next call: a chunk taken from the stream is never dropped."""
    in_flight: asyncio.Future[bytes | None] | None = None

    async def read() -> bytes | None:
        nonlocal in_flight
        if in_flight is None:
            in_flight = start()
        chunk = await asyncio.shield(in_flight)
        in_flight = None
        return chunk

    return read


def _body_reader(request: httpx.Request, *, is_async: bool) -> _Read:
    try:
        return _bytes_reader(request.content)
    except httpx.RequestNotRead:
        pass
    if is_async:
        return _async_reader(request.stream)  # type: ignore[arg-type]
    return _threaded_reader(request.stream)  # type: ignore[arg-type]


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
        # One chunk of look-ahead tells whether more_body is True. The chunk stays in _pending until the look-ahead
        # is in, so a receive() cancelled meanwhile loses nothing.
        if self._pending is None:
            self._pending = await self._next_body_chunk()
        chunk = self._pending
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
