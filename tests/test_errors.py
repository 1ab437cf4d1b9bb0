"""The outermost error layer: generic 500s, one log record, the loopback-only debug page."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ketch import Ketch, PlainTextResponse, Request, Response, Router, StreamingResponse
from ketch.middleware.errors import ServerErrorMiddleware, is_loopback
from ketch.testclient import TestClient
from ketch.types import Message


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def make_app(debug: bool = False) -> Ketch:
    app = Ketch(debug=debug)

    @app.get("/boom/{item}")
    async def boom(item: str) -> None:
        secret_local = "hunter2 <script>"  # noqa: F841 - shown in the debug page's locals
        raise RuntimeError(f"failure for <{item}>")

    @app.get("/ok")
    async def ok() -> str:
        return "ok"

    return app


def test_generic_500_body_and_one_log_record(caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(make_app(), raise_server_exceptions=False)
    response = client.get("/boom/a", headers={"accept": "text/html"})
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    records = error_records(caplog)
    assert len(records) == 1
    assert records[0].name == "ketch.error"
    assert records[0].getMessage() == "Exception in GET /boom/a (route /boom/{item})"
    assert records[0].exc_info is not None and records[0].exc_info[0] is RuntimeError
    assert client.get("/ok").json() == "ok"


def test_500_log_names_the_route_with_its_include_prefixes(caplog: pytest.LogCaptureFixture) -> None:
    app = Ketch()
    router = Router(prefix="/r")

    @router.get("/boom/{x}")
    async def boom(x: str) -> None:
        raise RuntimeError(x)

    app.include_router(router, prefix="/api")
    assert TestClient(app, raise_server_exceptions=False).get("/api/r/boom/1").status_code == 500
    records = error_records(caplog)
    assert [record.getMessage() for record in records] == ["Exception in GET /api/r/boom/1 (route /api/r/boom/{x})"]


def test_no_debug_page_when_debug_is_off(caplog: pytest.LogCaptureFixture) -> None:
    response = TestClient(make_app(debug=False), raise_server_exceptions=False).get("/boom/a")
    assert "Traceback" not in response.text and "hunter2" not in response.text


def test_debug_page_for_loopback_clients() -> None:
    client = TestClient(make_app(debug=True), raise_server_exceptions=False)
    page = client.get("/boom/x", headers={"accept": "text/html"})
    assert page.status_code == 500
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h2>RuntimeError: failure for &lt;x&gt;</h2>" in page.text
    assert "hunter2 &lt;script&gt;" in page.text  # locals, escaped
    assert "<script>" not in page.text
    assert "test_errors.py" in page.text
    text = client.get("/boom/y", headers={"accept": "application/json"})
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.text.startswith("Traceback (most recent call last):")
    assert "RuntimeError: failure for <y>" in text.text


@pytest.mark.parametrize("host", ["203.0.113.7", "10.0.0.1", "::ffff:8.8.8.8", "example.com", ""])
def test_debug_page_never_for_remote_clients(host: str) -> None:
    client = TestClient(make_app(debug=True), raise_server_exceptions=False, client=(host, 1234))
    response = client.get("/boom/x", headers={"accept": "text/html"})
    assert (response.status_code, response.text) == (500, "Internal Server Error")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("testclient", True),
        ("10.0.0.1", False),
        ("::2", False),
        ("", False),
        (None, False),
        ("not an ip", False),
    ],
)
def test_is_loopback(host: str | None, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_500_handler_that_raises_falls_back_to_the_generic_page(caplog: pytest.LogCaptureFixture) -> None:
    def broken_handler(request: Request, exc: Exception) -> Response:
        raise ValueError("handler broke too")

    app = Ketch(exception_handlers={500: broken_handler})
    app.add_route("/boom", lambda: 1 / 0)
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    messages = [r.getMessage() for r in error_records(caplog)]
    assert messages == ["Exception in GET /boom (route /boom)", "The 500 handler itself raised"]


def test_500_handler_returning_nothing_falls_back() -> None:
    app = Ketch(exception_handlers={500: lambda request, exc: None})
    app.add_route("/boom", lambda: 1 / 0)
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert (response.status_code, response.text) == (500, "Internal Server Error")


def test_async_500_handler() -> None:
    async def handler(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(f"oops at {request.url.path}", status_code=500)

    app = Ketch(exception_handlers={500: handler})
    app.add_route("/boom", lambda: 1 / 0)
    assert TestClient(app, raise_server_exceptions=False).get("/boom").text == "oops at /boom"


def test_debug_page_wins_over_the_500_handler_for_loopback() -> None:
    app = Ketch(debug=True, exception_handlers={500: lambda request, exc: PlainTextResponse("handled", 500)})
    app.add_route("/boom", lambda: 1 / 0)
    assert "ZeroDivisionError" in TestClient(app, raise_server_exceptions=False).get("/boom").text
    remote = TestClient(app, raise_server_exceptions=False, client=("192.0.2.1", 1))
    assert remote.get("/boom").text == "handled"


def test_test_client_sees_the_error_when_asked() -> None:
    with pytest.raises(RuntimeError, match="failure for <a>"):
        TestClient(make_app()).get("/boom/a")


# -- after the response started ------------------------------------------------------------------------------------


async def drive(app: Any, path: str) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        await asyncio.sleep(10)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b""}
    scope.update(headers=[], scheme="http", server=("test", 80), client=("127.0.0.1", 1))
    await asyncio.wait_for(app(scope, receive, send), 5)
    return sent


def test_error_after_start_sends_nothing_more(caplog: pytest.LogCaptureFixture) -> None:
    app = Ketch(debug=True)

    @app.get("/half")
    async def half() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"partial"
            raise RuntimeError("mid-stream")

        return StreamingResponse(body(), media_type="text/plain")

    sent = asyncio.run(drive(app, "/half"))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200
    assert sent[1] == {"type": "http.response.body", "body": b"partial", "more_body": True}
    assert len(error_records(caplog)) == 1


def test_error_after_a_complete_response_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        raise RuntimeError("after the end")

    sent = asyncio.run(drive(ServerErrorMiddleware(app), "/x"))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert len(error_records(caplog)) == 1


def test_error_after_start_reaches_the_test_client() -> None:
    import httpx

    app = Ketch()

    @app.get("/half")
    async def half() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"partial"
            raise RuntimeError("mid-stream")

        return StreamingResponse(body())

    with pytest.raises(httpx.RemoteProtocolError):
        TestClient(app, raise_server_exceptions=False).get("/half")
    with pytest.raises(RuntimeError, match="mid-stream"):
        TestClient(app).get("/half")


def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])
        raise RuntimeError("websocket failure propagates to the server")

    with pytest.raises(RuntimeError):
        asyncio.run(ServerErrorMiddleware(app)({"type": "websocket"}, None, None))  # type: ignore[arg-type]
    assert seen == ["websocket"]


def test_head_request_error() -> None:
    response = TestClient(make_app(), raise_server_exceptions=False).head("/boom/a")
    assert response.status_code == 500
    assert response.content == b""
