"""HTTPSRedirectMiddleware: Starlette's behaviour, and a Location that can only name the request's own host."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import pytest

from ketch import Ketch, PlainTextResponse, Request, Response, WebSocket
from ketch.middleware.httpsredirect import HTTPSRedirectMiddleware
from ketch.types import Message

Headers = list[tuple[bytes, bytes]]


def make_app() -> Ketch:
    app = Ketch()

    @app.get("/")
    def homepage(request: Request) -> Response:
        return PlainTextResponse("OK")

    @app.get("/health")
    def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    app.add_middleware(HTTPSRedirectMiddleware)
    return app


def http(
    app: Any,
    host: str | None = "testserver",
    *,
    headers: Headers | None = None,
    scheme: str = "http",
    path: str = "/",
    raw_path: bytes | None = None,
    query: bytes = b"",
    server: tuple[str, int | None] | None = ("10.0.0.1", 80),
) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request through raw ASGI, so any Host (or several, or none) and any raw path can be sent."""
    sent: list[Message] = []
    if headers is None:
        headers = [] if host is None else [(b"host", host.encode("latin-1"))]
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "scheme": scheme,
        "path": path,
        "query_string": query,
        "headers": headers,
        "server": server,
    }
    if raw_path is not None:
        scope["raw_path"] = raw_path

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def location(app: Any, host: str | None = "testserver", **kwargs: Any) -> str:
    status, headers, _ = http(app, host, **kwargs)
    assert status == 307
    return headers[b"location"].decode("latin-1")


def websocket(app: Any, scheme: str, denial_extension: bool) -> list[Message]:
    sent: list[Message] = []
    incoming = [{"type": "websocket.connect"}]
    scope: dict[str, Any] = {
        "type": "websocket",
        "scheme": scheme,
        "path": "/ws",
        "query_string": b"a=1",
        "headers": [(b"host", b"example.com:80")],
        "extensions": {"websocket.http.response": {}} if denial_extension else {},
    }

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


# -- Starlette's behaviour ---------------------------------------------------------------------------------------


def test_https_requests_pass_through() -> None:
    assert http(make_app(), scheme="https")[0] == 200


def test_http_is_redirected_to_https() -> None:
    app = make_app()
    assert location(app) == "https://testserver/"
    assert location(app, path="/a b/c", query=b"x=1&y=%20") == "https://testserver/a%20b/c?x=1&y=%20"
    assert location(app, raw_path=b"/p%2Fq") == "https://testserver/p%2Fq"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("testserver:80", "https://testserver/"),
        ("testserver:443", "https://testserver/"),
        ("testserver:123", "https://testserver:123/"),
        ("[::1]:80", "https://[::1]/"),
        ("[::1]:8000", "https://[::1]:8000/"),
        ("127.0.0.1:443", "https://127.0.0.1/"),
    ],
)
def test_default_ports_are_dropped(host: str, expected: str) -> None:
    assert location(make_app(), host) == expected


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        (("10.0.0.1", 80), "https://10.0.0.1/"),
        (("10.0.0.1", 8080), "https://10.0.0.1:8080/"),
        (("::1", 80), "https://[::1]/"),
        (("example.internal", None), "https://example.internal/"),
    ],
)
def test_without_host_the_server_address_is_used(server: tuple[str, int | None], expected: str) -> None:
    assert location(make_app(), None, server=server) == expected


def test_without_host_or_server_the_request_is_refused() -> None:
    status, _, body = http(make_app(), None, server=None)
    assert (status, body) == (400, b"Invalid host header")


def test_websocket_is_redirected_to_wss() -> None:
    sent = websocket(make_app(), "ws", denial_extension=True)
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 307
    assert dict(sent[0]["headers"])[b"location"] == b"wss://example.com/ws?a=1"


def test_websocket_without_the_denial_extension_is_closed() -> None:
    assert websocket(make_app(), "ws", denial_extension=False) == [
        {"type": "websocket.close", "code": 1008, "reason": ""}
    ]


def test_secure_websocket_passes_through() -> None:
    sent = websocket(make_app(), "wss", denial_extension=True)
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"]


def test_lifespan_passes_through() -> None:
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    asyncio.run(HTTPSRedirectMiddleware(inner)({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == ["lifespan"]


# -- RELIABILITY F1 (bad Host) and never an open redirect ----------------------------------------------------------


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "host",
    [
        "x/docs?",
        "a@b",
        "evil.com@example.com",
        "ex ample",
        "",
        "evil.com/",
        "evil.com#",
        "evil.com\\x",
        "evil.com:80/x",
        "evil.com:abc",
        "evil.com\x00",
        "a" * 300,
    ],
)
def test_an_invalid_host_is_replaced_by_the_server_address(host: str) -> None:
    app = make_app()
    assert location(app, host, path="/p") == "https://10.0.0.1/p"
    assert http(app, scheme="https", path="/health")[0] == 200


@pytest.mark.timeout(10)
def test_two_host_headers_use_the_server_address() -> None:
    headers = [(b"host", b"example.com"), (b"host", b"evil.com")]
    assert location(make_app(), headers=headers) == "https://10.0.0.1/"


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "raw_path",
    [b"//evil.com/x", b"///evil.com", b"/\\evil.com", b"\\\\evil.com", b"@evil.com", b"evil.com", b":@evil.com", b""],
)
def test_the_location_always_names_the_request_host(raw_path: bytes) -> None:
    target = location(make_app(), "example.com", raw_path=raw_path, path="/x")
    parts = urlsplit(target)
    assert (parts.scheme, parts.netloc) == ("https", "example.com")
    assert target.startswith("https://example.com/")


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("raw_path", "query"),
    [(b"/a\r\nSet-Cookie: x=1", b""), (b"/", b"q=\r\nSet-Cookie: x=1"), (b"/\x00", b"\x1b[2J")],
)
def test_control_characters_cannot_split_the_response(raw_path: bytes, query: bytes) -> None:
    status, headers, _ = http(make_app(), "example.com", raw_path=raw_path, query=query)
    assert status == 307
    assert b"set-cookie" not in headers
    assert not set(headers[b"location"]) & {0, 10, 13, 27}
