"""Reliability battery, row H4: cross-site WebSocket hijacking (CSWSH).

Browsers send cookies with a WebSocket handshake whatever site the page is on, and CORS does not apply to it. A
native ketch app refuses a handshake that carries a ``Cookie`` and an ``Origin`` other than its own (or than one
listed in ``websocket_origins``) with a 403, before the endpoint or its dependencies run. The FastAPI and
Starlette compat apps accept it, as FastAPI and Starlette do.

Handshakes go through the test client where it can say what a browser would send, and through hand-built ASGI
scopes where it cannot (a bad ``Host`` header, two ``Origin`` headers, a server without the denial extension).
"""

# The compat apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"

import logging
from typing import Annotated, Any

import pytest

from ketch import Cookie, Depends, Ketch, Query, Router, WebSocket
from ketch._plan import CorePlanner
from ketch.testclient import TestClient, WebSocketDenialResponse
from ketch.types import Message
from ketch.websockets import allowed_origins, normalize_origin
from tests.compat.fastapi._diff import FASTAPI, KETCH, Surface

EVIL = "https://evil.example"
COOKIE = "session=alice"

# -- the apps ------------------------------------------------------------------------------------------------------


def typed_app(**options: Any) -> Ketch:
    """A typed route: a cookie parameter, a query parameter and a dependency that records that it ran."""
    app = Ketch(**options)
    app.state.ran = []

    def who(session: Annotated[str | None, Cookie()] = None) -> str:
        app.state.ran.append("dependency")
        return session or "anonymous"

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, user: Annotated[str, Depends(who)], room: Annotated[str, Query()] = "main"):
        app.state.ran.append("endpoint")
        await websocket.accept()
        await websocket.send_text(f"{user} in {room}")
        await websocket.close()

    return app


def core_app(**options: Any) -> Ketch:
    """A route of the core planner: the endpoint takes the connection and reads the cookie itself."""
    app = Ketch(planner=CorePlanner(), **options)
    app.state.ran = []

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        app.state.ran.append("endpoint")
        await websocket.accept()
        await websocket.send_text(f"{websocket.cookies.get('session', 'anonymous')} in main")
        await websocket.close()

    return app


APPS = pytest.mark.parametrize("make", [typed_app, core_app], ids=["typed", "core"])


def connect(app: Ketch, headers: dict[str, str], base_url: str = "http://testserver") -> str:
    """Open /ws with ``headers``; the first text the endpoint sends."""
    with TestClient(app, base_url=base_url).websocket_connect("/ws", headers=headers) as ws:
        return ws.receive_text()


def refused(app: Ketch, headers: dict[str, str], base_url: str = "http://testserver") -> WebSocketDenialResponse:
    with pytest.raises(WebSocketDenialResponse) as caught:
        connect(app, headers, base_url)
    return caught.value


# -- refused: a cookie from another site ---------------------------------------------------------------------------


@APPS
def test_cross_site_handshake_with_cookie_is_refused_before_the_endpoint(
    make: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = make()
    caplog.set_level(logging.DEBUG, logger="ketch")
    denial = refused(app, {"origin": EVIL, "cookie": COOKIE})
    assert (denial.status_code, denial.text) == (403, "Cross-site WebSocket handshake refused")
    assert app.state.ran == []  # neither the endpoint nor its dependencies ran
    # A client error: nothing at error level, a debug line that says who was refused.
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any(EVIL in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)


@APPS
@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "https://testserver",  # the same host over another scheme is another origin
        "http://testserver:8080",  # ... and so is another port
        "http://sub.testserver",
        "null",  # sandboxed frames and file:// pages
        "http://testserver/",  # not an origin at all
        "http://user@testserver",
        "",
    ],
)
def test_other_origins_with_cookie_are_refused(make: Any, origin: str) -> None:
    app = make()
    assert refused(app, {"origin": origin, "cookie": COOKIE}).status_code == 403
    assert app.state.ran == []


def test_same_host_over_plain_http_is_refused_on_a_tls_socket() -> None:
    # wss://testserver serves https://testserver's pages, not http://testserver's (a downgraded, injectable page).
    app = typed_app()
    assert refused(app, {"origin": "http://testserver", "cookie": COOKIE}, "https://testserver").status_code == 403


# -- allowed -------------------------------------------------------------------------------------------------------


@APPS
def test_same_origin_with_cookie_is_allowed(make: Any) -> None:
    assert connect(make(), {"origin": "http://testserver", "cookie": COOKIE}) == "alice in main"
    assert connect(make(), {"origin": "HTTP://TestServer", "cookie": COOKIE}) == "alice in main"
    assert connect(make(), {"origin": "https://testserver", "cookie": COOKIE}, "https://testserver") == "alice in main"
    assert connect(make(), {"origin": "http://testserver:8000", "cookie": COOKIE}, "http://testserver:8000") == (
        "alice in main"
    )


@APPS
def test_cross_site_without_cookie_is_allowed(make: Any) -> None:
    # Nothing ambient to hijack: a token-authenticated socket needs the token, which the other site does not have.
    app = make()
    assert connect(app, {"origin": EVIL}) == "anonymous in main"
    assert app.state.ran[-1] == "endpoint"


@APPS
def test_no_origin_is_allowed(make: Any) -> None:
    # Not a browser (browsers always send Origin with a WebSocket handshake): a CLI client, another service.
    assert connect(make(), {"cookie": COOKIE}) == "alice in main"


@APPS
def test_listed_origins_are_allowed(make: Any) -> None:
    app = make(websocket_origins=["https://App.Example.com", "http://localhost:5173"])
    assert connect(app, {"origin": "https://app.example.com", "cookie": COOKIE}) == "alice in main"
    assert connect(app, {"origin": "HTTPS://APP.EXAMPLE.COM", "cookie": COOKIE}) == "alice in main"
    assert connect(app, {"origin": "http://localhost:5173", "cookie": COOKIE}) == "alice in main"
    assert connect(app, {"origin": "http://testserver", "cookie": COOKIE}) == "alice in main"  # its own, still
    for other in ("http://app.example.com", "https://app.example.com:8443", "http://localhost:3000", EVIL):
        assert refused(app, {"origin": other, "cookie": COOKIE}).status_code == 403


@APPS
def test_star_turns_the_check_off(make: Any) -> None:
    app = make(websocket_origins=["*"])
    assert connect(app, {"origin": EVIL, "cookie": COOKIE}) == "alice in main"
    assert connect(app, {"origin": "null", "cookie": COOKIE}) == "alice in main"


def test_default_ports_are_normalised() -> None:
    app = typed_app(websocket_origins=["https://app.example.com:443", "http://other.example"])
    assert connect(app, {"origin": "https://app.example.com", "cookie": COOKIE}) == "alice in main"
    assert connect(app, {"origin": "http://other.example:80", "cookie": COOKIE}) == "alice in main"
    assert connect(app, {"origin": "http://testserver:80", "cookie": COOKIE}) == "alice in main"  # same origin
    assert refused(app, {"origin": "https://app.example.com:80", "cookie": COOKIE}).status_code == 403
    assert normalize_origin("https://h:443") == normalize_origin("https://h") == "https://h"
    assert normalize_origin("http://h:443") == "http://h:443"
    assert normalize_origin("https://[::1]:443") == "https://[::1]"
    assert normalize_origin("http://h:8080") == "http://h:8080"


# -- where the setting applies -------------------------------------------------------------------------------------


def test_routes_of_included_routers_use_the_apps_setting() -> None:
    def build(**options: Any) -> Ketch:
        router = Router()

        @router.websocket("/ws")
        async def ws(websocket: WebSocket) -> None:
            await websocket.accept()
            await websocket.send_text("in router")
            await websocket.close()

        outer = Router()
        outer.include_router(router, prefix="/inner")
        app = Ketch(**options)
        app.include_router(outer, prefix="/api")
        return app

    headers = {"origin": EVIL, "cookie": COOKIE}
    with pytest.raises(WebSocketDenialResponse) as caught:
        with TestClient(build()).websocket_connect("/api/inner/ws", headers=headers):
            pass
    assert caught.value.status_code == 403
    with TestClient(build(websocket_origins=[EVIL])).websocket_connect("/api/inner/ws", headers=headers) as ws:
        assert ws.receive_text() == "in router"


def test_a_mounted_ketch_app_uses_its_own_setting() -> None:
    # A mounted app is planned by itself, with its own settings (as its limits and handlers are).
    headers = {"origin": EVIL, "cookie": COOKIE}
    strict = Ketch(websocket_origins=["*"])
    strict.mount("/sub", typed_app())
    with pytest.raises(WebSocketDenialResponse) as caught:
        with TestClient(strict).websocket_connect("/sub/ws", headers=headers):
            pass
    assert caught.value.status_code == 403
    relaxed = Ketch()
    relaxed.mount("/sub", typed_app(websocket_origins=[EVIL]))
    with TestClient(relaxed).websocket_connect("/sub/ws", headers=headers) as ws:
        assert ws.receive_text() == "alice in main"


def test_the_setting_may_change_until_start_up() -> None:
    app = typed_app()
    app.websocket_origins = [EVIL]
    assert connect(app, {"origin": EVIL, "cookie": COOKIE}) == "alice in main"


def test_malformed_settings_fail_at_construction() -> None:
    for bad in (["https://app.example.com/"], ["app.example.com"], ["https://app.example.com/ws"], ["null"]):
        with pytest.raises(ValueError, match="not an origin"):
            Ketch(websocket_origins=bad)
    with pytest.raises(TypeError, match="list of origins"):
        Ketch(websocket_origins="https://app.example.com")
    assert allowed_origins([]) == frozenset()
    assert allowed_origins(["https://a.example", "*"]) is None


def test_plain_http_requests_are_not_checked() -> None:
    # Cross-site HTTP requests are CORS's and CSRF protection's business, not this check's.
    app = Ketch()

    @app.get("/")
    def home() -> dict[str, str]:
        return {"ok": "yes"}

    response = TestClient(app).get("/", headers={"origin": EVIL, "cookie": COOKIE})
    assert (response.status_code, response.json()) == (200, {"ok": "yes"})


# -- hand-built handshakes -----------------------------------------------------------------------------------------


async def handshake(
    app: Ketch, headers: list[tuple[bytes, bytes]], *, scheme: str = "ws", denial: bool = True
) -> list[Message]:
    """Run one handshake to /ws with exactly ``headers``; the messages the app sent."""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": scheme,
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "subprotocols": [],
        "extensions": {"websocket.http.response": {}} if denial else {},
    }
    sent: list[Message] = []
    messages = iter([{"type": "websocket.connect"}])

    async def receive() -> Message:
        return next(messages, {"type": "websocket.disconnect", "code": 1000})

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def kinds(sent: list[Message]) -> list[Any]:
    return [(m["type"], m.get("status", m.get("code"))) for m in sent if m["type"] != "websocket.http.response.body"]


ACCEPTED = [("websocket.accept", None), ("websocket.send", None), ("websocket.close", 1000)]
DENIED = [("websocket.http.response.start", 403)]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "hosts",
    [
        [],  # no Host at all: the server address is not what the page connected to
        [b"evil.example/x"],
        [b"testserver testserver"],
        [b"testserver", b"testserver"],  # two Host headers: which one the page used is not known
        [b"a" * 300],
    ],
    ids=["missing", "path", "space", "twice", "too-long"],
)
async def test_an_invalid_host_header_is_refused_when_origin_and_cookie_are_present(
    hosts: list[bytes], anyio_backend: str
) -> None:
    app = typed_app()
    origin = [(b"origin", b"http://" + (hosts[0] if hosts else b"testserver"))]
    host_headers = [(b"host", h) for h in hosts]
    assert kinds(await handshake(app, [*host_headers, *origin, (b"cookie", COOKIE.encode())])) == DENIED
    # Without a cookie there is nothing to protect, and the host is not looked at.
    assert kinds(await handshake(app, [*host_headers, *origin])) == ACCEPTED
    assert app.state.ran == ["dependency", "endpoint"]


@pytest.mark.anyio
async def test_hand_built_handshakes(anyio_backend: str) -> None:
    app = typed_app()
    cookie = (b"cookie", COOKIE.encode())
    host = (b"host", b"app.example.com:443")
    same = (b"origin", b"https://app.example.com")
    assert kinds(await handshake(app, [host, same, cookie], scheme="wss")) == ACCEPTED  # ":443" is the default
    assert kinds(await handshake(app, [host, same, cookie], scheme="ws")) == DENIED  # ws:// is http://...:443
    # Two Origin headers (no browser sends that): refused, even when one of them is right.
    assert kinds(await handshake(app, [host, same, same, cookie], scheme="wss")) == DENIED
    assert kinds(await handshake(app, [host, (b"origin", EVIL.encode()), cookie], scheme="wss")) == DENIED
    # A server without the denial extension: a close before accept, which the server answers with 403.
    sent = await handshake(app, [host, (b"origin", EVIL.encode()), cookie], scheme="wss", denial=False)
    assert kinds(sent) == [("websocket.close", 1008)]
    assert app.state.ran == ["dependency", "endpoint"]  # only the first handshake reached the endpoint


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- the compat apps: as FastAPI and Starlette, no check -----------------------------------------------------------


def compat_build(fastapi: Any, starlette: Any, **options: Any) -> Any:
    app = fastapi.FastAPI(**options)

    @app.websocket("/ws")
    async def ws(websocket: fastapi.WebSocket, session: Annotated[str | None, fastapi.Cookie()] = None):
        await websocket.accept()
        await websocket.send_text(f"hello {session}")
        await websocket.close()

    return app


def compat_transcript(surface: Surface, headers: dict[str, str]) -> list[Any]:
    disconnect = surface.starlette.websockets.WebSocketDisconnect
    transcript: list[Any] = []
    with surface.fastapi.testclient.TestClient(surface.build(compat_build)) as client:
        try:
            with client.websocket_connect("/ws", headers=headers) as ws:
                transcript.append(ws.receive_text())
                try:
                    ws.receive_text()
                except disconnect as exc:
                    transcript.append(("closed", exc.code))
        except disconnect as exc:
            transcript.append(("refused", getattr(exc, "status_code", exc.code)))
    return transcript


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": EVIL, "cookie": COOKIE},
        {"origin": "null", "cookie": COOKIE},
        {"origin": "http://testserver", "cookie": COOKIE},
        {"origin": EVIL},
    ],
)
def test_compat_fastapi_accepts_cross_site_handshakes_as_fastapi_does(headers: dict[str, str]) -> None:
    expected = compat_transcript(FASTAPI, headers)
    assert expected[0].startswith("hello")  # FastAPI itself accepts it
    assert compat_transcript(KETCH, headers) == expected


def test_compat_starlette_accepts_cross_site_handshakes() -> None:
    from ketch.compat.starlette.applications import Starlette
    from ketch.compat.starlette.routing import WebSocketRoute

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.cookies["session"])
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/ws", ws)])
    assert app.websocket_origins == ["*"]
    assert connect(app, {"origin": EVIL, "cookie": COOKIE}) == "alice"


def test_compat_apps_may_turn_the_check_on() -> None:
    from ketch.compat import fastapi, starlette
    from ketch.compat.starlette.applications import Starlette

    assert fastapi.FastAPI().websocket_origins == ["*"]
    assert Starlette(websocket_origins=[]).websocket_origins == []
    app = compat_build(fastapi, starlette, websocket_origins=["https://app.example.com"])
    client = TestClient(app)
    with pytest.raises(WebSocketDenialResponse) as caught:
        with client.websocket_connect("/ws", headers={"origin": EVIL, "cookie": COOKIE}):
            pass
    assert caught.value.status_code == 403
    with client.websocket_connect("/ws", headers={"origin": "https://app.example.com", "cookie": COOKIE}) as ws:
        assert ws.receive_text() == "hello alice"
