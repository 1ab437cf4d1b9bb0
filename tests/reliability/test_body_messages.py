"""Reliability battery, body messages: nothing that calls ``receive()`` on the app's behalf drops the body.

A streaming response's disconnect watcher and ``Request.is_disconnected()`` both read ``receive()`` without
wanting the body; what they get is parked in the request's inbox for the app's next body read, in order, and a
parked disconnect stays for whoever asks next. The clients here upload in several chunks with small pauses
between them, and two kinds of server are played: one whose ``receive()`` waits for the next chunk itself
(uvicorn-like) and one that queues chunks as they arrive (hypercorn-like). Both answer a disconnect once the
response is complete, and both would split the chunks between two concurrent ``receive()`` callers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from ketch import Ketch, Request, Response, StreamingResponse
from ketch.exceptions import ClientDisconnect
from ketch.middleware.base import CallNext
from ketch.requests import INBOX, READ_AHEAD, Inbox
from ketch.testclient import TestClient
from ketch.types import Message

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(10)]

CHUNKS = [f"{index:02d}:".encode() + b"x" * (index % 7) for index in range(30)]
BODY = b"".join(CHUNKS)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def http_scope(path: str = "/echo", method: str = "POST") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


class Client:
    """One client talking to the app: uploads ``chunks`` with ``pause`` seconds before each, records the response.

    After ``leave_after`` body messages of the response, or right after its last chunk if ``leave_mid_body``
    (the upload then never ends), the client disconnects; like a server before ASGI 2.4, ``send()`` then drops
    what it is given. ``in_flight`` counts concurrent ``receive()`` calls (the app must never make two).
    """

    def __init__(
        self,
        chunks: list[bytes],
        *,
        server: str = "paced",
        pause: float = 0.001,
        leave_after: int | None = None,
        leave_mid_body: bool = False,
    ) -> None:
        self.chunks = list(chunks)
        self.server = server
        self.pause = pause
        self.leave_after = leave_after
        self.leave_mid_body = leave_mid_body
        self.sent: list[Message] = []
        self.gone = asyncio.Event()  # the response is complete or the client left: receive() says disconnect
        self.in_flight = self.most_in_flight = self.calls = self.dropped = 0
        self.left = False
        self._queue: asyncio.Queue[Message] = asyncio.Queue()
        self._producer: asyncio.Task[None] | None = None

    async def receive(self) -> Message:
        self.calls += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.server == "queued":
                if self._producer is None:
                    self._producer = asyncio.ensure_future(self._produce())
                return await self._queue.get()
            return await self._paced()
        finally:
            self.in_flight -= 1

    async def _paced(self) -> Message:
        # Like uvicorn: the chunk is taken only once it is there, so a cancelled receive() loses nothing.
        if self.chunks and not self.gone.is_set():
            await asyncio.sleep(self.pause)
            chunk = self.chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks) or self.leave_mid_body}
        if self.leave_mid_body:
            self.leave()
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def _produce(self) -> None:
        while self.chunks:
            await asyncio.sleep(self.pause)
            chunk = self.chunks.pop(0)
            more = bool(self.chunks) or self.leave_mid_body
            self._queue.put_nowait({"type": "http.request", "body": chunk, "more_body": more})
        if self.leave_mid_body:
            self.leave()
        await self.gone.wait()
        self._queue.put_nowait({"type": "http.disconnect"})

    def leave(self) -> None:
        self.left = True
        self.gone.set()

    async def send(self, message: Message) -> None:
        assert not self.complete, f"sent after the response was complete: {message}"
        if self.left:
            self.dropped += 1
            return
        self.sent.append(message)
        if self.complete:
            self.gone.set()
        elif self.leave_after is not None and len(self.body_messages) >= self.leave_after:
            self.leave()

    @property
    def body_messages(self) -> list[Message]:
        return [m for m in self.sent if m["type"] == "http.response.body"]

    @property
    def complete(self) -> bool:
        return any(not m.get("more_body", False) for m in self.body_messages)

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.body_messages)

    async def close(self) -> None:
        if self._producer is not None:
            self._producer.cancel()
            await asyncio.gather(self._producer, return_exceptions=True)


async def run(app: Any, client: Client, scope: dict[str, Any] | None = None) -> None:
    try:
        await asyncio.wait_for(app(scope or http_scope(), client.receive, client.send), 5)
    finally:
        await client.close()


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def echo_app(*, pause_between: bool = False) -> Ketch:
    app = Ketch()

    @app.post("/echo")
    async def echo(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            async for chunk in request.stream():
                yield chunk
                if pause_between:
                    await asyncio.sleep(0.002)

        return StreamingResponse(body(), media_type="application/octet-stream")

    return app


# -- the disconnect watcher of a streaming response ------------------------------------------------------------


@pytest.mark.parametrize("server", ["paced", "queued"])
@pytest.mark.parametrize("pause_between", [False, True], ids=["eager-reader", "slow-reader"])
async def test_echo_stream_returns_every_chunk_in_order(server: str, pause_between: bool) -> None:
    client = Client(CHUNKS, server=server)
    await run(echo_app(pause_between=pause_between), client)
    assert client.complete
    assert client.body == BODY
    assert client.most_in_flight == 1  # the watcher never raced the body reader with a second receive()


async def test_echo_stream_of_a_body_that_was_all_there_at_once() -> None:
    client = Client(CHUNKS, pause=0)
    await run(echo_app(), client)
    assert (client.body, client.most_in_flight) == (BODY, 1)


def test_echo_stream_through_the_test_client() -> None:
    def upload() -> Iterator[bytes]:
        yield from CHUNKS

    big = bytes(range(256)) * 1000  # several of the test client's 64 KiB messages
    with TestClient(echo_app()) as client:
        assert client.post("/echo", content=upload()).content == BODY
        assert client.post("/echo", content=big).content == big


async def test_echo_stream_of_a_raw_generator_over_request_stream() -> None:
    app = Ketch()

    @app.post("/echo")
    async def echo(request: Request) -> StreamingResponse:
        return StreamingResponse(request.stream())

    client = Client(CHUNKS, server="queued")
    await run(app, client)
    assert client.body == BODY


@pytest.mark.parametrize("server", ["paced", "queued"])
async def test_disconnect_mid_upload_stops_the_echo_quietly(server: str, caplog: pytest.LogCaptureFixture) -> None:
    closed: list[bool] = []
    app = Ketch()

    @app.post("/echo")
    async def echo(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in request.stream():
                    yield chunk
            finally:
                closed.append(True)

        return StreamingResponse(body())

    client = Client(CHUNKS[:5], server=server, leave_mid_body=True)
    await run(app, client)
    assert closed == [True]
    assert not client.complete  # never claims a complete response after the client left
    uploaded = b"".join(CHUNKS[:5])
    # What came before the client left was echoed in order (the last chunk may have met a closed connection).
    assert uploaded.startswith(client.body) and len(client.body) >= len(uploaded) - len(CHUNKS[4])
    assert error_records(caplog) == []  # a client leaving is not a server error


@pytest.mark.parametrize("server", ["paced", "queued"])
async def test_disconnect_after_the_upload_still_stops_an_endless_stream(server: str) -> None:
    seen: list[bool] = []
    app = Ketch()

    @app.post("/echo")
    async def echo(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in request.stream():
                    yield chunk
                while True:
                    yield b"."
                    await asyncio.sleep(0.001)
            finally:
                seen.append(await request.is_disconnected())  # the watcher's parked disconnect, seen here

        return StreamingResponse(body())

    client = Client(CHUNKS, server=server, leave_after=len(CHUNKS) + 5)
    await run(app, client)
    assert seen == [True]  # closed, and the disconnect the watcher parked is seen by whoever asks
    assert client.left and not client.complete
    assert client.body.startswith(BODY)
    assert client.body[len(BODY) :] == b"." * (len(client.body) - len(BODY))


async def test_a_body_the_stream_ignores_is_parked_not_dropped() -> None:
    # The generator streams first and reads the body late: the watcher has parked what arrived meanwhile.
    app = Ketch()

    @app.post("/late")
    async def late(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for _ in range(5):
                yield b"-"
                await asyncio.sleep(0.01)  # the upload (30 chunks, 1 ms apart) is over by now
            yield await request.body()

        return StreamingResponse(body())

    client = Client(CHUNKS)
    await run(app, client, http_scope("/late"))
    assert client.body == b"-----" + BODY
    assert client.most_in_flight == 1


async def test_the_watcher_reads_at_most_read_ahead_bytes_of_an_ignored_body() -> None:
    chunk = b"u" * 4096
    chunks = [chunk] * (2 * READ_AHEAD // len(chunk))
    parked: list[int] = []

    async def endless_ticks(scope: dict[str, Any]) -> AsyncIterator[bytes]:
        inbox: Inbox = scope[INBOX]
        for _ in range(30):
            yield b"."
            parked.append(inbox.size)
            await asyncio.sleep(0.002)
        # The app reads the body at last: all of it, in order, although the watcher had paused.
        yield str(len(b"".join([m async for m in Request(scope, client.receive).stream()]))).encode()

    client = Client(chunks, pause=0)
    scope = http_scope()
    await asyncio.wait_for(StreamingResponse(endless_ticks(scope))(scope, client.receive, client.send), 5)
    assert max(parked) <= READ_AHEAD + len(chunk)  # never more than the read-ahead (plus the chunk that crossed)
    assert max(parked) >= READ_AHEAD
    assert client.body == b"." * 30 + str(len(chunk) * len(chunks)).encode()


# -- Request.is_disconnected() -----------------------------------------------------------------------------------


async def test_is_disconnected_then_body_returns_the_full_body() -> None:
    client = Client(CHUNKS, pause=0)
    request = Request(http_scope(), client.receive)
    for _ in range(3):
        assert await request.is_disconnected() is False
    assert client.calls >= 3  # each poll took a chunk off the wire...
    assert await request.body() == BODY  # ...and the body still has it, in order


async def test_is_disconnected_between_chunks_of_a_stream() -> None:
    client = Client(CHUNKS, server="queued")
    request = Request(http_scope(), client.receive)
    received = []
    async for chunk in request.stream():
        received.append(chunk)
        assert await request.is_disconnected() is False
        await asyncio.sleep(0.002)  # the next chunk arrives while nobody reads: the next poll parks it
    assert received == CHUNKS


def test_is_disconnected_then_body_through_the_test_client() -> None:
    app = Ketch()

    @app.post("/check-then-read")
    async def check_then_read(request: Request) -> Response:
        assert not await request.is_disconnected()
        return Response(await request.body())

    big = bytes(range(256)) * 1000
    with TestClient(app) as client:
        assert client.post("/check-then-read", content=big).content == big


def test_is_disconnected_in_middleware_keeps_the_body_for_the_endpoint() -> None:
    app = Ketch()

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        return Response(await request.body())

    @app.middleware("http")
    async def reads_then_polls(request: Request, call_next: CallNext) -> Response:
        await request.body()  # the endpoint gets it replayed
        assert not await request.is_disconnected()
        return await call_next(request)

    @app.middleware("http")
    async def polls(request: Request, call_next: CallNext) -> Response:
        assert not await request.is_disconnected()  # parks a chunk in the scope's inbox, shared downstream
        return await call_next(request)

    big = bytes(range(256)) * 1000
    with TestClient(app) as client:
        assert client.post("/echo", content=big).content == big


async def test_is_disconnected_is_true_after_a_parked_disconnect() -> None:
    # One chunk, then the client leaves; this receive() says so only once, as a server may.
    messages: list[Message] = [
        {"type": "http.request", "body": b"partial", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    scope = http_scope()
    first = Request(scope, receive)
    assert await first.is_disconnected() is False  # parked the chunk
    assert await first.is_disconnected() is True  # parked the disconnect
    assert await first.is_disconnected() is True
    later = Request(scope, receive)  # another layer's request on the same scope sees it too
    assert await later.is_disconnected() is True
    chunks = []
    with pytest.raises(ClientDisconnect):
        async for chunk in later.stream():
            chunks.append(chunk)
    assert chunks == [b"partial"]  # the body that came first is still delivered first


async def test_a_poll_that_hears_nothing_leaves_receive_alone() -> None:
    client = Client([b"late"], pause=0.05)
    request = Request(http_scope(), client.receive)
    assert await request.is_disconnected() is False
    assert client.in_flight == 0  # the unanswered receive() was stopped, not left running
    assert await request.body() == b"late"


async def test_a_failing_receive_fails_the_reader_not_silently() -> None:
    request = Request(http_scope())  # no receive channel
    with pytest.raises(RuntimeError, match="Receive channel"):
        await request.is_disconnected()
    with pytest.raises(RuntimeError, match="Receive channel"):
        await request.body()
