"""TrustedHostMiddleware: Starlette's behaviour plus RELIABILITY F3 and the F1 duplicate-Host case."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

import pytest

from ketch import Ketch, PlainTextResponse, Request, Response, WebSocket
from ketch.middleware.trustedhost import TrustedHostMiddleware
from ketch.types import Message

Headers = list[tuple[bytes, bytes]]


def make_app(**options: Any) -> Ketch:
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
        await websocket.send_text("hello")
        await websocket.close()

    app.add_middleware(TrustedHostMiddleware, **options)
    return app


def http(
    app: Any,
    host: str | None = None,
    *,
    headers: Headers | None = None,
    path: str = "/",
    raw_path: bytes | None = None,
    query: bytes = b"",
    scheme: str = "http",
) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request through raw ASGI (so any Host bytes, several Host headers or none can be sent)."""
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
        "server": ("10.0.0.1", 8000),
        "client": ("10.0.0.2", 50000),
    }
    if raw_path is not None:
        scope["raw_path"] = raw_path

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], dict(sent[0]["headers"]), body


def websocket(app: Any, host: str, denial_extension: bool) -> list[Message]:
    sent: list[Message] = []
    incoming = [{"type": "websocket.connect"}]
    scope: dict[str, Any] = {
        "type": "websocket",
        "scheme": "ws",
        "path": "/ws",
        "query_string": b"",
        "headers": [(b"host", host.encode())],
        "extensions": {"websocket.http.response": {}} if denial_extension else {},
    }

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def assert_healthy(app: Any) -> None:
    assert http(app, "example.com", path="/health")[0] == 200


# -- Starlette's behaviour ---------------------------------------------------------------------------------------


def test_trusted_host() -> None:
    app = make_app(allowed_hosts=["testserver", "*.testserver"])
    assert http(app, "testserver")[0] == 200
    assert http(app, "subdomain.testserver")[0] == 200
    assert http(app, "invalidhost") == (
        400,
        {b"content-length": b"19", b"content-type": b"text/plain; charset=utf-8"},
        b"Invalid host header",
    )


def test_default_allows_any_host() -> None:
    app = make_app()
    assert http(app, "anything.example")[0] == 200
    assert http(app)[0] == 200  # HTTP/1.0 without Host


def test_wildcard_does_not_match_the_bare_domain() -> None:
    app = make_app(allowed_hosts=["*.example.com"])
    assert http(app, "a.example.com")[0] == 200
    assert http(app, "example.com")[0] == 400


@pytest.mark.parametrize("pattern", ["example.*.com", "*example.com", "ex*ample.com", "*.*.example.com", "**"])
def test_bad_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"\*\.example\.com"):
        TrustedHostMiddleware(PlainTextResponse("x"), allowed_hosts=[pattern])


def test_a_single_string_is_refused() -> None:
    with pytest.raises(TypeError):
        TrustedHostMiddleware(PlainTextResponse("x"), allowed_hosts="example.com")


def test_www_redirect() -> None:
    app = make_app(allowed_hosts=["www.example.com"])
    status, headers, _ = http(app, "example.com", path="/a b", query=b"x=1")
    assert status == 307
    assert headers[b"location"] == b"http://www.example.com/a%20b?x=1"
    status, headers, _ = http(app, "Example.COM.:8443", scheme="https", raw_path=b"/p%2Fq")
    assert (status, headers[b"location"]) == (307, b"https://www.example.com:8443/p%2Fq")


def test_www_redirect_can_be_disabled() -> None:
    app = make_app(allowed_hosts=["www.example.com"], www_redirect=False)
    assert http(app, "example.com")[0] == 400


@pytest.mark.parametrize("raw_path", [b"//evil.com/x", b"@evil.com", b"\\\\evil.com", b"/\\evil.com", b"evil.com"])
def test_www_redirect_stays_on_the_host(raw_path: bytes) -> None:
    app = make_app(allowed_hosts=["www.example.com"])
    status, headers, _ = http(app, "example.com", raw_path=raw_path)
    assert status == 307
    assert headers[b"location"].startswith(b"http://www.example.com/")
    assert urlsplit(headers[b"location"].decode()).hostname == "www.example.com"


# -- RELIABILITY F3 ----------------------------------------------------------------------------------------------

ALLOWED = ["example.com", "*.example.com"]


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "EXAMPLE.COM",
        "EXAMPLE.COM.",
        "example.com.",
        "example.com:8000",
        "EXAMPLE.COM.:443",
        "a.example.com",
        "A.B.Example.Com.",
        "deep.a.b.c.example.com:1",
    ],
)
def test_allowed_hosts_match(host: str) -> None:
    app = make_app(allowed_hosts=ALLOWED)
    assert http(app, host) == (200, {b"content-length": b"2", b"content-type": b"text/plain; charset=utf-8"}, b"OK")


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "host",
    [
        "exampleXcom",
        "evil.com.example.com.attacker",
        "example.com.attacker",
        "example.com.evil.org",
        "xexample.com",
        "evilexample.com",
        "example.co",
        "example.comm",
        "xample.com",
        "com",
        ".example.com",
        "example..com",
        "*.example.com",
        "a.example.com:abc",
        "example.com:",
        "example.com:80:80",
        "example.com/evil",
        "x/docs?",
        "a@b",
        "example.com@evil.com",
        "evil.com#.example.com",
        "evil.com?.example.com",
        "ex ample",
        "example.com\tx",
        "example.com\x00",
        "",
        " ",
        "[::1]",
        "ex\xe4mple.com",
        "a" * 300 + ".example.com",
    ],
)
def test_untrusted_or_invalid_hosts_are_refused(host: str) -> None:
    app = make_app(allowed_hosts=ALLOWED)
    status, _, body = http(app, host)
    assert (status, body) == (400, b"Invalid host header")
    assert_healthy(app)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("allowed", [ALLOWED, ["*"]], ids=["list", "any"])
@pytest.mark.parametrize(
    "hosts",
    [[b"example.com", b"example.com"], [b"example.com", b"evil.com"], [b"evil.com", b"example.com"]],
    ids=["same-twice", "good-then-bad", "bad-then-good"],
)
def test_two_host_headers_are_refused(allowed: list[str], hosts: list[bytes]) -> None:
    app = make_app(allowed_hosts=allowed)
    status, _, body = http(app, headers=[(b"host", h) for h in hosts])
    assert (status, body) == (400, b"Invalid host header")
    assert_healthy(app)


def test_missing_host_is_refused_when_hosts_are_listed() -> None:
    app = make_app(allowed_hosts=ALLOWED)
    assert http(app)[0] == 400


def test_ip_literals() -> None:
    app = make_app(allowed_hosts=["[::1]", "127.0.0.1"])
    assert http(app, "[::1]:8000")[0] == 200
    assert http(app, "[::1]")[0] == 200
    assert http(app, "127.0.0.1:8000")[0] == 200
    assert http(app, "[::2]")[0] == 400


@pytest.mark.timeout(10)
def test_a_pathological_host_is_refused_in_linear_time() -> None:
    code = (
        "import asyncio\n"
        "from ketch.middleware.trustedhost import TrustedHostMiddleware\n"
        "sent = []\n"
        "async def send(m): sent.append(m)\n"
        "async def inner(s, r, se): raise AssertionError\n"
        "app = TrustedHostMiddleware(inner, allowed_hosts=['example.com'])\n"
        "scope = {'type': 'http', 'path': '/', 'headers': [(b'host', b'a' * 250 + b'!')]}\n"
        "asyncio.run(app(scope, None, send))\n"
        "assert sent[0]['status'] == 400\n"
    )
    try:
        subprocess.run([sys.executable, "-c", code], timeout=3, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail("a 251-byte Host header took more than 3 s")


# -- WebSocket and other scopes ----------------------------------------------------------------------------------


def test_websocket_with_an_allowed_host() -> None:
    sent = websocket(make_app(allowed_hosts=ALLOWED), "a.example.com", denial_extension=False)
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]


def test_websocket_with_an_untrusted_host_gets_a_denial_response() -> None:
    sent = websocket(make_app(allowed_hosts=ALLOWED), "evil.com", denial_extension=True)
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 400
    assert sent[1]["type"] == "websocket.http.response.body"
    assert sent[1]["body"] == b"Invalid host header"


def test_websocket_with_an_untrusted_host_is_closed_without_the_extension() -> None:
    sent = websocket(make_app(allowed_hosts=ALLOWED), "evil.com", denial_extension=False)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


def test_lifespan_passes_through() -> None:
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    asyncio.run(TrustedHostMiddleware(inner, allowed_hosts=ALLOWED)({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == ["lifespan"]
