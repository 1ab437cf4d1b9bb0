"""The test clients: HTTP through httpx to the app in-process, lifespan, WebSockets, streaming, clean-up."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from ketch import (
    HTTPException,
    Ketch,
    PlainTextResponse,
    RedirectResponse,
    Request,
    Response,
    StreamingResponse,
    WebSocket,
    WebSocketDisconnect,
)
from ketch.background import BackgroundTask
from ketch.testclient import AsyncTestClient, TestClient, WebSocketDenialResponse
from ketch.types import Message, Receive, Scope, Send


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ketch-testclient"]


def make_app() -> Ketch:
    app = Ketch()

    @app.get("/scope")
    async def scope_info(request: Request) -> dict[str, Any]:
        scope = request.scope
        return {
            "type": scope["type"],
            "asgi": scope["asgi"]["version"],
            "http_version": scope["http_version"],
            "method": scope["method"],
            "scheme": scope["scheme"],
            "path": scope["path"],
            "raw_path": scope["raw_path"].decode("ascii"),
            "query_string": scope["query_string"].decode("ascii"),
            "root_path": scope["root_path"],
            "client": list(scope["client"]),
            "server": list(scope["server"]),
            "extensions": scope["extensions"],
            "has_state": "state" in scope,
            "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
            "query": dict(request.query_params),
        }

    @app.get("/items/{name}")
    async def item(request: Request, name: str) -> dict[str, str]:
        return {"name": name, "path": request.url.path}

    @app.post("/json")
    async def post_json(request: Request) -> dict[str, Any]:
        return {"received": await request.json()}

    @app.post("/bytes")
    async def post_bytes(request: Request) -> Response:
        body = await request.body()
        return Response(body, media_type="application/octet-stream", headers={"x-length": str(len(body))})

    @app.get("/headers")
    async def headers(request: Request) -> dict[str, str | None]:
        return {"x-token": request.headers.get("x-token"), "user-agent": request.headers.get("user-agent")}

    @app.get("/set-cookie")
    async def set_cookie(request: Request) -> Response:
        response = PlainTextResponse("set")
        response.set_cookie("session", "abc123")
        return response

    @app.get("/read-cookie")
    async def read_cookie(request: Request) -> dict[str, str | None]:
        return {"session": request.cookies.get("session")}

    @app.get("/redirect")
    async def redirect(request: Request) -> Response:
        return RedirectResponse("/items/target")

    @app.get("/boom")
    async def boom(request: Request) -> None:
        raise ValueError("boom")

    @app.get("/teapot")
    async def teapot(request: Request) -> None:
        raise HTTPException(418, "short and stout")

    return app


@pytest.fixture
def client() -> Any:
    with TestClient(make_app()) as c:
        yield c


# -- requests --------------------------------------------------------------------------------------------------


def test_get_json_and_the_scope(client: TestClient) -> None:
    response = client.get("/scope")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "http"
    assert body["asgi"] == "3.0"
    assert body["http_version"] == "1.1"
    assert body["method"] == "GET"
    assert body["scheme"] == "http"
    assert body["path"] == "/scope"
    assert body["root_path"] == ""
    assert body["client"] == ["testclient", 50000]
    assert body["server"] == ["testserver", 80]
    assert body["extensions"] == {}
    headers = dict(body["headers"])
    assert headers["host"] == "testserver"
    assert headers["user-agent"] == "testclient"
    assert all(name == name.lower() for name, _ in body["headers"])


def test_percent_escapes_in_path_and_query(client: TestClient) -> None:
    body = client.get("/scope?q=a%20b&x=%E2%9C%93&amp=1%262").json()
    assert body["query_string"] == "q=a%20b&x=%E2%9C%93&amp=1%262"
    assert body["query"] == {"q": "a b", "x": "\u2713", "amp": "1&2"}
    item = client.get("/items/hello%20world").json()
    assert item == {"name": "hello world", "path": "/items/hello%20world"}


def test_raw_path_keeps_escapes(client: TestClient) -> None:
    assert client.get("/scope", params={"k": "v w"}).json()["query"] == {"k": "v w"}
    response = client.get("/items/a%2Fb")
    # The decoded path has a slash the route pattern cannot match; the raw path still carries %2F.
    assert response.status_code == 404


def test_post_json(client: TestClient) -> None:
    response = client.post("/json", json={"a": [1, 2, {"b": None}], "u": "\u00e9"})
    assert response.status_code == 200
    assert response.json() == {"received": {"a": [1, 2, {"b": None}], "u": "\u00e9"}}


def test_post_bytes_large_body(client: TestClient) -> None:
    payload = bytes(range(256)) * 2000  # 512 000 bytes: several receive() chunks
    response = client.post("/bytes", content=payload)
    assert response.content == payload
    assert response.headers["x-length"] == str(len(payload))
    assert response.headers["content-type"] == "application/octet-stream"


def test_post_streamed_request_body(client: TestClient) -> None:
    def chunks() -> Any:
        yield b"one,"
        yield b""
        yield b"two,"
        yield b"three"

    assert client.post("/bytes", content=chunks()).content == b"one,two,three"


def test_request_body_arrives_in_chunks() -> None:
    messages: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # no lifespan support: the client carries on without it
        while True:
            message = await receive()
            messages.append(message)
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with TestClient(app) as client:
        assert client.post("/", content=b"x" * 150_000).status_code == 204
    assert [len(m["body"]) for m in messages] == [65536, 65536, 150_000 - 131072]
    assert [m["more_body"] for m in messages] == [True, True, False]


def test_headers_reach_the_app(client: TestClient) -> None:
    assert client.get("/headers", headers={"X-Token": "secret"}).json() == {
        "x-token": "secret",
        "user-agent": "testclient",
    }
    with TestClient(make_app(), headers={"x-token": "default"}) as other:
        assert other.get("/headers").json()["x-token"] == "default"


def test_cookies_persist(client: TestClient) -> None:
    assert client.get("/read-cookie").json() == {"session": None}
    response = client.get("/set-cookie")
    assert "session=abc123" in response.headers["set-cookie"]
    assert client.get("/read-cookie").json() == {"session": "abc123"}
    assert client.get("/read-cookie").json() == {"session": "abc123"}


def test_initial_cookies() -> None:
    with TestClient(make_app(), cookies={"session": "given"}) as client:
        assert client.get("/read-cookie").json() == {"session": "given"}


def test_redirects_are_followed_by_default(client: TestClient) -> None:
    response = client.get("/redirect")
    assert response.status_code == 200
    assert response.json() == {"name": "target", "path": "/items/target"}
    assert [r.status_code for r in response.history] == [307]


def test_redirects_can_be_left_alone() -> None:
    with TestClient(make_app(), follow_redirects=False) as client:
        response = client.get("/redirect")
    assert response.status_code == 307
    assert response.headers["location"] == "/items/target"


def test_head_has_no_body() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
        await send({"type": "http.response.body", "body": b"hello"})

    client = TestClient(app)
    response = client.head("/")
    assert response.status_code == 200
    assert response.headers["content-length"] == "5"
    assert response.content == b""
    client.close()


def test_http_exception(client: TestClient) -> None:
    response = client.get("/teapot")
    assert response.status_code == 418
    assert response.json() == {"detail": "short and stout"}


def test_root_path() -> None:
    with TestClient(make_app(), root_path="/api") as client:
        body = client.get("/scope").json()
        assert body["root_path"] == "/api"
        assert body["path"] == "/api/scope"
        assert body["raw_path"] == "/api/scope"
        assert client.get("/items/x").json() == {"name": "x", "path": "/api/items/x"}


def test_client_address_and_base_url() -> None:
    client = TestClient(make_app(), base_url="https://example.org:8443", client=("10.0.0.1", 1234))
    body = client.get("/scope").json()
    assert body["scheme"] == "https"
    assert body["server"] == ["example.org", 8443]
    assert body["client"] == ["10.0.0.1", 1234]
    assert dict(body["headers"])["host"] == "example.org:8443"
    client.close()


def test_background_tasks_finish_before_the_response_returns() -> None:
    app = Ketch()
    done: list[str] = []

    async def later() -> None:
        await asyncio.sleep(0.01)
        done.append("task")

    @app.get("/")
    async def home(request: Request) -> Response:
        return PlainTextResponse("ok", background=BackgroundTask(later))

    with TestClient(app) as client:
        assert client.get("/").text == "ok"
        assert done == ["task"]


def test_concurrent_requests_from_threads() -> None:
    app = Ketch()

    @app.get("/slow/{n:int}")
    async def slow(request: Request, n: int) -> dict[str, int]:
        await asyncio.sleep(0.05)
        return {"n": n}

    with TestClient(app) as client, ThreadPoolExecutor(10) as pool:
        started = time.monotonic()
        results = list(pool.map(lambda n: client.get(f"/slow/{n}").json()["n"], range(20)))
        elapsed = time.monotonic() - started
    assert results == list(range(20))
    assert elapsed < 0.8  # they ran concurrently on the one loop, not one after another (20 x 50 ms)


def test_calling_the_sync_client_from_the_apps_own_loop_fails_fast() -> None:
    app = Ketch()
    client = TestClient(app)

    @app.get("/outer")
    async def outer(request: Request) -> dict[str, int]:
        return {"inner": client.get("/inner").status_code}  # would deadlock the loop: refused instead

    with pytest.raises(RuntimeError, match="AsyncTestClient"):
        client.get("/outer")
    client.close()


def test_backend_must_be_asyncio() -> None:
    with pytest.raises(ValueError, match="asyncio"):
        TestClient(make_app(), backend="trio")


# -- exceptions and broken responses ------------------------------------------------------------------------


async def raising_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        return
    raise KeyError("raw failure")


def test_raise_server_exceptions_raw_app() -> None:
    client = TestClient(raising_app)
    with pytest.raises(KeyError, match="raw failure"):
        client.get("/")
    client.close()


def test_raise_server_exceptions_false_gives_500() -> None:
    client = TestClient(raising_app, raise_server_exceptions=False)
    response = client.get("/")
    assert response.status_code == 500
    assert response.content == b""
    client.close()


def test_ketch_500_when_not_raising() -> None:
    with TestClient(make_app(), raise_server_exceptions=False) as client:
        response = client.get("/boom")
        assert response.status_code == 500
        assert response.text == "Internal Server Error"
        assert client.get("/items/after").status_code == 200


def test_raise_server_exceptions_ketch_app() -> None:
    with TestClient(make_app()) as client:
        with pytest.raises(ValueError, match="boom"):
            client.get("/boom")
        assert client.get("/items/after").status_code == 200


def test_raise_server_exceptions_asks_ketch_through_the_scope() -> None:
    seen: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope.get("ketch.raise_server_exceptions"))
        await PlainTextResponse("ok")(scope, receive, send)

    TestClient(app).get("/")
    TestClient(app, raise_server_exceptions=False).get("/")
    assert seen == [True, None]


def test_app_returning_without_a_response() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with pytest.raises(RuntimeError, match="without starting a response"):
        TestClient(app).get("/")
    assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500


@pytest.mark.parametrize("raise_server_exceptions", [True, False])
def test_unfinished_response_is_an_error_not_a_truncated_body(raise_server_exceptions: bool) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})

    client = TestClient(app, raise_server_exceptions=raise_server_exceptions)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/")
    client.close()


def test_ketch_error_after_the_response_started() -> None:
    app = Ketch()

    @app.get("/stream")
    async def stream(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            yield b"first chunk"
            raise RuntimeError("halfway")

        return StreamingResponse(body())

    with TestClient(app, raise_server_exceptions=False) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/stream")
        with client.stream("GET", "/stream") as response:
            assert response.status_code == 200
            with pytest.raises(httpx.RemoteProtocolError):
                response.read()


def test_protocol_violations_surface() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.body", "body": b"no start"})

    with pytest.raises(RuntimeError, match="before"):
        TestClient(app).get("/")


# -- lifespan --------------------------------------------------------------------------------------------------


def lifespan_app(events: list[str]) -> Ketch:
    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[dict[str, Any]]:
        events.append("startup")
        yield {"db": "connection", "items": []}
        events.append("shutdown")

    app = Ketch(lifespan=lifespan)

    @app.get("/state")
    async def state(request: Request) -> dict[str, Any]:
        request.state.per_request = True
        return {"db": getattr(request.state, "db", None), "items": getattr(request.state, "items", None)}

    @app.get("/touch")
    async def touch(request: Request) -> dict[str, bool]:
        return {"leaked": "per_request" in request.state}

    return app


def test_lifespan_runs_around_the_with_block() -> None:
    events: list[str] = []
    app = lifespan_app(events)
    with TestClient(app) as client:
        assert events == ["startup"]
        assert client.get("/state").json() == {"db": "connection", "items": []}
        # Each request gets a shallow copy: a key set on one request is not seen by the next.
        assert client.get("/touch").json() == {"leaked": False}
    assert events == ["startup", "shutdown"]


def test_no_lifespan_without_with() -> None:
    events: list[str] = []
    client = TestClient(lifespan_app(events))
    assert client.get("/state").json() == {"db": None, "items": None}
    assert events == []
    client.close()


def test_client_can_be_entered_again() -> None:
    events: list[str] = []
    client = TestClient(lifespan_app(events))
    with client:
        assert client.get("/state").status_code == 200
    with client:
        assert client.get("/state").status_code == 200
    assert events == ["startup", "shutdown", "startup", "shutdown"]
    with client, pytest.raises(RuntimeError, match="already"):
        client.__enter__()


def test_startup_hooks_and_shutdown_hooks() -> None:
    events: list[str] = []
    app = Ketch(on_startup=[lambda: events.append("sync start")], on_shutdown=[lambda: events.append("stop")])
    with TestClient(app):
        assert events == ["sync start"]
    assert events == ["sync start", "stop"]


@pytest.mark.timeout(10)
def test_startup_failure_raises_in_with() -> None:
    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[None]:
        raise ConnectionError("database is down")
        yield

    app = Ketch(lifespan=lifespan)
    with pytest.raises(RuntimeError, match="database is down"):
        with TestClient(app):
            pytest.fail("the block must not run")
    assert loop_threads() == []


@pytest.mark.timeout(10)
def test_shutdown_failure_raises_on_exit() -> None:
    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[None]:
        yield
        raise ConnectionError("flush failed")

    with pytest.raises(RuntimeError, match="flush failed"):
        with TestClient(Ketch(lifespan=lifespan)):
            pass
    assert loop_threads() == []


def test_shutdown_failure_does_not_hide_the_blocks_error() -> None:
    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[None]:
        yield
        raise ConnectionError("flush failed")

    with pytest.raises(AssertionError, match="the real failure"):
        with TestClient(Ketch(lifespan=lifespan)):
            raise AssertionError("the real failure")


# -- streaming -------------------------------------------------------------------------------------------------


@pytest.mark.timeout(10)
def test_stream_is_read_incrementally() -> None:
    gate = threading.Event()
    app = Ketch()

    @app.get("/sse")
    async def sse(request: Request) -> Response:
        async def events() -> AsyncIterator[str]:
            yield "data: first\n\n"
            while not gate.is_set():  # the rest only comes once the test has read the first event
                await asyncio.sleep(0.005)
            yield "data: second\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    with TestClient(app) as client, client.stream("GET", "/sse") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == "data: first"
        gate.set()
        assert [line for line in lines if line] == ["data: second"]


@pytest.mark.timeout(10)
def test_closing_a_stream_early_disconnects_the_app() -> None:
    closed = threading.Event()
    app = Ketch()

    @app.get("/forever")
    async def forever(request: Request) -> Response:
        async def ticks() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"tick\n"
                    await asyncio.sleep(0.001)
            finally:
                closed.set()

        return StreamingResponse(ticks())

    with TestClient(app) as client:
        with client.stream("GET", "/forever") as response:
            assert next(response.iter_lines()) == "tick"
        assert closed.wait(1.0)
        assert client.get("/forever/missing").status_code == 404  # the client still works


@pytest.mark.timeout(10)
def test_slow_reader_applies_backpressure() -> None:
    sent = 0

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal sent
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(1000):
            sent += 1
            await send({"type": "http.response.body", "body": b"x" * 1024, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    client = TestClient(app)
    with client.stream("GET", "/") as response:
        chunks = response.iter_raw()
        next(chunks)
        time.sleep(0.1)
        assert sent < 40  # the app waits for the reader instead of buffering the whole body
        assert sum(len(c) for c in chunks) == 999 * 1024
    client.close()


@pytest.mark.timeout(10)
def test_app_that_ignores_disconnect_is_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ketch.testclient._STOP_GRACE", 0.1)
    cancelled = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    client = TestClient(app)
    with client.stream("GET", "/") as response:
        assert next(response.iter_raw()) == b"x"
    assert cancelled.is_set()
    client.close()


# -- WebSockets ------------------------------------------------------------------------------------------------


def ws_app() -> Ketch:
    app = Ketch()

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await websocket.send_text("text:" + message["text"])
            else:
                await websocket.send_bytes(b"bytes:" + message["bytes"])

    @app.websocket("/json")
    async def json_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        data = await websocket.receive_json()
        await websocket.send_json({"got": data})
        await websocket.close()

    @app.websocket("/close")
    async def close(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close(code=4001, reason="go away")

    @app.websocket("/reject")
    async def reject(websocket: WebSocket) -> None:
        await websocket.close(code=1008)

    @app.websocket("/deny")
    async def deny(websocket: WebSocket) -> None:
        raise HTTPException(403, "no entry")

    @app.websocket("/info")
    async def info(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="chat.v2")
        scope = websocket.scope
        await websocket.send_json(
            {
                "type": scope["type"],
                "scheme": scope["scheme"],
                "path": scope["path"],
                "query": scope["query_string"].decode(),
                "subprotocols": scope["subprotocols"],
                "extensions": sorted(scope["extensions"]),
                "cookie": websocket.cookies.get("session"),
                "x-token": websocket.headers.get("x-token"),
            }
        )
        await websocket.close()

    @app.websocket("/crash")
    async def crash(websocket: WebSocket) -> None:
        await websocket.accept()
        raise ValueError("ws crash")

    @app.websocket("/disconnect-code")
    async def disconnect_code(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            codes.append(exc.code)

    codes: list[int] = []
    app.state.codes = codes
    return app


def test_websocket_echo_text_and_bytes() -> None:
    with TestClient(ws_app()) as client, client.websocket_connect("/echo") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "text:hello"
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_bytes() == b"bytes:\x00\x01"
        ws.send({"type": "websocket.receive", "text": "raw"})
        assert ws.receive() == {"type": "websocket.send", "text": "text:raw"}


def test_websocket_json() -> None:
    with TestClient(ws_app()) as client:
        with client.websocket_connect("/json") as ws:
            ws.send_json({"a": [1, "\u00e9"]})
            assert ws.receive_json() == {"got": {"a": [1, "\u00e9"]}}
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive_json()
            assert info.value.code == 1000
        with client.websocket_connect("/json") as ws:
            ws.send_json([1, 2], mode="binary")
            assert ws.receive_json() == {"got": [1, 2]}


def test_websocket_close_code_and_reason() -> None:
    with TestClient(ws_app()) as client, client.websocket_connect("/close") as ws:
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
        assert (info.value.code, info.value.reason) == (4001, "go away")
        with pytest.raises(WebSocketDisconnect) as again:
            ws.receive_text()  # once closed, it stays closed (no hang)
        assert (again.value.code, again.value.reason) == (4001, "go away")


def test_websocket_close_before_accept() -> None:
    with TestClient(ws_app()) as client:
        with pytest.raises(WebSocketDisconnect) as info:
            with client.websocket_connect("/reject"):
                pytest.fail("the handshake must fail")
        assert info.value.code == 1008
        with pytest.raises(WebSocketDisconnect) as missing:
            client.websocket_connect("/no-such-route").__enter__()
        assert missing.value.code == 1000


def test_websocket_denial_response() -> None:
    with TestClient(ws_app()) as client:
        with pytest.raises(WebSocketDenialResponse) as info:
            with client.websocket_connect("/deny"):
                pytest.fail("the handshake must fail")
    denial = info.value
    assert isinstance(denial, WebSocketDisconnect)
    assert denial.status_code == 403
    assert denial.json() == {"detail": "no entry"}


def test_websocket_scope_subprotocols_cookies_headers() -> None:
    with TestClient(ws_app(), cookies={"session": "s1"}) as client:
        with client.websocket_connect("/info?x=1", subprotocols=["chat.v1", "chat.v2"], headers={"x-token": "t"}) as ws:
            assert ws.accepted_subprotocol == "chat.v2"
            info = ws.receive_json()
    assert info == {
        "type": "websocket",
        "scheme": "ws",
        "path": "/info",
        "query": "x=1",
        "subprotocols": ["chat.v1", "chat.v2"],
        "extensions": ["websocket.http.response"],
        "cookie": "s1",
        "x-token": "t",
    }


def test_websocket_app_error_closes_1011() -> None:
    with TestClient(ws_app(), raise_server_exceptions=False) as client, client.websocket_connect("/crash") as ws:
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
        assert info.value.code == 1011


def test_websocket_app_error_is_raised_when_the_session_ends() -> None:
    with TestClient(ws_app()) as client:
        with pytest.raises(ValueError, match="ws crash"):
            with client.websocket_connect("/crash") as ws:
                with pytest.raises(WebSocketDisconnect) as info:
                    ws.receive_text()
                assert info.value.code == 1011


def test_websocket_client_close_reaches_the_app() -> None:
    app = ws_app()
    with TestClient(app) as client:
        with client.websocket_connect("/disconnect-code") as ws:
            ws.close(code=4321)
        with client.websocket_connect("/disconnect-code"):
            pass
    assert app.state.codes == [4321, 1000]


def test_websocket_raw_app_error_is_raised() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        raise LookupError("raw ws failure")

    client = TestClient(app)
    with pytest.raises(LookupError, match="raw ws failure"):
        with client.websocket_connect("/"):
            pass
    with pytest.raises(LookupError, match="raw ws failure"):
        with client.websocket_connect("/") as ws:
            ws.receive()
    with TestClient(app, raise_server_exceptions=False).websocket_connect("/") as ws:
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive()
        assert info.value.code == 1011
    client.close()


def test_websocket_app_returning_before_accept_is_a_500_denial() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    with pytest.raises(WebSocketDenialResponse) as info:
        TestClient(app).websocket_connect("/").__enter__()
    assert info.value.status_code == 500


def test_websocket_send_after_client_close_raises_in_the_app() -> None:
    outcome: list[str] = []
    app = Ketch()

    @app.websocket("/talk")
    async def talk(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive()  # the client's close
        try:
            await websocket.send_text("too late")
        except WebSocketDisconnect as exc:
            outcome.append(f"disconnect {exc.code}")

    with TestClient(app) as client, client.websocket_connect("/talk") as ws:
        ws.close()
    assert outcome == ["disconnect 1006"]


# -- the async client ------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_client_with_lifespan() -> None:
    events: list[str] = []
    app = lifespan_app(events)
    async with AsyncTestClient(app) as client:
        assert events == ["startup"]
        response = await client.get("/state")
        assert response.json() == {"db": "connection", "items": []}
    assert events == ["startup", "shutdown"]


@pytest.mark.anyio
async def test_async_client_requests() -> None:
    async with AsyncTestClient(make_app()) as client:
        assert (await client.post("/json", json={"x": 1})).json() == {"received": {"x": 1}}
        assert (await client.get("/redirect")).json()["name"] == "target"
        await client.get("/set-cookie")
        assert (await client.get("/read-cookie")).json() == {"session": "abc123"}

        async def chunks() -> AsyncIterator[bytes]:
            yield b"async "
            yield b"body"

        assert (await client.post("/bytes", content=chunks())).content == b"async body"
        with pytest.raises(ValueError, match="boom"):
            await AsyncTestClient(raising_app_value).get("/")


async def raising_app_value(scope: Scope, receive: Receive, send: Send) -> None:
    raise ValueError("boom")


@pytest.mark.anyio
async def test_async_client_streaming_and_websocket() -> None:
    app = ws_app()

    @app.get("/numbers")
    async def numbers(request: Request) -> Response:
        async def lines() -> AsyncIterator[str]:
            for n in range(3):
                yield f"{n}\n"

        return StreamingResponse(lines())

    async with AsyncTestClient(app) as client:
        async with client.stream("GET", "/numbers") as response:
            assert [line async for line in response.aiter_lines()] == ["0", "1", "2"]
        async with client.websocket_connect("/echo") as ws:
            await ws.send_text("hi")
            assert await ws.receive_text() == "text:hi"
            await ws.send_json({"k": 1})
            assert await ws.receive_text() == 'text:{"k":1}'
        with pytest.raises(WebSocketDenialResponse):
            async with client.websocket_connect("/deny"):
                pass


@pytest.mark.anyio
async def test_async_client_concurrent_requests() -> None:
    app = Ketch()

    @app.get("/wait/{n:int}")
    async def wait(request: Request, n: int) -> dict[str, int]:
        await asyncio.sleep(0.05)
        return {"n": n}

    async with AsyncTestClient(app) as client:
        started = time.monotonic()
        responses = await asyncio.gather(*(client.get(f"/wait/{n}") for n in range(20)))
        assert time.monotonic() - started < 0.8
    assert [r.json()["n"] for r in responses] == list(range(20))


@pytest.mark.anyio
async def test_async_startup_failure() -> None:
    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[None]:
        raise ConnectionError("nope")
        yield

    client = AsyncTestClient(Ketch(lifespan=lifespan))
    with pytest.raises(RuntimeError, match="nope"):
        async with client:
            pass
    assert client.is_closed


@pytest.mark.anyio
async def test_sync_client_inside_an_async_test() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/items/x").json()["name"] == "x"


# -- clean-up --------------------------------------------------------------------------------------------------


def test_no_thread_left_after_close() -> None:
    gc.collect()  # clients that earlier tests left to the garbage collector
    assert loop_threads() == []
    client = TestClient(make_app())
    client.get("/items/a")
    assert len(loop_threads()) == 1
    client.close()
    assert loop_threads() == []


def test_no_thread_left_after_with() -> None:
    gc.collect()
    with TestClient(make_app()) as client:
        client.get("/items/a")
        with pytest.raises(WebSocketDisconnect):
            client.websocket_connect("/nothing-here").__enter__()
        assert len(loop_threads()) == 1
    assert loop_threads() == []


def test_unclosed_client_stops_its_thread_when_collected() -> None:
    gc.collect()
    client = TestClient(make_app())
    client.get("/items/a")
    assert len(loop_threads()) == 1
    del client
    assert loop_threads() == []


def test_thread_count_back_to_baseline_after_many_clients() -> None:
    app = make_app()
    with TestClient(app) as warm:
        warm.post("/bytes", content=iter([b"warm"]))
    gc.collect()
    before = {t.ident for t in threading.enumerate()}
    for _ in range(5):
        with TestClient(app) as client:
            client.post("/bytes", content=iter([b"a", b"b"]))  # uses the loop's executor too
    assert {t.ident for t in threading.enumerate()} - before == set()


def test_generator_upload_survives_disconnect_polls_between_slow_chunks() -> None:
    # An is_disconnected() poll times out while a slow chunk is being read: the chunk must still reach the app.
    from ketch import Ketch

    app = Ketch()

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, object]:
        received = b""
        polls = 0
        async for chunk in request.stream():
            received += chunk
            polls += not await request.is_disconnected()
        return {"size": len(received), "ok": received == b"".join(_chunks()), "polls": polls > 0}

    def _chunks() -> list[bytes]:
        return [bytes([65 + i]) * 1000 for i in range(5)]

    def slow() -> Iterator[bytes]:
        for chunk in _chunks():
            time.sleep(0.01)
            yield chunk

    assert TestClient(app).post("/upload", content=slow()).json() == {"size": 5000, "ok": True, "polls": True}
