"""Responses: bodies, headers, cookies, JSON, redirects, streaming and background work."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pydantic
import pytest

from ketch import (
    BackgroundTask,
    BackgroundTasks,
    HTMLResponse,
    JSONResponse,
    Ketch,
    PlainTextResponse,
    RedirectResponse,
    Request,
    Response,
    StreamingResponse,
)
from ketch.responses import build_cookie
from ketch.testclient import TestClient
from ketch.types import Message


def serve(response: Response, method: str = "GET") -> tuple[list[Message], dict[str, str], bytes]:
    """Send ``response`` through a recording ``send``; the messages, the headers and the body."""
    messages: list[Message] = []
    done = asyncio.Event()

    async def receive() -> Message:
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    scope = {"type": "http", "method": method, "path": "/", "headers": []}
    asyncio.run(response(scope, receive, send))
    headers = {k.decode(): v.decode("latin-1") for k, v in messages[0]["headers"]}
    body = b"".join(m.get("body", b"") for m in messages[1:])
    return messages, headers, body


def header_list(response: Response) -> list[tuple[str, str]]:
    return [(k.decode(), v.decode("latin-1")) for k, v in response.raw_headers]


# -- Response ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "body"),
    [("héllo", "héllo".encode()), (b"\x00\xff", b"\x00\xff"), (None, b""), (bytearray(b"ab"), b"ab")],
)
def test_response_bodies(content: Any, body: bytes) -> None:
    response = Response(content)
    assert response.body == body
    messages, headers, sent = serve(response)
    assert messages[0] == {"type": "http.response.start", "status": 200, "headers": response.raw_headers}
    assert headers == {"content-length": str(len(body))}
    assert sent == body


def test_media_types_and_charset() -> None:
    assert Response("x", media_type="text/plain").headers["content-type"] == "text/plain; charset=utf-8"
    assert Response("x", media_type="text/csv; charset=latin-1").headers["content-type"] == "text/csv; charset=latin-1"
    assert Response(b"x", media_type="application/octet-stream").headers["content-type"] == "application/octet-stream"
    assert HTMLResponse("<p>").headers["content-type"] == "text/html; charset=utf-8"
    assert PlainTextResponse("p").headers["content-type"] == "text/plain; charset=utf-8"
    assert JSONResponse(1).headers["content-type"] == "application/json"


def test_custom_charset() -> None:
    class Latin1(PlainTextResponse):
        charset = "latin-1"

    response = Latin1("café")
    assert response.body == b"caf\xe9"
    assert response.headers["content-type"] == "text/plain; charset=latin-1"


@pytest.mark.parametrize("status", [204, 304, 100, 199])
def test_no_content_length_for_bodiless_statuses(status: int) -> None:
    assert "content-length" not in Response(status_code=status).headers


def test_explicit_headers_win() -> None:
    response = Response("abc", headers={"Content-Length": "3", "Content-Type": "x/y", "X-Thing": "1"}, media_type="a/b")
    assert header_list(response) == [("content-length", "3"), ("content-type", "x/y"), ("x-thing", "1")]


@pytest.mark.parametrize("value", ["a\r\nb", "a\nb", "a\rb", "a\x00b"])
def test_header_values_with_crlf_or_nul_are_rejected(value: str) -> None:
    with pytest.raises(ValueError):
        Response("x", headers={"x-bad": value})
    response = Response("x")
    with pytest.raises(ValueError):
        response.headers["x-bad"] = value
    with pytest.raises(ValueError):
        response.headers.append("x-bad", value)
    with pytest.raises(ValueError):
        Response("x", media_type="text/plain" + value)
    assert header_list(response) == [("content-length", "1")]


@pytest.mark.parametrize("name", ["bad name", "x:y", "", "é", "a\r\nb"])
def test_header_names_must_be_tokens(name: str) -> None:
    with pytest.raises(ValueError):
        Response("x", headers={name: "v"})


def test_non_latin1_header_value_is_rejected() -> None:
    with pytest.raises(ValueError):
        Response("x", headers={"x-euro": "€"})


def test_headers_view_is_live() -> None:
    response = Response("x")
    response.headers["X-One"] = "1"
    response.headers.append("set-cookie", "a=1")
    response.headers.append("set-cookie", "b=2")
    del response.headers["content-length"]
    assert header_list(response) == [("x-one", "1"), ("set-cookie", "a=1"), ("set-cookie", "b=2")]


# -- cookies -------------------------------------------------------------------------------------------------------


def test_set_cookie_defaults_are_safe() -> None:
    response = Response()
    response.set_cookie("session", "abc")
    assert response.headers["set-cookie"] == "session=abc; Path=/; SameSite=lax; HttpOnly"


def test_set_cookie_all_options() -> None:
    response = Response()
    expires = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    response.set_cookie(
        "s",
        "v",
        max_age=60,
        expires=expires,
        path="/app",
        domain="example.com",
        secure=True,
        httponly=False,
        samesite="none",
        partitioned=True,
    )
    assert response.headers["set-cookie"] == (
        "s=v; expires=Wed, 02 Jan 2030 03:04:05 GMT; Max-Age=60; Domain=example.com; Path=/app; "
        "SameSite=none; Secure; Partitioned"
    )


def test_set_cookie_expires_as_seconds_and_string() -> None:
    assert "expires=" in build_cookie("a", "b", expires=10)
    assert "expires=Thu, 01 Jan 2099 00:00:00 GMT" in build_cookie("a", "b", expires="Thu, 01 Jan 2099 00:00:00 GMT")
    assert build_cookie("a", "b", path=None, samesite=None, httponly=False) == "a=b"


def test_several_cookies_are_several_headers() -> None:
    response = Response()
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    assert response.headers.getlist("set-cookie") == [
        "a=1; Path=/; SameSite=lax; HttpOnly",
        "b=2; Path=/; SameSite=lax; HttpOnly",
    ]


def test_cookie_values_are_quoted_when_needed() -> None:
    assert build_cookie("a", "x y", path=None, samesite=None, httponly=False) == 'a="x y"'
    assert build_cookie("a", "ü", path=None, samesite=None, httponly=False) == 'a="\\374"'


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key": "bad name", "value": "v"},
        {"key": "a;b", "value": "v"},
        {"key": "a", "value": "v;w"},
        {"key": "a", "value": "v\r\nSet-Cookie: x=y"},
        {"key": "a", "value": "v\x00"},
        {"key": "a", "value": "v\x7f"},
        {"key": "a", "value": "v", "path": "/\r\n"},
        {"key": "a", "value": "v", "domain": "x;y"},
        {"key": "a", "value": "v", "samesite": "sometimes"},
        {"key": "a", "value": "v", "samesite": "none"},
        {"key": "a", "value": "€"},
    ],
)
def test_set_cookie_rejects_bad_input(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Response().set_cookie(**kwargs)


def test_delete_cookie() -> None:
    response = Response()
    response.delete_cookie("session", path="/app", domain="example.com")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith('session=""; expires=')
    assert "Max-Age=0; Domain=example.com; Path=/app; SameSite=lax; HttpOnly" in cookie


def test_cookies_reach_the_client() -> None:
    app = Ketch()

    @app.get("/login")
    async def login() -> Response:
        response = PlainTextResponse("in")
        response.set_cookie("session", "token")
        return response

    @app.get("/whoami")
    async def whoami(request: Request) -> str:
        return str(request.cookies.get("session"))

    client = TestClient(app)
    client.get("/login")
    assert client.get("/whoami").json() == "token"


# -- JSON ----------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Model(pydantic.BaseModel):
    name: str
    when: datetime.date


def test_json_renders_many_types() -> None:
    content = {
        "text": "héllo ☃",
        "list": [1, 2.5, None, True],
        "point": Point(1, 2),
        "model": Model(name="m", when=datetime.date(2024, 2, 29)),
        "uuid": uuid.UUID(int=1),
        "at": datetime.datetime(2024, 1, 1, 12, 0),
        "tuple": (1, 2),
    }
    body = JSONResponse(content).body
    assert (
        body
        == (
            '{"text":"héllo ☃","list":[1,2.5,null,true],"point":{"x":1,"y":2},'
            '"model":{"name":"m","when":"2024-02-29"},"uuid":"00000000-0000-0000-0000-000000000001",'
            '"at":"2024-01-01T12:00:00","tuple":[1,2]}'
        ).encode()
    )


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), {"a": [float("nan")]}])
def test_json_refuses_nan_and_infinity(value: Any) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        JSONResponse(value)


def test_json_keeps_nan_text_inside_strings() -> None:
    assert JSONResponse({"NaN": "Infinity"}).body == b'{"NaN":"Infinity"}'


def test_json_status_and_headers() -> None:
    response = JSONResponse({"a": 1}, status_code=201, headers={"x-id": "9"})
    assert response.status_code == 201
    assert header_list(response) == [("x-id", "9"), ("content-length", "7"), ("content-type", "application/json")]


# -- redirects -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/plain", "/plain"),
        ("https://example.com/a?b=c#d", "https://example.com/a?b=c#d"),
        ("/a b", "/a%20b"),
        ("/ü", "/%C3%BC"),
        ("/already%20quoted", "/already%20quoted"),
        ("/x\r\nSet-Cookie: a=b", "/x%0D%0ASet-Cookie:%20a=b"),
        ("/nul\x00", "/nul%00"),
        ("/back\\slash", "/back%5Cslash"),
    ],
)
def test_redirect_location_is_encoded(url: str, location: str) -> None:
    response = RedirectResponse(url)
    assert response.status_code == 307
    assert response.headers["location"] == location
    assert response.body == b""


def test_redirect_status_headers_and_url_objects() -> None:
    from ketch import URL

    response = RedirectResponse(URL("http://example.com/x"), status_code=303, headers={"x-a": "1"})
    assert response.status_code == 303
    assert header_list(response) == [("x-a", "1"), ("content-length", "0"), ("location", "http://example.com/x")]


def test_redirect_through_the_client() -> None:
    app = Ketch()
    app.add_route("/old", lambda: RedirectResponse("/new", status_code=301))
    app.add_route("/new", lambda: "new")
    client = TestClient(app)
    response = client.get("/old")
    assert response.json() == "new"
    assert response.history[0].status_code == 301


# -- streaming -----------------------------------------------------------------------------------------------------


def test_streaming_async_and_sync_iterables() -> None:
    async def agen() -> AsyncIterator[str | bytes]:
        yield "a"
        yield b"b"
        yield "ü"

    def sgen() -> Iterator[bytes]:
        yield b"1"
        yield b"2"

    cases: list[tuple[Any, bytes]] = [(agen(), "abü".encode()), (sgen(), b"12"), ([b"x", "y"], b"xy")]
    for content, expected in cases:
        response = StreamingResponse(content, media_type="text/plain")
        messages, headers, body = serve(response)
        assert body == expected
        assert headers == {"content-type": "text/plain; charset=utf-8"}
        assert messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
        assert all(m["more_body"] for m in messages[1:-1])


def test_streaming_through_the_client_and_head() -> None:
    app = Ketch()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"{i},".encode()

        return StreamingResponse(body(), media_type="text/csv", headers={"x-kind": "csv"})

    client = TestClient(app)
    with client.stream("GET", "/stream") as response:
        assert list(response.iter_bytes()) == [b"0,", b"1,", b"2,"]
    head = client.head("/stream")
    assert (head.status_code, head.content, head.headers["x-kind"]) == (200, b"", "csv")
    assert "content-length" not in head.headers


def test_streaming_stops_and_closes_on_disconnect() -> None:
    closed = threading.Event()
    sent: list[Message] = []

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x"
                await asyncio.sleep(0.001)
        finally:
            closed.set()

    async def run() -> None:
        gone = asyncio.Event()

        async def receive() -> Message:
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)
            if len(sent) == 4:
                gone.set()

        await StreamingResponse(endless())({"type": "http"}, receive, send)

    asyncio.run(asyncio.wait_for(run(), 5))
    assert closed.is_set()
    count = len(sent)
    assert 4 <= count <= 6
    assert sent[-1].get("more_body") is True  # never completed after the client left


def test_streaming_iterator_error_propagates_after_start() -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"ok"
        raise ValueError("halfway")

    with pytest.raises(ValueError, match="halfway"):
        serve(StreamingResponse(broken()))


# -- background ----------------------------------------------------------------------------------------------------


def test_background_runs_after_the_body() -> None:
    order: list[str] = []

    async def task(label: str) -> None:
        order.append(label)

    def sync_task() -> None:
        order.append("sync")

    tasks = BackgroundTasks([BackgroundTask(task, "first")])
    tasks.add_task(sync_task)
    tasks.add_task(task, label="kw")
    messages, _, _ = serve(PlainTextResponse("done", background=tasks))
    assert order == ["first", "sync", "kw"]
    assert messages[-1]["body"] == b"done"


def test_background_after_a_stream() -> None:
    order: list[str] = []

    async def body() -> AsyncIterator[bytes]:
        order.append("body")
        yield b"x"

    serve(StreamingResponse(body(), background=BackgroundTask(order.append, "after")))
    assert order == ["body", "after"]


def test_background_through_the_client() -> None:
    app = Ketch()
    done: list[int] = []

    @app.get("/bg")
    async def bg() -> Response:
        return PlainTextResponse("ok", background=BackgroundTask(done.append, 1))

    assert TestClient(app).get("/bg").text == "ok"
    assert done == [1]


def test_sync_iterables_run_in_the_callers_context_and_close_when_cancelled() -> None:
    import contextvars
    import time

    from ketch.concurrency import iterate_in_threadpool

    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    closed = threading.Event()
    seen: list[str] = []

    def slow() -> Iterator[bytes]:
        try:
            for _ in range(100):
                seen.append(var.get())
                yield b"x"
                time.sleep(0.02)
        finally:
            closed.set()

    async def run() -> None:
        var.set("caller")

        async def consume() -> None:
            async for _ in iterate_in_threadpool(slow()):
                pass

        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0.05)
        task.cancel()  # lands while a step runs on a thread: the step finishes, then the generator is closed
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())
    assert closed.is_set()
    assert seen and set(seen) == {"caller"}
