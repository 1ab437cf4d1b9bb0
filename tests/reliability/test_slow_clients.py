"""Reliability battery, slow clients (RELIABILITY G7): a body that stops arriving, idle and pipelining connections.

ketch owns one timeout, ``Limits.body_timeout``: the longest wait for the next chunk of a body it is reading. Past
it the request is answered 408 with ``Connection: close`` before the endpoint sees half a body. Header and
keep-alive timeouts belong to the server. The first half drives the app in-process with hand-built ``receive()``
callables; the second serves it with ``ketch run`` (uvicorn) on 127.0.0.1 and talks to it over raw sockets.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any

import httpx
import pytest
from pydantic import BaseModel

from ketch import Form, Ketch, Limits, Request, Router
from ketch.globals import request as classic_request
from ketch.requests import INBOX
from ketch.testclient import TestClient
from ketch.types import Message

TIMEOUT = 0.2  # the body_timeout of the in-process apps, seconds


def http_scope(path: str, content_type: str = "application/json", length: int = 100) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", content_type.encode()),
            (b"content-length", str(length).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


class Client:
    """Sends ``chunks`` with ``pause`` seconds before each but the first; ``stall`` then waits forever (the body
    is never finished). Like uvicorn's, a cancelled ``receive()`` loses nothing."""

    def __init__(self, chunks: list[bytes], *, pause: float = 0.0, stall: bool = False) -> None:
        self.chunks = list(chunks)
        self.pause = pause
        self.stall = stall
        self.sent: list[Message] = []
        self.calls = 0
        self.cancelled = 0

    async def receive(self) -> Message:
        self.calls += 1
        try:
            if self.calls > 1 and self.chunks:
                await asyncio.sleep(self.pause)
            if self.chunks:
                chunk = self.chunks.pop(0)
                return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks) or self.stall}
            await asyncio.Event().wait()  # stalled (a finished body is never asked for again)
            raise AssertionError("unreachable")
        except asyncio.CancelledError:
            self.cancelled += 1
            raise

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


async def call(app: Any, client: Client, scope: dict[str, Any], within: float = 5) -> float:
    """Run one request; how long it took."""
    started = time.monotonic()
    await asyncio.wait_for(app(scope, client.receive, client.send), within)
    return time.monotonic() - started


# -- in-process: the apps --------------------------------------------------------------------------------------


class Item(BaseModel):
    name: str
    price: float


def typed_app(ran: list[str], **kwargs: Any) -> Ketch:
    app = Ketch(limits=Limits(body_timeout=TIMEOUT), **kwargs)

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        body = await request.body()
        ran.append("raw")
        return {"received": len(body)}

    @app.post("/stream")
    async def stream(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        ran.append("stream")
        return {"received": size}

    @app.post("/json")
    async def json_body(request: Request) -> Any:
        data = await request.json()
        ran.append("json")
        return data

    @app.post("/item")
    async def item(item: Item) -> Item:
        ran.append("item")
        return item

    @app.post("/form")
    async def form(name: Annotated[str, Form()]) -> dict[str, str]:
        ran.append("form")
        return {"name": name}

    @app.post("/watched")
    async def watched(request: Request) -> dict[str, int]:
        assert not await request.is_disconnected()  # the body is now read through the request's inbox
        body = await request.body()
        ran.append("watched")
        return {"received": len(body)}

    return app


def classic_app(ran: list[str]) -> Ketch:
    app = Ketch(__name__, limits=Limits(body_timeout=TIMEOUT))
    app.config.update(SECRET_KEY="x", CSRF_ENABLED=False)

    @app.route("/form", methods=["POST"])
    def form() -> str:
        ran.append("form")
        return str(classic_request.form["name"])

    @app.route("/data", methods=["POST"])
    def data() -> str:
        ran.append("data")
        return str(len(classic_request.get_data()))

    return app


TYPED_CASES = [
    ("/raw", "application/octet-stream", b"0123456789"),
    ("/stream", "application/octet-stream", b"0123456789"),
    ("/json", "application/json", b'{"name": "a'),
    ("/item", "application/json", b'{"name": "a'),
    ("/form", "application/x-www-form-urlencoded", b"name=ad"),
    ("/form", "multipart/form-data; boundary=xyz", b'--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nad'),
    ("/watched", "application/octet-stream", b"0123456789"),
]
CLASSIC_CASES = [
    ("/form", "application/x-www-form-urlencoded", b"name=ad"),
    ("/form", "multipart/form-data; boundary=xyz", b'--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nad'),
    ("/data", "application/octet-stream", b"0123456789"),
]


# -- in-process: a body that stops ------------------------------------------------------------------------------


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("path", "content_type", "first"), TYPED_CASES)
def test_typed_face_answers_408_when_the_body_stops(path: str, content_type: str, first: bytes) -> None:
    ran: list[str] = []
    client = Client([first], stall=True)
    took = asyncio.run(call(typed_app(ran), client, http_scope(path, content_type)))
    assert client.status == 408
    assert json.loads(client.body) == {"detail": "Timed out waiting for the request body: no data for 0.2 s"}
    assert client.headers[b"connection"] == b"close"  # the rest of the body may still come: never reuse
    assert TIMEOUT <= took < TIMEOUT + 1
    assert ran == []  # the endpoint never ran on half a body
    assert client.cancelled == 1  # the waiting receive() was cancelled, not left behind


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("path", "content_type", "first"), CLASSIC_CASES)
def test_classic_face_answers_its_408_page_when_the_body_stops(path: str, content_type: str, first: bytes) -> None:
    ran: list[str] = []
    client = Client([first], stall=True)
    took = asyncio.run(call(classic_app(ran), client, http_scope(path, content_type)))
    assert client.status == 408
    assert client.headers[b"content-type"].startswith(b"text/html")
    assert b"<title>408 Request Timeout</title>" in client.body
    assert b"Timed out waiting for the request body" in client.body
    assert client.headers[b"connection"] == b"close"
    assert TIMEOUT <= took < TIMEOUT + 1
    assert ran == []


@pytest.mark.timeout(10)
def test_a_body_that_never_starts_times_out_too() -> None:
    ran: list[str] = []
    client = Client([], stall=True)  # headers, then nothing
    asyncio.run(call(typed_app(ran), client, http_scope("/raw")))
    assert (client.status, ran) == (408, [])


# -- in-process: slow but steady bodies -------------------------------------------------------------------------


@pytest.mark.timeout(10)
@pytest.mark.parametrize("path", ["/raw", "/stream", "/watched"])
def test_a_slow_but_steady_body_is_read_whole(path: str) -> None:
    # Ten chunks 0.05 s apart: the whole body takes more than body_timeout, no gap does.
    chunks = [bytes([65 + index]) * 10 for index in range(10)]
    ran: list[str] = []
    client = Client(chunks, pause=TIMEOUT / 4)
    took = asyncio.run(call(typed_app(ran), client, http_scope(path, "application/octet-stream")))
    assert (client.status, json.loads(client.body)) == (200, {"received": 100})
    assert took > TIMEOUT
    assert ran == [path.strip("/")]


@pytest.mark.timeout(10)
def test_a_slow_json_body_and_form_are_parsed_whole() -> None:
    ran: list[str] = []
    body = b'{"name": "lamp", "price": 12.5}'
    client = Client([body[i : i + 5] for i in range(0, len(body), 5)], pause=TIMEOUT / 4)
    asyncio.run(call(typed_app(ran), client, http_scope("/item", length=len(body))))
    assert (client.status, json.loads(client.body)) == (200, {"name": "lamp", "price": 12.5})

    client = Client([b"name=", b"ada", b"+love", b"lace"], pause=TIMEOUT / 4)
    asyncio.run(call(typed_app(ran), client, http_scope("/form", "application/x-www-form-urlencoded", 17)))
    assert (client.status, json.loads(client.body)) == (200, {"name": "ada lovelace"})

    client = Client([b"name=", b"ada"], pause=TIMEOUT / 4)
    asyncio.run(call(classic_app(ran), client, http_scope("/form", "application/x-www-form-urlencoded", 8)))
    assert (client.status, client.body) == (200, b"ada")
    assert ran == ["item", "form", "form"]


# -- in-process: settings ---------------------------------------------------------------------------------------


@pytest.mark.timeout(10)
def test_body_timeout_none_waits() -> None:
    ran: list[str] = []
    app = Ketch(limits=Limits(body_timeout=None))

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        body = await request.body()
        ran.append("raw")
        return {"received": len(body)}

    client = Client([b"0123456789"], stall=True)
    with pytest.raises(TimeoutError):  # the test's own bound, not the app's
        asyncio.run(call(app, client, http_scope("/raw"), within=TIMEOUT * 3))
    assert (client.sent, ran) == ([], [])


@pytest.mark.timeout(10)
def test_body_timeout_per_router_and_route() -> None:
    app = Ketch(limits=Limits(body_timeout=30))  # long: a stall here would hold the test past its bound
    patient = Router(prefix="/patient", limits={"body_timeout": None})
    brisk = Router(prefix="/brisk", limits={"body_timeout": TIMEOUT})

    @brisk.post("/read")
    async def brisk_read(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    @brisk.post("/read-slowly", limits=Limits(body_timeout=TIMEOUT * 5))
    async def brisk_read_slowly(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    @patient.post("/read")
    async def patient_read(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    app.include_router(brisk)
    app.include_router(patient)

    def stalled(path: str, within: float = 5) -> tuple[int | None, float]:
        client = Client([b"x"], stall=True)
        started = time.monotonic()
        try:
            asyncio.run(call(app, client, http_scope(path), within=within))
        except TimeoutError:
            return None, time.monotonic() - started
        return client.status, time.monotonic() - started

    status, took = stalled("/brisk/read")
    assert status == 408 and took < TIMEOUT * 4
    status, took = stalled("/brisk/read-slowly")
    assert status == 408 and took >= TIMEOUT * 5
    assert stalled("/patient/read", within=TIMEOUT * 3)[0] is None


@pytest.mark.parametrize("value", [0, -1, 0.0])
def test_body_timeout_must_be_positive(value: float) -> None:
    with pytest.raises(ValueError, match="body_timeout"):
        Limits(body_timeout=value)
    with pytest.raises(ValueError, match="body_timeout"):
        Limits().with_changes(body_timeout=value)


def test_body_timeout_default_is_a_minute() -> None:
    assert Limits().body_timeout == 60


# -- in-process: how the timeout is kept ------------------------------------------------------------------------


def scripted_request(receive: Callable[[], Awaitable[Message]], timeout: float | None = TIMEOUT) -> Request:
    return Request(http_scope("/"), receive, Limits(body_timeout=timeout))


@pytest.mark.timeout(10)
def test_a_chunk_that_is_already_there_arms_no_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    # The hot path: the server had the body before the app asked, so no timer is armed.
    armed: list[float | None] = []
    real = asyncio.timeout

    def counting(delay: float | None) -> Any:
        armed.append(delay)
        return real(delay)

    monkeypatch.setattr(asyncio, "timeout", counting)
    chunks = iter([b"ab", b"cd", b""])

    async def receive() -> Message:
        chunk = next(chunks)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}

    assert asyncio.run(scripted_request(receive).body()) == b"abcd"
    assert armed == []

    async def waits() -> Message:
        await asyncio.sleep(0.001)
        return {"type": "http.request", "body": b"late", "more_body": False}

    assert asyncio.run(scripted_request(waits).body()) == b"late"
    assert armed == [TIMEOUT]


@pytest.mark.timeout(10)
def test_a_receive_that_is_not_a_coroutine_is_timed_too() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[Message] = loop.create_future()
        ready.set_result({"type": "http.request", "body": b"ok", "more_body": False})
        assert await scripted_request(lambda: ready).body() == b"ok"
        never: asyncio.Future[Message] = loop.create_future()
        with pytest.raises(Exception) as caught:
            await scripted_request(lambda: never).body()
        assert getattr(caught.value, "status_code", None) == 408
        assert never.cancelled()

    asyncio.run(main())


@pytest.mark.timeout(10)
def test_a_cancelled_reader_is_cancelled_not_timed_out() -> None:
    async def main() -> None:
        client = Client([b"x"], stall=True)
        reading = asyncio.ensure_future(scripted_request(client.receive, timeout=30).body())
        await asyncio.sleep(0.05)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        assert client.cancelled == 1

    asyncio.run(main())


@pytest.mark.timeout(10)
def test_a_message_that_arrives_while_waiting_is_not_lost() -> None:
    # A read that waits and then gets its chunk returns it, in order, through the inbox too.
    async def main() -> None:
        client = Client([b"one", b"two", b"three"], pause=0.01)
        request = scripted_request(client.receive)
        assert await request.body() == b"onetwothree"
        client = Client([b"one", b"two", b"three"], pause=0.01)
        request = scripted_request(client.receive)
        assert not await request.is_disconnected()
        assert INBOX in request.scope
        assert [chunk async for chunk in request.stream()] == [b"one", b"two", b"three"]

    asyncio.run(main())


@pytest.mark.timeout(20)
def test_many_stalled_bodies_all_time_out_and_leave_nothing_behind() -> None:
    ran: list[str] = []
    app = typed_app(ran)

    async def main() -> list[Client]:
        before = len(asyncio.all_tasks())
        clients = [Client([b"0123456789"], stall=True) for _ in range(200)]
        await asyncio.gather(*(call(app, client, http_scope("/raw")) for client in clients))
        await asyncio.sleep(0)
        assert len(asyncio.all_tasks()) == before
        return clients

    clients = asyncio.run(main())
    gc.collect()
    assert {client.status for client in clients} == {408}
    assert ran == []


# -- served by uvicorn (ketch run) ------------------------------------------------------------------------------

SERVER_TIMEOUT = 1.0  # the served app's body_timeout, seconds

SERVER_APP = f"""
from ketch import Ketch, Limits, Request

app = Ketch(limits=Limits(body_timeout={SERVER_TIMEOUT}))


@app.get("/ping")
async def ping() -> dict[str, bool]:
    return {{"ok": True}}


@app.get("/n/{{number}}")
async def number(number: int) -> dict[str, int]:
    return {{"n": number}}


@app.post("/upload")
async def upload(request: Request) -> dict[str, int]:
    return {{"received": len(await request.body())}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """``ketch run`` on a free port of 127.0.0.1; stopped by its PID, whatever happens."""
    folder = tmp_path_factory.mktemp("slow_clients")
    (folder / "slowapp.py").write_text(textwrap.dedent(SERVER_APP))
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("KETCH_APP", "KETCH_DEBUG")}
    command = [sys.executable, "-m", "ketch", "run", "slowapp:app", "--host", "127.0.0.1", "--port", str(port)]
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def latencies(address: tuple[str, int], count: int) -> list[float]:
    """Seconds per GET for ``count`` GETs on one keep-alive connection."""
    times: list[float] = []
    with httpx.Client(base_url=f"http://{address[0]}:{address[1]}", timeout=5) as client:
        for _ in range(count):
            started = time.perf_counter()
            response = client.get("/ping")
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
    return times


def p99(times: list[float]) -> float:
    return sorted(times)[int(len(times) * 0.99) - 1]


@pytest.mark.timeout(30)
def test_served_stalled_upload_gets_408_and_others_are_answered_promptly(server: tuple[str, int]) -> None:
    stalled = [connect(server) for _ in range(20)]
    trickling = [connect(server) for _ in range(20)]  # headers at a few bytes at a time: the server's business
    try:
        started = time.monotonic()
        head = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
        for sock in stalled:
            sock.sendall(head + b"0123456789")
        for sock in trickling:
            sock.sendall(b"GET /pi")
        times = latencies(server, 100)  # while every stalled body is waiting for its next chunk
        assert time.monotonic() - started < SERVER_TIMEOUT, "too slow to measure while the bodies stall"
        assert p99(times) < 0.1, sorted(times)[-5:]
        for sock in stalled:
            answer = read_until_closed(sock)  # 408, then the server closes the connection
            assert answer.startswith(b"HTTP/1.1 408 "), answer
            assert b"\r\nconnection: close\r\n" in answer.lower()
            assert answer.endswith(b'{"detail":"Timed out waiting for the request body: no data for 1 s"}')
        took = time.monotonic() - started
        assert SERVER_TIMEOUT <= took < SERVER_TIMEOUT + 3
    finally:
        for sock in stalled + trickling:
            sock.close()
    assert latencies(server, 5)  # still serving


@pytest.mark.timeout(30)
def test_served_idle_keep_alive_connections_do_not_stop_others(server: tuple[str, int]) -> None:
    idle: list[socket.socket] = []
    try:
        for _ in range(100):
            sock = connect(server)
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            idle.append(sock)
        for sock in idle:
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")  # answered, now idle on keep-alive
        idle += [connect(server) for _ in range(100)]  # and 100 that never send a byte
        times = latencies(server, 100)
        assert p99(times) < 0.1, sorted(times)[-5:]
    finally:
        for sock in idle:
            sock.close()


@pytest.mark.timeout(30)
def test_served_pipelined_requests_are_answered_in_order(server: tuple[str, int]) -> None:
    count = 50
    requests = b"".join(f"GET /n/{index} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for index in range(count))
    requests += b"GET /n/999 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with connect(server) as sock:
        sock.sendall(requests)
        answer = read_until_closed(sock)
    bodies = [json.loads(part.split(b"\r\n\r\n", 1)[1]) for part in answer.split(b"HTTP/1.1 ")[1:]]
    assert answer.count(b"HTTP/1.1 200 ") == count + 1
    assert bodies == [{"n": index} for index in [*range(count), 999]]


@pytest.mark.timeout(30)
def test_served_slow_but_steady_upload_is_read_whole(server: tuple[str, int]) -> None:
    # Twenty bytes every 0.4 s: 2 s in all, twice the body timeout, but never a gap as long as it.
    with connect(server) as sock:
        sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nConnection: close\r\n\r\n")
        for _ in range(5):
            time.sleep(SERVER_TIMEOUT * 0.4)
            sock.sendall(b"01234567890123456789")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b'{"received":100}')


def test_the_docs_example_router_keeps_the_rest_of_the_limits() -> None:
    from docs_src.limits import app

    size = 3 * 1024 * 1024  # over the app's 2 MiB, under the router's 100 MiB
    assert TestClient(app).put("/uploads/video", content=b"x" * size).json() == {"received": size}
