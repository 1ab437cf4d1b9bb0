"""Reliability battery, core rows (RELIABILITY.md C1, C2, C6, C7, A3-A8, F1, F5, G1, G3, G4, G5, G9, H3).

Raw inputs go through hand-built ASGI scopes ("R" in the battery): a scripted ``receive`` and a recording ``send``
that behave like uvicorn (after the request body, ``receive`` blocks until the response is complete, then reports
a disconnect). After every case the app must still answer ``GET /health`` with 200.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import json
import logging
import os
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketch import (
    BackgroundTask,
    BackgroundTasks,
    HTTPException,
    Ketch,
    PlainTextResponse,
    RedirectResponse,
    Request,
    Response,
    StreamingResponse,
    WebSocket,
)
from ketch.middleware.base import CallNext
from ketch.requests import cookie_parser, valid_host
from ketch.responses import build_cookie
from ketch.types import Message

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- the raw ASGI driver ------------------------------------------------------------------------------------------


def http_scope(
    target: bytes | str = b"/",
    method: str = "GET",
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
    host: bytes | None = b"testserver",
    client: tuple[str, int] = ("127.0.0.1", 50000),
    kind: str = "http",
) -> Message:
    """A scope as uvicorn builds it from a request target: ``path`` is the percent-decoded UTF-8 (with U+FFFD for
    undecodable bytes), ``raw_path`` the bytes as sent."""
    if isinstance(target, str):
        target = target.encode("latin-1")
    raw_path, _, query = target.partition(b"?")
    all_headers = [(b"host", host)] if host is not None else []
    all_headers += headers or []
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "ws" if kind == "websocket" else "http",
        "path": unquote_to_bytes(raw_path).decode("utf-8", "replace"),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": all_headers,
        "client": client,
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


class Exchange:
    """What the app sent for one request."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.complete = asyncio.Event()

    async def send(self, message: Message) -> None:
        if self.complete.is_set():
            raise AssertionError(f"message sent after the response was complete: {message['type']}")
        self.messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.complete.set()

    @property
    def starts(self) -> list[Message]:
        return [m for m in self.messages if m["type"] == "http.response.start"]

    @property
    def status(self) -> int:
        assert len(self.starts) == 1, self.messages
        return int(self.starts[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode("latin-1"): v.decode("latin-1") for k, v in self.starts[0]["headers"]}

    @property
    def header_lines(self) -> list[tuple[bytes, bytes]]:
        return list(self.starts[0]["headers"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")


async def request(
    app: Any,
    scope: Message,
    body: Iterable[bytes] = (b"",),
    *,
    disconnect_after_body: bool = False,
) -> Exchange:
    """Run one request. ``body`` chunks arrive with ``more_body`` set on all but the last, unless
    ``disconnect_after_body``: then every chunk says more is coming and a disconnect follows."""
    exchange = Exchange()
    chunks = list(body)

    async def receive() -> Message:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks) or disconnect_after_body}
        if not disconnect_after_body:
            await exchange.complete.wait()
        return {"type": "http.disconnect"}

    await app(scope, receive, exchange.send)
    return exchange


async def get(app: Any, target: bytes | str, **kwargs: Any) -> Exchange:
    return await request(app, http_scope(target, **kwargs))


async def assert_healthy(app: Any) -> None:
    exchange = await get(app, "/health")
    assert exchange.status == 200
    assert exchange.body == b'{"status":"ok"}'


def make_app(**kwargs: Any) -> Ketch:
    app = Ketch(**kwargs)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- C1: undecodable and NUL input ---------------------------------------------------------------------------------


@pytest.fixture
def echo_app() -> Ketch:
    app = make_app()

    @app.get("/items/{name}")
    async def item(request: Request, name: str) -> Message:
        return {
            "name": name,
            "q": request.query_params.get("q"),
            "agent": request.headers.get("user-agent"),
            "cookie": request.cookies.get("c"),
            "path": request.url.path,
        }

    @app.get("/files/{rest:path}")
    async def files(rest: str) -> dict[str, str]:
        return {"rest": rest}

    return app


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "target",
    [b"/items/%ff%fe", b"/items/\xff\xfe", b"/items/%c3%28", b"/%ff", b"/items/%ed%a0%80"],
    ids=["pct-ff-fe", "raw-non-utf8", "bad-continuation", "root-pct-ff", "surrogate-utf8"],
)
async def test_c1_undecodable_path_is_replaced_not_500(echo_app: Ketch, target: bytes) -> None:
    exchange = await get(echo_app, target)
    assert exchange.status in (200, 404)
    if exchange.status == 200:
        assert "\ufffd" in exchange.body.decode("utf-8")
    await assert_healthy(echo_app)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("target", [b"/items/a%00b", b"/items/%00", b"/files/x/%00/y", b"/files/%00"])
async def test_c1_nul_in_path_never_reaches_a_parameter(echo_app: Ketch, target: bytes) -> None:
    exchange = await get(echo_app, target)
    assert exchange.status == 404
    assert b"\\u0000" not in exchange.body and b"\x00" not in exchange.body
    await assert_healthy(echo_app)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("target", [b"/n/" + b"9" * 5000, b"/n/" + b"9" * 5000 + b"/", b"/f/" + b"9" * 5000 + b"/"])
async def test_c1_path_params_their_convertor_refuses_are_404(target: bytes, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()

    @app.get("/n/{v:int}")
    async def number(v: int) -> int:
        return v

    @app.get("/f/{v:float}")
    async def real(v: float) -> float:
        return v

    exchange = await get(app, target)  # int() refuses 5000 digits; the slash-redirect lookup must not 500
    assert exchange.status == 404
    assert error_records(caplog) == []
    await assert_healthy(app)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("query", [b"q=%ff", b"q=%ff%fe%fd", b"q=\xff", b"%ff=%ff", b"q=%", b"q=%zz&&&=&"])
async def test_c1_undecodable_query_is_replaced(echo_app: Ketch, query: bytes) -> None:
    exchange = await get(echo_app, b"/items/x?" + query)
    assert exchange.status == 200
    await assert_healthy(echo_app)


@pytest.mark.timeout(10)
async def test_c1_nul_in_query_reaches_the_handler_as_text_not_500(echo_app: Ketch) -> None:
    exchange = await get(echo_app, b"/items/x?q=a%00b")
    assert exchange.status == 200
    assert exchange.body.startswith(b'{"name":"x","q":"a\\u0000b"')
    await assert_healthy(echo_app)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "value",
    [b"caf\xe9", b"\xff\xfe\xfd", b"\xc3\x28", b"a\x00b", b"\x80" * 1000],
    ids=["latin1", "ff", "c3", "nul", "x80"],
)
async def test_c1_header_values_decode_as_latin1(echo_app: Ketch, value: bytes) -> None:
    headers = [(b"user-agent", value), (b"cookie", b"c=" + value)]
    exchange = await get(echo_app, "/items/x", headers=headers)
    assert exchange.status == 200
    data = json.loads(exchange.body)
    assert data["agent"] == data["cookie"] == value.decode("latin-1")
    await assert_healthy(echo_app)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "cookie",
    [b'c="' + b"\\" * 30_000 + b'"', b'c="' + b"\\0" * 20_000 + b'"', b"; ".join([b"k=v"] * 10_000), b"=;" * 30_000],
    ids=["backslashes", "octal-ish", "10k-cookies", "empty-pairs"],
)
async def test_c4_pathological_cookie_header_parses_in_linear_time(echo_app: Ketch, cookie: bytes) -> None:
    # http.cookies._unquote before 3.11.10 is quadratic in backslashes (CVE-2024-7592).
    started = time.perf_counter()
    exchange = await get(echo_app, "/items/x", headers=[(b"cookie", cookie)])
    assert time.perf_counter() - started < 0.25
    assert exchange.status == 200
    await assert_healthy(echo_app)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("count", [500, 5000])
async def test_c4_many_headers_are_fine(echo_app: Ketch, count: int) -> None:
    headers = [(f"x-h{i}".encode(), b"v") for i in range(count)] + [(b"user-agent", b"ua")]
    exchange = await get(echo_app, "/items/x", headers=headers)
    assert exchange.status == 200
    assert json.loads(exchange.body)["agent"] == "ua"
    await assert_healthy(echo_app)


# -- C2: many query parameters -------------------------------------------------------------------------------------


@pytest.fixture
def query_app() -> Ketch:
    app = make_app()

    @app.get("/q")
    async def q(request: Request) -> dict[str, int]:
        return {"n": len(request.query_params.multi_items())}

    return app


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "query",
    [
        "&".join(f"k{i}=v" for i in range(10_000)).encode(),
        b"&".join([b"k=v"] * 10_000),
        b"&" * 10_000,
    ],
    ids=["10k-distinct", "10k-repeats", "10k-empty"],
)
async def test_c2_too_many_query_params_is_400(query_app: Ketch, query: bytes) -> None:
    started = time.perf_counter()
    exchange = await get(query_app, b"/q?" + query)
    elapsed = time.perf_counter() - started
    assert exchange.status == 400
    assert exchange.body == b'{"detail":"Too many query parameters"}'
    assert elapsed < 0.5  # the count is checked before anything is parsed
    await assert_healthy(query_app)


@pytest.mark.timeout(10)
async def test_c2_query_params_up_to_the_limit_parse_linearly(query_app: Ketch) -> None:
    query = "&".join(f"k{i}=v" for i in range(1000)).encode()
    started = time.perf_counter()
    exchange = await get(query_app, b"/q?" + query)
    assert time.perf_counter() - started < 0.5
    assert exchange.status == 200
    assert exchange.body == b'{"n":1000}'
    await assert_healthy(query_app)


@pytest.mark.timeout(10)
async def test_c2_semicolon_is_not_a_separator(query_app: Ketch) -> None:
    exchange = await get(query_app, b"/q?" + b";".join([b"k=v"] * 10_000))
    assert exchange.body == b'{"n":1}'
    await assert_healthy(query_app)


@pytest.mark.timeout(10)
async def test_c2_one_64k_query_parses_quickly(query_app: Ketch) -> None:
    started = time.perf_counter()
    exchange = await get(query_app, b"/q?q=" + b"%41" * 21_000)
    assert time.perf_counter() - started < 0.5
    assert exchange.status == 200
    assert exchange.body == b'{"n":1}'
    await assert_healthy(query_app)


@pytest.mark.timeout(10)
async def test_c2_max_query_params_is_configurable() -> None:
    from ketch import Limits

    app = make_app(limits=Limits(max_query_params=2))

    @app.get("/q")
    async def q(request: Request) -> dict[str, int]:
        return {"n": len(request.query_params)}

    assert (await get(app, b"/q?a=1&b=2")).status == 200
    assert (await get(app, b"/q?a=1&b=2&c=3")).status == 400
    await assert_healthy(app)


# -- C6: methods ---------------------------------------------------------------------------------------------------


@pytest.fixture
def method_app() -> Ketch:
    app = make_app()

    @app.get("/items")
    async def list_items() -> list[int]:
        return [1, 2]

    @app.post("/items")
    async def create_item() -> dict[str, bool]:
        return {"created": True}

    @app.get("/items/{item_id:int}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return app


@pytest.mark.timeout(10)
@pytest.mark.parametrize("method", ["PROPFIND", "TRACE", "DELETE", "BREW", "CONNECT", "get"])
@pytest.mark.parametrize("path", ["/items", "/items/3"])
async def test_c6_unknown_or_unregistered_method_is_405_with_allow(method_app: Ketch, method: str, path: str) -> None:
    exchange = await get(method_app, path, method=method)
    assert exchange.status == 405
    allow = "GET, HEAD, OPTIONS, POST" if path == "/items" else "GET, HEAD, OPTIONS"
    assert exchange.headers["allow"] == allow
    assert exchange.body == b'{"detail":"Method Not Allowed"}'
    await assert_healthy(method_app)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("method", ["GET", "PROPFIND", "OPTIONS"])
async def test_c6_unknown_route_is_404_json(method_app: Ketch, method: str) -> None:
    exchange = await get(method_app, "/nope", method=method)
    assert exchange.status == 404
    assert exchange.headers["content-type"] == "application/json"
    assert exchange.body == b'{"detail":"Not Found"}'
    await assert_healthy(method_app)


@pytest.mark.timeout(10)
async def test_c6_automatic_head_and_options(method_app: Ketch) -> None:
    head = await get(method_app, "/items/3", method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["content-length"] == str(len(b'{"id":3}'))
    options = await get(method_app, "/items", method="OPTIONS")
    assert options.status == 200
    assert options.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert options.body == b""
    missing_head = await get(method_app, "/nope", method="HEAD")
    assert missing_head.status == 404
    assert missing_head.body == b""
    await assert_healthy(method_app)


# -- C7: open redirects and path normalisation ---------------------------------------------------------------------


@pytest.fixture
def redirect_app() -> Ketch:
    app = make_app()

    @app.get("/a/b")
    async def ab() -> str:
        return "ab"

    @app.get("/evil.com")
    async def evil() -> str:
        return "evil"

    @app.get("/evil.com/x/")
    async def evil_x() -> str:
        return "evil-x"

    @app.get("/p/{name}")
    async def param(name: str) -> dict[str, str]:
        return {"name": name}

    return app


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "target",
    [
        b"//evil.com/",
        b"//evil.com",
        b"///evil.com/",
        b"/\\evil.com",
        b"/\\evil.com/",
        b"/%5Cevil.com/",
        b"/%2F%2Fevil.com/",
        b"//evil.com/x",
        b"/%09/evil.com/",
        b"/a/./b",
        b"/a//b",
        b"/a/b/./",
        b"/a/../a/b/",
    ],
)
async def test_c7_no_protocol_relative_location(redirect_app: Ketch, target: bytes) -> None:
    exchange = await get(redirect_app, target)
    location = exchange.headers.get("location")
    if location is not None:
        assert location.startswith("http://testserver/")
        assert not location[len("http://testserver") :].startswith(("//", "/\\"))
    await assert_healthy(redirect_app)


@pytest.mark.timeout(10)
async def test_c7_dot_and_double_slash_segments_are_not_normalised(redirect_app: Ketch) -> None:
    # Documented choice: ketch routes on the path exactly as the server decoded it; no dot-segment removal, no
    # slash merging. Auth middleware sees the same scope["path"] the router matches on.
    assert (await get(redirect_app, "/a/./b")).status == 404
    assert (await get(redirect_app, "/a//b")).status == 404
    assert (await get(redirect_app, "/a/../a/b")).status == 404
    assert (await get(redirect_app, "/a/b")).status == 200
    await assert_healthy(redirect_app)


@pytest.mark.timeout(10)
async def test_c7_slash_redirect_is_absolute_and_keeps_the_query(redirect_app: Ketch) -> None:
    exchange = await get(redirect_app, "/a/b/?x=1")
    assert exchange.status == 307
    assert exchange.headers["location"] == "http://testserver/a/b?x=1"
    exchange = await get(redirect_app, "/evil.com/x")
    assert exchange.status == 307
    assert exchange.headers["location"] == "http://testserver/evil.com/x/"
    await assert_healthy(redirect_app)


@pytest.mark.timeout(10)
async def test_c7_encoded_slash_in_a_param_does_not_match_one_segment(redirect_app: Ketch) -> None:
    # The server decodes %2F to "/" in scope["path"], so the router never sees one segment "a/b".
    assert (await get(redirect_app, "/p/a%2Fb")).status == 404
    exchange = await get(redirect_app, "/p/a%20b")
    assert exchange.status == 200
    assert exchange.body == b'{"name":"a b"}'
    await assert_healthy(redirect_app)


# -- A5/A6/A8: body limits and short bodies ------------------------------------------------------------------------


@pytest.fixture
def body_app() -> tuple[Ketch, list[str]]:
    app = make_app(max_body_size=1000)
    ran: list[str] = []

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        ran.append("upload")
        return {"n": len(await request.body())}

    @app.post("/small", max_body_size=10)
    async def small(request: Request) -> dict[str, int]:
        ran.append("small")
        return {"n": len(await request.body())}

    @app.post("/large", max_body_size=100_000)
    async def large(request: Request) -> dict[str, int]:
        return {"n": len(await request.body())}

    @app.post("/unlimited", max_body_size=None)
    async def unlimited(request: Request) -> dict[str, int]:
        return {"n": len(await request.body())}

    @app.post("/twice")
    async def twice(request: Request) -> Message:
        first = await request.body()
        second = await request.body()
        streamed = b"".join([chunk async for chunk in request.stream()])
        return {"same": first == second == streamed, "n": len(first)}

    @app.post("/stream-first")
    async def stream_first(request: Request) -> Message:
        streamed = b"".join([chunk async for chunk in request.stream()])
        try:
            await request.body()
        except RuntimeError as exc:
            return {"n": len(streamed), "error": str(exc)}
        return {"n": len(streamed)}

    return app, ran


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("path", "declared"), [("/upload", 50_000_000), ("/upload", 1001), ("/small", 11), ("/large", 100_001)]
)
async def test_a5_declared_length_over_limit_is_413_before_reading(
    body_app: tuple[Ketch, list[str]], path: str, declared: int
) -> None:
    app, ran = body_app
    received = 0

    async def receive() -> Message:
        nonlocal received
        received += 1
        raise AssertionError("the body must not be read")

    exchange = Exchange()
    scope = http_scope(path, "POST", headers=[(b"content-length", str(declared).encode())])
    await app(scope, receive, exchange.send)
    assert exchange.status == 413
    assert exchange.body == b'{"detail":"Request body is too large"}'
    assert received == 0
    assert ran == []
    await assert_healthy(app)


@pytest.mark.timeout(10)
async def test_a5_per_route_override_allows_more_and_less(body_app: tuple[Ketch, list[str]]) -> None:
    app, _ = body_app
    body = b"x" * 5000
    headers = [(b"content-length", b"5000")]
    assert (await request(app, http_scope("/upload", "POST", headers=headers), [body])).status == 413
    exchange = await request(app, http_scope("/large", "POST", headers=headers), [body])
    assert (exchange.status, exchange.body) == (200, b'{"n":5000}')
    exchange = await request(app, http_scope("/unlimited", "POST"), [b"x" * 200_000])
    assert (exchange.status, exchange.body) == (200, b'{"n":200000}')
    assert (await request(app, http_scope("/small", "POST"), [b"x" * 11])).status == 413
    await assert_healthy(app)


@pytest.mark.timeout(10)
async def test_a5_invalid_content_length_is_400(body_app: tuple[Ketch, list[str]]) -> None:
    app, ran = body_app
    exchange = await request(app, http_scope("/upload", "POST", headers=[(b"content-length", b"12abc")]), [b"x"])
    assert exchange.status == 400
    assert ran == []
    await assert_healthy(app)


@pytest.mark.timeout(10)
async def test_a6_streamed_body_over_limit_stops_as_soon_as_crossed(body_app: tuple[Ketch, list[str]]) -> None:
    app, _ = body_app
    pulled = 0

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        if pulled > 20:
            raise AssertionError("kept reading past the limit")
        return {"type": "http.request", "body": b"x" * 300, "more_body": True}

    exchange = Exchange()
    await app(http_scope("/upload", "POST"), receive, exchange.send)
    assert exchange.status == 413
    assert pulled == 4  # 300, 600, 900, then 1200 crosses 1000
    await assert_healthy(app)


@pytest.mark.timeout(10)
async def test_a6_body_exactly_at_the_limit_is_accepted(body_app: tuple[Ketch, list[str]]) -> None:
    app, _ = body_app
    exchange = await request(app, http_scope("/upload", "POST"), [b"x" * 500, b"x" * 500])
    assert (exchange.status, exchange.body) == (200, b'{"n":1000}')
    await assert_healthy(app)


@pytest.mark.timeout(10)
async def test_a8_short_body_then_disconnect_no_hang_no_error_log(
    body_app: tuple[Ketch, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    app, ran = body_app
    scope = http_scope("/upload", "POST", headers=[(b"content-length", b"100")])
    exchange = await request(app, scope, [b"x" * 10], disconnect_after_body=True)
    assert ran == ["upload"]
    assert exchange.starts == []  # nobody is listening: nothing is sent
    assert error_records(caplog) == []
    await assert_healthy(app)


@pytest.mark.timeout(10)
async def test_a8_disconnect_before_any_body(
    body_app: tuple[Ketch, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    app, _ = body_app
    exchange = await request(app, http_scope("/upload", "POST"), [], disconnect_after_body=True)
    assert exchange.messages == []
    assert error_records(caplog) == []
    await assert_healthy(app)


@pytest.mark.timeout(10)
async def test_a8_body_read_twice_and_stream_after_body(body_app: tuple[Ketch, list[str]]) -> None:
    app, _ = body_app
    exchange = await request(app, http_scope("/twice", "POST"), [b"ab", b"cd", b"ef"])
    assert exchange.body == b'{"same":true,"n":6}'
    await assert_healthy(app)


@pytest.mark.timeout(10)
async def test_a8_body_after_stream_is_a_clear_runtime_error(body_app: tuple[Ketch, list[str]]) -> None:
    app, _ = body_app
    exchange = await request(app, http_scope("/stream-first", "POST"), [b"ab", b"cd"])
    assert exchange.status == 200
    assert exchange.body == b'{"n":4,"error":"The request body stream has already been consumed"}'
    await assert_healthy(app)


# -- A3/A4: raw request.json() -------------------------------------------------------------------------------------


@pytest.fixture
def json_app() -> Ketch:
    app = make_app()

    @app.post("/json")
    async def parse(request: Request) -> Any:
        return {"type": type(await request.json()).__name__}

    @app.get("/nan")
    async def nan():  # type: ignore[no-untyped-def]  # no annotation, so no response model: plain JSON encoding
        return {"value": float("nan")}

    @app.get("/nan-model")
    async def nan_model() -> dict[str, float]:
        return {"value": float("nan")}

    return app


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "payload",
    [
        b'{"a":"\xff"}',
        b'{"a":"\xc3\x28"}',
        b"\xff\xfe{}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"1" * 5000,
        b'{"n":' + b"9" * 5000 + b"}",
        b"NaN",
        b'{"x":Infinity}',
        b"-Infinity",
        b"{bad json",
        b"",
        b'"\x00"',
    ],
    ids=[
        "invalid-utf8",
        "bad-continuation",
        "bom-ish",
        "deep-array",
        "deep-object",
        "5000-digits",
        "5000-digit-field",
        "nan",
        "infinity",
        "neg-infinity",
        "broken",
        "empty",
        "control-char",
    ],
)
async def test_a3_a4_bad_json_is_400_fast(json_app: Ketch, payload: bytes, caplog: pytest.LogCaptureFixture) -> None:
    started = time.perf_counter()
    exchange = await request(json_app, http_scope("/json", "POST"), [payload])
    elapsed = time.perf_counter() - started
    assert exchange.status == 400
    assert exchange.body == b'{"detail":"Invalid JSON body"}'
    assert elapsed < 0.25  # the battery's bound is 50 ms; generous for a loaded CI machine
    assert error_records(caplog) == []
    await assert_healthy(json_app)


@pytest.mark.timeout(10)
async def test_a4_moderate_nesting_and_big_int_within_limits_parse(json_app: Ketch) -> None:
    exchange = await request(json_app, http_scope("/json", "POST"), [b"[" * 100 + b"]" * 100])
    assert exchange.body == b'{"type":"list"}'
    exchange = await request(json_app, http_scope("/json", "POST"), [b"1" * 4000])
    assert exchange.body == b'{"type":"int"}'
    await assert_healthy(json_app)


@pytest.mark.timeout(10)
async def test_a4_nan_output_is_a_logged_500_never_invalid_json(
    json_app: Ketch, caplog: pytest.LogCaptureFixture
) -> None:
    exchange = await get(json_app, "/nan")
    assert exchange.status == 500
    assert exchange.body == b"Internal Server Error"
    assert b"NaN" not in exchange.body
    assert len(error_records(caplog)) == 1
    # Through a response model, pydantic writes NaN as null, as FastAPI does: still valid JSON.
    modelled = await get(json_app, "/nan-model")
    assert (modelled.status, modelled.body) == (200, b'{"value":null}')
    await assert_healthy(json_app)


# -- F1: Host ------------------------------------------------------------------------------------------------------


@pytest.fixture
def host_app() -> Ketch:
    app = make_app()

    @app.get("/where")
    async def where(request: Request) -> dict[str, str]:
        return {
            "url": str(request.url),
            "path": request.url.path,
            "base": str(request.base_url),
            "for": str(request.url_for("where")),
        }

    @app.get("/slash")
    async def slash() -> str:
        return "slash"

    return app


BAD_HOSTS: list[list[tuple[bytes, bytes]]] = [
    [(b"host", b"x/docs?")],
    [(b"host", b"a@b")],
    [(b"host", b"ex ample")],
    [(b"host", b"")],
    [(b"host", b"good.example"), (b"host", b"evil.example")],
    [(b"host", b"evil.example#frag")],
    [(b"host", b"evil.example\\x")],
    [(b"host", b"\xff\xfe")],
    [(b"host", b"evil.example:99999999")],
    [(b"host", b"a" * 300)],
    [(b"host", b"evil.example\r\nx: y")],
    [],
]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("headers", BAD_HOSTS, ids=[repr(h)[:40] for h in BAD_HOSTS])
async def test_f1_bad_host_falls_back_to_the_server_address(
    host_app: Ketch, headers: list[tuple[bytes, bytes]]
) -> None:
    exchange = await get(host_app, "/where", host=None, headers=headers)
    assert exchange.status == 200
    assert exchange.body == (
        b'{"url":"http://127.0.0.1:8000/where","path":"/where",'
        b'"base":"http://127.0.0.1:8000/","for":"http://127.0.0.1:8000/where"}'
    )
    redirect = await get(host_app, "/slash/", host=None, headers=headers)
    assert redirect.status == 307
    assert redirect.headers["location"] == "http://127.0.0.1:8000/slash"
    await assert_healthy(host_app)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("host", [b"example.com", b"example.com:8080", b"[::1]:8000", b"127.0.0.1", b"EXAMPLE.com."])
async def test_f1_good_host_is_used(host_app: Ketch, host: bytes) -> None:
    exchange = await get(host_app, "/where", host=host)
    assert exchange.status == 200
    assert f'"for":"http://{host.decode()}/where"'.encode() in exchange.body
    await assert_healthy(host_app)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "host", [b"a" * 40 + b"!", b"a" * 250 + b"!", (b"a" * 60 + b".") * 4 + b"!", b"a." * 120 + b"-", b"1" * 254 + b":"]
)
async def test_f1_host_validation_does_not_backtrack(host_app: Ketch, host: bytes) -> None:
    started = time.perf_counter()
    exchange = await get(host_app, "/where", host=host)
    assert time.perf_counter() - started < 0.5  # microseconds when linear; backtracking took seconds at 26 bytes
    assert exchange.status == 200
    assert b'"for":"http://127.0.0.1:8000/where"' in exchange.body
    await assert_healthy(host_app)


@pytest.mark.timeout(10)
async def test_f1_forwarded_headers_are_ignored(host_app: Ketch) -> None:
    headers = [(b"x-forwarded-host", b"evil.example"), (b"x-forwarded-proto", b"https"), (b"forwarded", b"host=evil")]
    exchange = await get(host_app, "/where", headers=headers)
    assert b"evil" not in exchange.body
    assert b'"url":"http://testserver/where"' in exchange.body
    await assert_healthy(host_app)


# -- F5: header injection ------------------------------------------------------------------------------------------

INJECTIONS = ["a\r\nSet-Cookie: x=y", "a\nb", "a\rb", "a\x00b"]


@pytest.fixture
def injection_app() -> Ketch:
    app = make_app()

    @app.get("/header")
    async def header(request: Request) -> Response:
        return PlainTextResponse("x", headers={"x-echo": request.query_params["v"]})

    @app.get("/set-header")
    async def set_header(request: Request) -> Response:
        response = PlainTextResponse("x")
        response.headers["x-echo"] = request.query_params["v"]
        return response

    @app.get("/cookie")
    async def cookie(request: Request) -> Response:
        response = PlainTextResponse("x")
        response.set_cookie("c", request.query_params["v"])
        return response

    @app.get("/cookie-path")
    async def cookie_path(request: Request) -> Response:
        response = PlainTextResponse("x")
        response.set_cookie("c", "v", path=request.query_params["v"])
        return response

    @app.get("/media-type")
    async def media_type(request: Request) -> Response:
        return Response("x", media_type="text/" + request.query_params["v"])

    @app.get("/exc-header")
    async def exc_header(request: Request) -> Response:
        raise HTTPException(401, headers={"WWW-Authenticate": request.query_params["v"]})

    @app.get("/redirect")
    async def redirect(request: Request) -> Response:
        return RedirectResponse(request.query_params["v"])

    return app


def _quoted(value: str) -> bytes:
    from urllib.parse import quote

    return quote(value, safe="").encode()


def _assert_no_split(exchange: Exchange) -> None:
    for name, value in exchange.header_lines:
        assert not set(b"\r\n\x00") & set(name + value), (name, value)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("value", INJECTIONS)
@pytest.mark.parametrize("path", ["/header", "/set-header", "/cookie", "/cookie-path", "/media-type", "/exc-header"])
async def test_f5_control_characters_in_headers_are_rejected(
    injection_app: Ketch, path: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    exchange = await get(injection_app, path.encode() + b"?v=" + _quoted(value))
    assert exchange.status == 500
    assert exchange.body == b"Internal Server Error"
    _assert_no_split(exchange)
    assert len(error_records(caplog)) == 1
    await assert_healthy(injection_app)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("value", [*INJECTIONS, "/ok\r\n\r\n<script>", "http://x/\x00"])
async def test_f5_redirect_target_is_percent_encoded(injection_app: Ketch, value: str) -> None:
    exchange = await get(injection_app, b"/redirect?v=" + _quoted(value))
    assert exchange.status == 307
    _assert_no_split(exchange)
    location = exchange.headers["location"]
    assert "%0D" in location or "%0A" in location or "%00" in location
    await assert_healthy(injection_app)


@pytest.mark.timeout(10)
async def test_f5_request_path_with_control_escapes_is_harmless(injection_app: Ketch) -> None:
    for target in (b"/%0d%0aSet-Cookie:%20x=y/", b"/%1b[2J", b"/header/%0d%0a"):
        exchange = await get(injection_app, target)
        assert exchange.status == 404
        _assert_no_split(exchange)
    await assert_healthy(injection_app)


# -- G1: unhandled errors ------------------------------------------------------------------------------------------


@pytest.fixture
def error_app() -> Ketch:
    app = make_app()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret value /etc/passwd")

    @app.get("/sync-boom")
    def sync_boom() -> None:
        raise KeyError("secret")

    @app.get("/late")
    async def late() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"first"
            raise RuntimeError("late failure")

        return StreamingResponse(body(), media_type="text/plain")

    return app


@pytest.mark.timeout(10)
@pytest.mark.parametrize("path", ["/boom", "/sync-boom"])
async def test_g1_handler_raises_generic_500_logged_once(
    error_app: Ketch, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    exchange = await get(error_app, path, headers=[(b"accept", b"text/html")])
    assert exchange.status == 500
    assert exchange.body == b"Internal Server Error"
    assert exchange.headers["content-type"] == "text/plain; charset=utf-8"
    records = error_records(caplog)
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert path in records[0].getMessage()
    await assert_healthy(error_app)


@pytest.mark.timeout(10)
async def test_g1_error_after_start_no_second_start_connection_incomplete(
    error_app: Ketch, caplog: pytest.LogCaptureFixture
) -> None:
    exchange = await get(error_app, "/late")
    assert len(exchange.starts) == 1
    assert exchange.starts[0]["status"] == 200
    bodies = [m for m in exchange.messages if m["type"] == "http.response.body"]
    assert bodies[0]["body"] == b"first"
    assert all(m.get("more_body") for m in bodies)  # never completed: the server closes the connection
    assert len(error_records(caplog)) == 1
    await assert_healthy(error_app)


# -- G3: disconnect mid-stream -------------------------------------------------------------------------------------


@pytest.mark.timeout(10)
@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_g3_disconnect_mid_stream_closes_the_generator(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    closed = threading.Event()

    async def agen() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"tick"
                await asyncio.sleep(0.01)
        finally:
            closed.set()

    def sgen() -> Iterable[bytes]:
        try:
            for _ in range(1000):
                yield b"tick"
                time.sleep(0.005)
        finally:
            closed.set()

    @app.get("/ticks")
    async def ticks() -> StreamingResponse:
        return StreamingResponse(agen() if kind == "async" else sgen())

    exchange = Exchange()
    disconnect = asyncio.Event()

    async def receive() -> Message:
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        await exchange.send(message)
        if sum(m["type"] == "http.response.body" for m in exchange.messages) == 3:
            disconnect.set()

    started = time.perf_counter()
    await app(http_scope("/ticks"), receive, send)
    count = len(exchange.messages)
    assert await asyncio.to_thread(closed.wait, 1.0)
    assert time.perf_counter() - started < 1.5
    await asyncio.sleep(0.05)
    assert len(exchange.messages) == count  # nothing more is sent
    assert count <= 5
    assert error_records(caplog) == []
    await assert_healthy(app)


# -- G4: background tasks ------------------------------------------------------------------------------------------


@pytest.mark.timeout(10)
async def test_g4_background_task_raising_is_logged_response_unaffected(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    ran: list[str] = []

    def fails() -> None:
        ran.append("fails")
        raise ValueError("background failure")

    async def after() -> None:
        ran.append("after")

    @app.get("/bg")
    async def bg() -> Response:
        tasks = BackgroundTasks()
        tasks.add_task(fails)
        tasks.add_task(after)
        return PlainTextResponse("sent", background=tasks)

    @app.get("/bg-one")
    async def bg_one() -> Response:
        return PlainTextResponse("sent", background=BackgroundTask(fails))

    exchange = await get(app, "/bg")
    assert (exchange.status, exchange.body) == (200, b"sent")
    assert ran == ["fails"]  # documented rule (as Starlette): later tasks in the batch are skipped
    records = error_records(caplog)
    assert len(records) == 1 and "/bg" in records[0].getMessage()
    assert records[0].exc_info is not None and records[0].exc_info[0] is ValueError
    exchange = await get(app, "/bg-one")
    assert (exchange.status, exchange.body) == (200, b"sent")
    await assert_healthy(app)


# -- G5: middleware raising ----------------------------------------------------------------------------------------


@pytest.mark.timeout(10)
@pytest.mark.parametrize("where", ["before", "after", "after-stream"])
async def test_g5_middleware_raising_is_500_and_contextvars_do_not_leak(
    where: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    user: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="anonymous")
    unwound: list[str] = []

    @app.middleware("http")  # registered first, so it runs inside "outer" (the last added runs first)
    async def inner(request: Request, call_next: CallNext) -> Response:
        if request.url.path in ("/health", "/whoami"):
            return await call_next(request)
        user.set("alice")
        if where == "before":
            raise RuntimeError("before call_next")
        response = await call_next(request)
        if where == "after":
            raise RuntimeError("after call_next")
        return response

    @app.middleware("http")
    async def outer(request: Request, call_next: CallNext) -> Response:
        try:
            return await call_next(request)
        finally:
            unwound.append(request.url.path)

    @app.get("/x")
    async def x() -> dict[str, str]:
        return {"user": user.get()}

    @app.get("/whoami")
    async def whoami() -> dict[str, str]:
        return {"user": user.get()}

    # Each request runs in its own task, as a server runs it.
    exchange = await asyncio.create_task(get(app, "/x"))
    if where == "after-stream":
        assert (exchange.status, exchange.body) == (200, b'{"user":"alice"}')
    else:
        assert (exchange.status, exchange.body) == (500, b"Internal Server Error")
        assert len(error_records(caplog)) == 1
    assert unwound == ["/x"]  # the outer middleware still unwound
    assert user.get() == "anonymous"
    # The next request (its own task, as the server runs it) starts from a clean context.
    exchange = await asyncio.create_task(get(app, "/whoami"))
    assert exchange.body == b'{"user":"anonymous"}'
    await asyncio.create_task(assert_healthy(app))


@pytest.mark.timeout(10)
async def test_g5_error_handler_that_raises_is_a_generic_500(caplog: pytest.LogCaptureFixture) -> None:
    def broken_handler(request: Request, exc: Exception) -> Response:
        raise RuntimeError("the handler broke")

    app = make_app(exception_handlers={ValueError: broken_handler, 418: broken_handler})

    @app.get("/value")
    async def value() -> None:
        raise ValueError("original")

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418)

    for path in ("/value", "/teapot"):
        exchange = await get(app, path)
        assert (exchange.status, exchange.body) == (500, b"Internal Server Error")
    records = error_records(caplog)
    assert len(records) == 2  # one record per request, no recursion
    assert all(r.exc_info and r.exc_info[0] is RuntimeError for r in records)
    await assert_healthy(app)


# -- H3: WebSocket errors ------------------------------------------------------------------------------------------


async def ws_session(
    app: Any, path: str, incoming: list[str], *, denial: bool = False, hang_up: bool = False
) -> list[Message]:
    """Run one WebSocket session: connect, send ``incoming``, then wait for the app to close (or hang up)."""
    sent: list[Message] = []
    queue: list[Message] = [{"type": "websocket.connect"}]
    queue += [{"type": "websocket.receive", "text": text} for text in incoming]
    closed = asyncio.Event()

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        if not hang_up:
            await closed.wait()
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] in ("websocket.close", "websocket.http.response.body"):
            closed.set()

    scope = http_scope(path, "GET", kind="websocket")
    if denial:
        scope["extensions"] = {"websocket.http.response": {}}
    await app(scope, receive, send)
    return sent


@pytest.fixture
def ws_app() -> Ketch:
    app = make_app()

    @app.websocket("/before")
    async def before(websocket: WebSocket) -> None:
        raise RuntimeError("secret before accept")

    @app.websocket("/denied")
    async def denied(websocket: WebSocket) -> None:
        raise HTTPException(403, "go away")

    @app.websocket("/after")
    async def after(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        raise RuntimeError("secret after accept")

    @app.websocket("/gone")
    async def gone(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            await websocket.receive_text()

    return app


@pytest.mark.timeout(10)
@pytest.mark.parametrize("denial", [False, True])
async def test_h3_raise_before_accept_closes(ws_app: Ketch, denial: bool, caplog: pytest.LogCaptureFixture) -> None:
    sent = await ws_session(ws_app, "/before", [], denial=denial)
    assert sent == [{"type": "websocket.close", "code": 1011, "reason": ""}]
    assert len(error_records(caplog)) == 1
    await assert_healthy(ws_app)


@pytest.mark.timeout(10)
async def test_h3_http_exception_before_accept_is_a_denial(ws_app: Ketch) -> None:
    sent = await ws_session(ws_app, "/denied", [], denial=True)
    assert [m["type"] for m in sent] == ["websocket.http.response.start", "websocket.http.response.body"]
    assert sent[0]["status"] == 403
    assert sent[1]["body"] == b'{"detail":"go away"}'
    sent = await ws_session(ws_app, "/denied", [])
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]
    await assert_healthy(ws_app)


@pytest.mark.timeout(10)
async def test_h3_raise_after_accept_is_1011_without_traceback(ws_app: Ketch, caplog: pytest.LogCaptureFixture) -> None:
    sent = await ws_session(ws_app, "/after", ["hello"])
    assert sent[0]["type"] == "websocket.accept"
    assert sent[-1] == {"type": "websocket.close", "code": 1011, "reason": ""}
    assert "secret" not in repr(sent)
    assert len(error_records(caplog)) == 1
    await assert_healthy(ws_app)


@pytest.mark.timeout(10)
async def test_h2_client_disconnect_is_not_an_error(ws_app: Ketch, caplog: pytest.LogCaptureFixture) -> None:
    sent = await ws_session(ws_app, "/gone", ["a", "b"], hang_up=True)
    assert sent == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]
    assert error_records(caplog) == []
    await assert_healthy(ws_app)


# -- G9: soak ------------------------------------------------------------------------------------------------------


def _soak_app() -> Ketch:
    app = make_app(max_body_size=1024)

    @app.get("/ok/{n:int}")
    async def ok(request: Request, n: int) -> Message:
        return {"n": n, "q": request.query_params.get("q"), "c": request.cookies.get("c")}

    @app.get("/sync")
    def sync_ok() -> dict[str, bool]:
        return {"sync": True}

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/octet-stream")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418)

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for i in range(5):
                yield str(i).encode()

        return StreamingResponse(body(), media_type="text/plain")

    @app.get("/endless")
    async def endless() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            while True:
                yield b"x"
                await asyncio.sleep(0)

        return StreamingResponse(body())

    @app.middleware("http")
    async def tag(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        response.headers["x-soak"] = "1"
        return response

    return app


async def _soak_one(app: Ketch, i: int) -> int:
    kind = i % 10
    if kind == 0:
        return (await get(app, f"/ok/{i}?q=v", headers=[(b"cookie", b"c=1")])).status
    if kind == 1:
        return (await get(app, "/missing")).status
    if kind == 2:
        return (await get(app, "/ok/1", method="DELETE")).status
    if kind == 3:
        scope = http_scope("/echo", "POST", headers=[(b"content-length", b"4096")])
        return (await request(app, scope, [b"x" * 4096])).status
    if kind == 4:
        return (await get(app, "/boom")).status
    if kind == 5:
        return (await get(app, "/stream")).status
    if kind == 6:
        return (await request(app, http_scope("/echo", "POST"), [b"abc", b"def"])).status
    if kind == 7:
        exchange = await request(app, http_scope("/echo", "POST"), [b"ab"], disconnect_after_body=True)
        return 499 if not exchange.starts else exchange.status
    if kind == 8:
        exchange = Exchange()

        async def receive() -> Message:
            await asyncio.sleep(0)
            return {"type": "http.disconnect"}

        await app(http_scope("/endless"), receive, exchange.send)
        return exchange.status
    if i % 20 == 9:
        return (await get(app, "/sync")).status
    return (await get(app, "/teapot")).status


async def _soak(app: Ketch, count: int, offset: int = 0) -> dict[int, int]:
    statuses: dict[int, int] = {}
    for start in range(offset, offset + count, 50):
        results = await asyncio.gather(*(_soak_one(app, i) for i in range(start, start + 50)))
        for status in results:
            statuses[status] = statuses.get(status, 0) + 1
    return statuses


@pytest.mark.timeout(60)
async def test_g9_soak_memory_fds_threads_tasks_back_to_baseline() -> None:
    app = _soak_app()
    logger = logging.getLogger("ketch.error")
    errors: list[int] = []

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            errors.append(record.levelno)

    handler = Count()
    logger.addHandler(handler)
    old_propagate, logger.propagate = logger.propagate, False
    try:
        warm = await _soak(app, 2000)
        assert warm[200] and warm[404] and warm[405] and warm[413] and warm[500] and warm[418] and warm[499]
        errors.clear()
        gc.collect()
        fds = len(os.listdir("/proc/self/fd"))
        threads = threading.active_count()
        tasks = asyncio.all_tasks()
        tracemalloc.start(1)
        try:
            base = tracemalloc.take_snapshot()
            statuses = await _soak(app, 10_000, offset=2000)
            gc.collect()
            diff = tracemalloc.take_snapshot().compare_to(base, "filename")
        finally:
            tracemalloc.stop()
    finally:
        logger.removeHandler(handler)
        logger.propagate = old_propagate
    assert sum(statuses.values()) == 10_000
    assert statuses[500] == 1000 and len(errors) == 1000  # every 500 logged once, nothing else
    growth = sum(d.size_diff for d in diff)
    assert growth < 1 << 20, [str(d) for d in diff[:10]]
    assert len(os.listdir("/proc/self/fd")) == fds
    assert threading.active_count() <= threads + 1
    assert [t for t in asyncio.all_tasks() - tasks if not t.done()] == []
    await assert_healthy(app)


# -- properties (RELIABILITY.md "Property tests": 3, 4, 6) ---------------------------------------------------------

PROPERTY = settings(max_examples=200, deadline=200, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.timeout(30)
@PROPERTY
@given(host=st.binary(max_size=300) | st.from_regex(r"[a-z0-9.\-_:\[\]]{0,300}", fullmatch=True).map(str.encode))
def test_property_any_host_keeps_the_routed_path(host: bytes) -> None:
    scope = http_scope("/where/x", host=host)
    request = Request(scope)
    assert request.url.path == "/where/x"
    netloc = request.url.netloc
    text = host.decode("latin-1")
    assert netloc == (text if valid_host(text) else "127.0.0.1:8000")
    assert not set(netloc) & set("/?#@\\ \r\n\x00")


@pytest.mark.timeout(30)
@PROPERTY
@given(value=st.text(max_size=200))
def test_property_header_values_never_split(value: str) -> None:
    try:
        response = Response("x", headers={"x-value": value})
    except ValueError:
        assert set(value) & set("\r\n\x00") or any(ord(c) > 255 for c in value)
        return
    lines = [(k, v) for k, v in response.raw_headers if k == b"x-value"]
    assert lines == [(b"x-value", value.encode("latin-1"))]
    assert not set(lines[0][1]) & set(b"\r\n\x00")


@pytest.mark.timeout(30)
@PROPERTY
@given(value=st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters=";\x7f")))
def test_property_cookie_round_trip(value: str) -> None:
    header = build_cookie("c", value, path=None, samesite=None, httponly=False)
    assert not set(header) & set("\r\n\x00")
    assert cookie_parser(header) == {"c": value}


@pytest.mark.timeout(30)
@PROPERTY
@given(header=st.text(max_size=500))
def test_property_cookie_parser_never_raises(header: str) -> None:
    parsed = cookie_parser(header)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in parsed.items())
