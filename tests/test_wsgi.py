"""``ketch.wsgi.WSGIMiddleware``: a WSGI app served from ketch, on the thread pool, streaming its body."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ketch import Ketch, Limits
from ketch.testclient import AsyncTestClient, TestClient
from ketch.types import Message
from ketch.websockets import WebSocketDisconnect
from ketch.wsgi import WSGIMiddleware, build_environ

Environ = dict[str, Any]


def echo_environ(environ: Environ, start_response: Any) -> list[bytes]:
    """Answers with the parts of the environ a test looks at."""
    keys = ["REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME", "SERVER_PORT"]
    keys += ["SERVER_PROTOCOL", "REMOTE_ADDR", "REMOTE_PORT", "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_X_MULTI"]
    keys += ["HTTP_COOKIE", "wsgi.url_scheme"]
    lines = [f"{key}={environ.get(key)!r}" for key in keys]
    lines.append(f"body={environ['wsgi.input'].read()!r}")
    lines.append(f"thread={'main' if threading.current_thread() is threading.main_thread() else 'worker'}")
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return ["\n".join(lines).encode("utf-8")]


def app_with(wsgi: Any, **options: Any) -> Ketch:
    app = Ketch()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    app.mount("/legacy", WSGIMiddleware(wsgi, **options))
    return app


def lines(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


def test_environ_follows_pep_3333() -> None:
    client = TestClient(app_with(echo_environ))
    response = client.post(
        "/legacy/caf%C3%A9/x?a=1&b=%20",
        content=b"payload",
        headers=[("content-type", "text/plain"), ("x-multi", "a"), ("x-multi", "b"), ("cookie", "c=1")],
    )
    assert response.status_code == 200
    seen = lines(response.text)
    assert seen["REQUEST_METHOD"] == "'POST'"
    assert seen["SCRIPT_NAME"] == "'/legacy'"
    assert seen["PATH_INFO"] == repr("/café/x".encode().decode("latin-1"))  # bytes as latin-1 (PEP 3333)
    assert seen["QUERY_STRING"] == "'a=1&b=%20'"
    assert seen["SERVER_NAME"] == "'testserver'" and seen["SERVER_PORT"] == "'80'"
    assert seen["SERVER_PROTOCOL"] == "'HTTP/1.1'"
    assert seen["REMOTE_ADDR"] == "'testclient'" and seen["REMOTE_PORT"] == "'50000'"
    assert seen["CONTENT_TYPE"] == "'text/plain'" and seen["CONTENT_LENGTH"] == "'7'"
    assert seen["HTTP_X_MULTI"] == "'a,b'"
    assert seen["HTTP_COOKIE"] == "'c=1'"
    assert seen["wsgi.url_scheme"] == "'http'"
    assert seen["body"] == "b'payload'"
    assert seen["thread"] == "worker"


def test_build_environ_without_a_mount() -> None:
    scope = {"type": "http", "method": "GET", "path": "/a", "headers": [(b"cookie", b"x=1"), (b"cookie", b"y=2")]}
    environ = build_environ(scope, b"")
    assert environ["SCRIPT_NAME"] == "" and environ["PATH_INFO"] == "/a"
    assert environ["SERVER_NAME"] == "localhost" and environ["SERVER_PORT"] == "80"
    assert environ["HTTP_COOKIE"] == "x=1; y=2"
    assert environ["wsgi.errors"] is sys.stderr
    assert "REMOTE_ADDR" not in environ


def test_response_streams_chunk_by_chunk_and_closes_the_iterable() -> None:
    closed: list[bool] = []

    class Body:
        def __init__(self, start_response: Any) -> None:
            self.start_response = start_response

        def __iter__(self) -> Iterator[bytes]:
            # start_response may wait until the first chunk (PEP 3333): headers go out with it.
            self.start_response("201 Created", [("Content-Type", "text/plain"), ("X-Legacy", "yes")])
            yield b""
            yield b"one,"
            yield b"two"

        def close(self) -> None:
            closed.append(True)

    def wsgi(environ: Environ, start_response: Any) -> Body:
        return Body(start_response)

    client = TestClient(app_with(wsgi))
    with client.stream("GET", "/legacy/") as response:
        assert response.status_code == 201
        assert response.headers["x-legacy"] == "yes"
        assert "content-length" not in response.headers
        assert list(response.iter_raw()) == [b"one,", b"two"]
    assert closed == [True]


def test_write_callable() -> None:
    def wsgi(environ: Environ, start_response: Any) -> Iterator[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        yield b"yielded"

    assert TestClient(app_with(wsgi)).get("/legacy/").text == "written yielded"


def test_exc_info_replaces_the_status_before_anything_was_sent() -> None:
    def wsgi(environ: Environ, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("late failure")
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"failed"]

    response = TestClient(app_with(wsgi)).get("/legacy/")
    assert (response.status_code, response.text) == (500, "failed")


def test_start_response_twice_without_exc_info_is_an_error() -> None:
    def wsgi(environ: Environ, start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        start_response("201 Created", [])
        return [b""]

    client = TestClient(app_with(wsgi), raise_server_exceptions=False)
    assert client.get("/legacy/").status_code == 500
    assert client.get("/ping").json() == {"pong": True}


@pytest.mark.parametrize(
    "wsgi",
    [
        pytest.param(lambda environ, start_response: 1 / 0, id="raises"),
        pytest.param(lambda environ, start_response: [b"no start_response"], id="no-start-response"),
        pytest.param(
            lambda environ, start_response: start_response("200 OK", [("X-Bad", "a\r\nInjected: 1")]) or [b""],
            id="header-injection",
        ),
    ],
)
def test_broken_wsgi_apps_are_a_500(wsgi: Any) -> None:
    client = TestClient(app_with(wsgi), raise_server_exceptions=False)
    response = client.get("/legacy/")
    assert response.status_code == 500
    assert "injected" not in response.headers
    assert client.get("/ping").status_code == 200


@pytest.mark.timeout(10)
def test_body_over_the_limit_is_413_and_the_app_never_runs() -> None:
    called: list[bool] = []

    def wsgi(environ: Environ, start_response: Any) -> list[bytes]:
        called.append(True)
        start_response("200 OK", [])
        return [b""]

    client = TestClient(app_with(wsgi, limits=Limits(max_body_size=10)))
    response = client.post("/legacy/", content=b"x" * 100)
    assert response.status_code == 413
    assert called == []
    app = Ketch(max_body_size=5)  # without its own limits, the middleware uses the app's
    app.mount("/w", WSGIMiddleware(wsgi))
    assert TestClient(app).post("/w/", content=b"x" * 6).status_code == 413


def test_served_alone_with_lifespan_and_no_websockets() -> None:
    with TestClient(WSGIMiddleware(echo_environ)) as client:
        assert lines(client.get("/x").text)["PATH_INFO"] == "'/x'"
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/ws"):
            pass
        assert closed.value.code == 1000


@pytest.mark.anyio
@pytest.mark.timeout(10)
async def test_a_slow_wsgi_app_does_not_block_the_loop() -> None:
    def slow(environ: Environ, start_response: Any) -> list[bytes]:
        time.sleep(0.3)
        start_response("200 OK", [])
        return [b"slow"]

    finished: list[str] = []
    async with AsyncTestClient(app_with(slow)) as client:

        async def get(path: str) -> None:
            await client.get(path)
            finished.append(path)

        await asyncio.gather(get("/legacy/"), get("/ping"))
    assert finished == ["/ping", "/legacy/"]


@pytest.mark.anyio
@pytest.mark.timeout(10)
async def test_client_disconnect_mid_stream_closes_the_iterable() -> None:
    closed = threading.Event()

    def endless(environ: Environ, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        try:
            while True:
                time.sleep(0.01)
                yield b"tick"
        finally:
            closed.set()

    sent: list[Message] = []
    disconnect = asyncio.Event()

    async def receive() -> Message:
        if not sent:
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if len(sent) >= 3:
            disconnect.set()

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b"", "http_version": "1.1"}
    await WSGIMiddleware(endless)(scope, receive, send)
    assert closed.wait(5)
    assert sent[0]["type"] == "http.response.start"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
