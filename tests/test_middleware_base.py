"""``@app.middleware("http")``: function middleware with ``call_next``."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ketch import BackgroundTask, HTTPException, Ketch, PlainTextResponse, Request, Response, StreamingResponse
from ketch.middleware.base import CallNext
from ketch.testclient import TestClient
from ketch.types import Message

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


def test_call_next_and_headers() -> None:
    app = Ketch()

    @app.middleware("http")
    async def add_header(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        response.headers["x-process"] = "done"
        return response

    @app.get("/x")
    async def x() -> dict[str, int]:
        return {"a": 1}

    response = TestClient(app).get("/x")
    assert response.json() == {"a": 1}
    assert response.headers["x-process"] == "done"
    assert response.headers["content-length"] == "7"
    assert TestClient(app).get("/missing").headers["x-process"] == "done"


def test_middleware_can_answer_without_call_next() -> None:
    app = Ketch()
    reached: list[str] = []

    @app.middleware("http")
    async def gate(request: Request, call_next: CallNext) -> Response:
        if request.headers.get("x-key") != "secret":
            return PlainTextResponse("denied", status_code=403)
        return await call_next(request)

    @app.get("/x")
    async def x() -> str:
        reached.append("x")
        return "ok"

    client = TestClient(app)
    assert (client.get("/x").status_code, client.get("/x").text) == (403, "denied")
    assert reached == []
    assert client.get("/x", headers={"x-key": "secret"}).json() == "ok"


def test_contextvars_set_in_middleware_are_visible_in_handlers() -> None:
    app = Ketch()

    @app.middleware("http")
    async def tag(request: Request, call_next: CallNext) -> Response:
        request_id.set(request.headers.get("x-request-id", "none"))
        return await call_next(request)

    @app.get("/async")
    async def async_handler() -> str:
        return request_id.get()

    @app.get("/sync")
    def sync_handler() -> str:
        return request_id.get()

    client = TestClient(app)
    assert client.get("/async", headers={"x-request-id": "a1"}).json() == "a1"
    assert client.get("/sync", headers={"x-request-id": "s1"}).json() == "s1"
    assert client.get("/async").json() == "none"
    assert request_id.get() == "unset"


def test_body_read_in_middleware_is_replayed_to_the_endpoint() -> None:
    app = Ketch()
    seen: list[bytes] = []

    @app.middleware("http")
    async def audit(request: Request, call_next: CallNext) -> Response:
        seen.append(await request.body())
        return await call_next(request)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        return {"json": await request.json(), "body": (await request.body()).decode()}

    @app.post("/stream")
    async def stream(request: Request) -> int:
        return sum([len(chunk) async for chunk in request.stream()])

    client = TestClient(app)
    assert client.post("/echo", json={"k": [1, 2]}).json() == {"json": {"k": [1, 2]}, "body": '{"k":[1,2]}'}
    big = b"x" * 300_000  # more than one http.request message
    assert client.post("/stream", content=big).json() == 300_000
    assert seen == [b'{"k":[1,2]}', big]


def test_body_not_read_in_middleware_streams_through() -> None:
    app = Ketch()

    @app.middleware("http")
    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    @app.post("/count")
    async def count(request: Request) -> int:
        return len(await request.body())

    assert TestClient(app).post("/count", content=b"y" * 200_000).json() == 200_000


def test_streaming_passes_through_without_buffering() -> None:
    """The first chunk reaches the client before the endpoint produces the second one."""
    app = Ketch()
    first_seen = asyncio.Event()
    closed: list[bool] = []

    @app.middleware("http")
    async def passthrough(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        response.headers["x-mw"] = "1"
        return response

    @app.get("/events")
    async def events() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            try:
                yield b"data: 1\n\n"
                await asyncio.wait_for(first_seen.wait(), 5)  # deadlocks (times out) if the middleware buffers
                yield b"data: 2\n\n"
            finally:
                closed.append(True)

        return StreamingResponse(body(), media_type="text/event-stream")

    async def run() -> tuple[list[Message], list[bool]]:
        sent: list[Message] = []
        done = asyncio.Event()

        async def receive() -> Message:
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and message.get("body") == b"data: 1\n\n":
                first_seen.set()
            if message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/events",
            "raw_path": b"/events",
            "query_string": b"",
            "headers": [],
            "scheme": "http",
            "server": ("test", 80),
        }
        await asyncio.wait_for(app(scope, receive, send), 5)
        return sent, closed

    sent, closed_flags = asyncio.run(run())
    assert (b"x-mw", b"1") in sent[0]["headers"]
    bodies = [m.get("body") for m in sent if m["type"] == "http.response.body" and m.get("body")]
    assert bodies == [b"data: 1\n\n", b"data: 2\n\n"]
    assert closed_flags == [True]


def test_exception_before_call_next_is_500(caplog: pytest.LogCaptureFixture) -> None:
    app = Ketch()

    @app.middleware("http")
    async def broken(request: Request, call_next: CallNext) -> Response:
        raise RuntimeError("middleware broke")

    app.add_route("/x", lambda: "x")
    response = TestClient(app, raise_server_exceptions=False).get("/x")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
    with pytest.raises(RuntimeError, match="middleware broke"):
        TestClient(app).get("/x")


def test_exception_after_call_next_is_500_and_the_app_task_is_cleaned_up(caplog: pytest.LogCaptureFixture) -> None:
    app = Ketch()
    finished: list[str] = []

    @app.middleware("http")
    async def broken(request: Request, call_next: CallNext) -> Response:
        await call_next(request)
        raise RuntimeError("after")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"x"
                    await asyncio.sleep(0)
            finally:
                finished.append("closed")

        return StreamingResponse(body())

    response = TestClient(app, raise_server_exceptions=False).get("/stream")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert finished == ["closed"]


def test_endpoint_errors_reach_the_middleware_or_the_500_page(caplog: pytest.LogCaptureFixture) -> None:
    app = Ketch()
    observed: list[str] = []

    @app.middleware("http")
    async def observe(request: Request, call_next: CallNext) -> Response:
        try:
            return await call_next(request)
        except ZeroDivisionError:
            observed.append("zero")
            return PlainTextResponse("recovered", status_code=503)

    app.add_route("/zero", lambda: 1 / 0)

    @app.get("/http")
    async def http_error() -> None:
        raise HTTPException(409, "conflict")

    client = TestClient(app)
    assert (client.get("/zero").status_code, client.get("/zero").text) == (503, "recovered")
    assert observed == ["zero", "zero"]
    response = client.get("/http")
    assert (response.status_code, response.json()) == (409, {"detail": "conflict"})  # handled inside, as a response


def test_error_while_streaming_after_call_next_leaves_the_response_incomplete(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import httpx

    app = Ketch()

    @app.middleware("http")
    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    @app.get("/half")
    async def half() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"first"
            raise ValueError("half way")

        return StreamingResponse(body())

    with pytest.raises(httpx.RemoteProtocolError):
        TestClient(app, raise_server_exceptions=False).get("/half")
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1


def test_background_tasks_run_through_middleware() -> None:
    app = Ketch()
    done: list[str] = []

    @app.middleware("http")
    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    @app.get("/bg")
    async def bg() -> Response:
        return PlainTextResponse("ok", background=BackgroundTask(done.append, "task"))

    @app.get("/slow-bg")
    async def slow_bg() -> Response:
        async def slow() -> None:
            await asyncio.sleep(0.05)  # the middleware must wait for it, not cancel it
            done.append("slow")

        return PlainTextResponse("ok", background=BackgroundTask(slow))

    client = TestClient(app)
    assert client.get("/bg").text == "ok"
    assert done == ["task"]
    assert client.get("/slow-bg").text == "ok"
    assert done == ["task", "slow"]


def test_client_disconnect_in_the_endpoint_is_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    app = Ketch()

    @app.middleware("http")
    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    @app.post("/upload")
    async def upload(request: Request) -> int:
        return len(await request.body())

    async def run() -> list[Message]:
        sent: list[Message] = []
        messages: list[Message] = [
            {"type": "http.request", "body": b"part", "more_body": True},
            {"type": "http.disconnect"},
        ]

        async def receive() -> Message:
            return messages.pop(0)

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/upload", "headers": [], "query_string": b""}
        await app(scope, receive, send)
        return sent

    assert asyncio.run(run()) == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_websockets_pass_through_function_middleware() -> None:
    from ketch import WebSocket

    app = Ketch()

    @app.middleware("http")
    async def http_only(request: Request, call_next: CallNext) -> Response:
        raise AssertionError("never called for WebSockets")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive_text() == "hi"


def test_only_http_middleware_is_supported() -> None:
    with pytest.raises(ValueError):
        Ketch().middleware("websocket")


def test_middleware_order_with_the_decorator() -> None:
    app = Ketch()
    order: list[str] = []

    @app.middleware("http")
    async def first(request: Request, call_next: CallNext) -> Response:
        order.append("first")
        return await call_next(request)

    @app.middleware("http")
    async def second(request: Request, call_next: CallNext) -> Response:
        order.append("second")
        return await call_next(request)

    app.add_route("/x", lambda: "x")
    TestClient(app).get("/x")
    assert order == ["second", "first"]  # the last registered runs first, as in Starlette and FastAPI
