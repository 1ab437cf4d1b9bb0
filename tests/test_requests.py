"""Request and HTTPConnection: lazy, cached access to what a request carries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ketch import HTTPException, Ketch, Limits, Request, State
from ketch.requests import HTTPConnection, cookie_parser, valid_host
from ketch.testclient import TestClient
from ketch.types import Message


def scope_for(
    path: str = "/",
    *,
    method: str = "GET",
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers if headers is not None else [(b"host", b"example.com")],
        "client": ("203.0.113.9", 4321),
        "server": ("10.0.0.1", 8000),
    }
    scope.update(extra)
    return scope


def receiver(*chunks: bytes, disconnect: bool = False) -> Any:
    messages: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1 or disconnect}
        for i, chunk in enumerate(chunks)
    ]

    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        if disconnect:
            return {"type": "http.disconnect"}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return receive


# -- the connection ------------------------------------------------------------------------------------------------


def test_connection_basics() -> None:
    scope = scope_for(
        "/a b",
        query=b"x=1&x=2&y=",
        headers=[(b"host", b"example.com"), (b"x-multi", b"1"), (b"X-Multi", b"2"), (b"cookie", b'a=1; b="q"')],
        path_params={"id": 3},
    )
    scope["raw_path"] = b"/a%20b"
    request = Request(scope)
    assert request.method == "GET"
    assert request["path"] == "/a b"
    assert len(request) == len(scope) and set(request) == set(scope)
    assert request.headers.getlist("x-multi") == ["1", "2"]
    assert request.query_params.getlist("x") == ["1", "2"]
    assert request.query_params["x"] == "2"
    assert request.query_params["y"] == ""
    assert request.cookies == {"a": "1", "b": "q"}
    assert request.client is not None
    assert (request.client.host, request.client.port) == ("203.0.113.9", 4321)
    assert request.path_params == {"id": 3}
    assert str(request.url) == "http://example.com/a%20b?x=1&x=2&y="
    assert request.url.path == "/a%20b"
    assert request.url.query == "x=1&x=2&y="
    assert str(request.base_url) == "http://example.com/"
    assert request.headers is request.headers  # cached
    assert request.query_params is request.query_params
    assert request.url is request.url
    assert request.app is None


def test_connection_equality_is_identity() -> None:
    scope = scope_for()
    assert Request(scope) != Request(scope)
    request = Request(scope)
    assert request == request
    assert len({request, request}) == 1


def test_client_may_be_missing() -> None:
    scope = scope_for()
    del scope["client"]
    assert Request(scope).client is None


def test_url_without_raw_path_quotes_the_path() -> None:
    scope = scope_for("/ü ?/x")
    del scope["raw_path"]
    assert str(Request(scope).url) == "http://example.com/%C3%BC%20%3F/x"


@pytest.mark.parametrize(
    ("server", "scheme", "expected"),
    [
        (("10.0.0.1", 80), "http", "http://10.0.0.1/"),
        (("10.0.0.1", 443), "https", "https://10.0.0.1/"),
        (("10.0.0.1", 8443), "https", "https://10.0.0.1:8443/"),
        (("::1", 8000), "http", "http://[::1]:8000/"),
        (None, "http", "http://localhost/"),
    ],
)
def test_host_falls_back_to_the_server_address(server: Any, scheme: str, expected: str) -> None:
    scope = scope_for(headers=[(b"host", b"bad host")], scheme=scheme, server=server)
    assert str(Request(scope).base_url) == expected


def test_duplicate_host_headers_are_not_trusted() -> None:
    scope = scope_for(headers=[(b"host", b"a.example"), (b"host", b"b.example")])
    assert Request(scope).host == "10.0.0.1:8000"


@pytest.mark.parametrize(
    ("host", "valid"),
    [
        ("example.com", True),
        ("example.com:8080", True),
        ("EXAMPLE.COM.", True),
        ("localhost", True),
        ("127.0.0.1:8000", True),
        ("[::1]", True),
        ("[2001:db8::1]:443", True),
        ("my_service:80", True),
        ("", False),
        ("a b", False),
        ("a@b", False),
        ("x/y", False),
        ("x?y", False),
        ("x#y", False),
        ("x\\y", False),
        ("x:port", False),
        ("x:123456", False),
        ("-x.com", False),
        ("x..com", False),
        ("a" * 64 + ".com", False),
        ("[::1", False),
        ("ex\u00e4mple.com", False),
        ("a." * 130, False),
    ],
)
def test_valid_host(host: str, valid: bool) -> None:
    assert valid_host(host) is valid


def test_root_path_and_base_url() -> None:
    scope = scope_for("/api/x", root_path="/api")
    request = Request(scope)
    assert str(request.base_url) == "http://example.com/api/"
    scope = scope_for("/api/x", root_path="/api/child", app_root_path="/api")
    assert str(Request(scope).base_url) == "http://example.com/api/"


def test_state_is_shared_with_the_scope() -> None:
    scope = scope_for(state={"db": "conn"})
    request = Request(scope)
    assert isinstance(request.state, State)
    assert request.state.db == "conn"
    request.state.user = "ann"
    assert scope["state"]["user"] == "ann"
    assert Request(scope_for()).state._state == {}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1", {"a": "1"}),
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("a=1;b=2;", {"a": "1", "b": "2"}),
        ("a=1; a=2", {"a": "2"}),
        ('a="quoted value"', {"a": "quoted value"}),
        ('a="esc\\"aped"', {"a": 'esc"aped'}),
        ('a="\\101"', {"a": "A"}),
        ("a==b=", {"a": "=b="}),
        ("novalue", {"": "novalue"}),
        ("  spaced  =  x  ", {"spaced": "x"}),
        ("", {}),
        (";;;", {}),
        ("a=\x00\xff", {"a": "\x00\xff"}),
        ('a="', {"a": '"'}),
    ],
)
def test_cookie_parser(header: str, expected: dict[str, str]) -> None:
    assert cookie_parser(header) == expected


def test_several_cookie_headers_are_joined() -> None:
    request = Request(scope_for(headers=[(b"cookie", b"a=1"), (b"cookie", b"b=2")]))
    assert request.cookies == {"a": "1", "b": "2"}


def test_query_params_limit() -> None:
    request = Request(scope_for(query=b"a=1&b=2&c=3"), limits=Limits(max_query_params=2))
    with pytest.raises(HTTPException) as info:
        request.query_params  # noqa: B018
    assert info.value.status_code == 400
    unlimited = Request(scope_for(query=b"&".join([b"a=1"] * 5000)), limits=Limits(max_query_params=None))
    assert len(unlimited.query_params.getlist("a")) == 5000


# -- the body ------------------------------------------------------------------------------------------------------


async def _body(request: Request) -> bytes:
    return await request.body()


def test_body_json_and_stream() -> None:
    request = Request(scope_for(method="POST"), receiver(b'{"a":', b" [1, 2]}"))
    assert asyncio.run(request.json()) == {"a": [1, 2]}
    assert asyncio.run(request.body()) == b'{"a": [1, 2]}'

    async def stream_then_body() -> tuple[list[bytes], bytes]:
        streamed = Request(scope_for(method="POST"), receiver(b"ab", b"cd", b""))
        chunks = [chunk async for chunk in streamed.stream()]
        again = Request(scope_for(method="POST"), receiver(b"xy"))
        await again.body()
        replay = [chunk async for chunk in again.stream()]
        return chunks, b"".join(replay)

    chunks, replay = asyncio.run(stream_then_body())
    assert chunks == [b"ab", b"cd"]
    assert replay == b"xy"


def test_stream_twice_is_a_runtime_error() -> None:
    async def run() -> None:
        request = Request(scope_for(method="POST"), receiver(b"ab"))
        async for _ in request.stream():
            pass
        with pytest.raises(RuntimeError, match="already been consumed"):
            async for _ in request.stream():
                pass

    asyncio.run(run())


def test_empty_body() -> None:
    assert asyncio.run(Request(scope_for(method="POST"), receiver(b"")).body()) == b""


def test_disconnect_while_reading_is_client_disconnect() -> None:
    from ketch import ClientDisconnect

    request = Request(scope_for(method="POST"), receiver(b"ab", disconnect=True))
    with pytest.raises(ClientDisconnect):
        asyncio.run(request.body())


def test_body_limits() -> None:
    limits = Limits(max_body_size=4)
    declared = Request(scope_for(method="POST", headers=[(b"content-length", b"5")]), receiver(b"12345"), limits)
    with pytest.raises(HTTPException) as info:
        asyncio.run(declared.body())
    assert info.value.status_code == 413
    streamed = Request(scope_for(method="POST"), receiver(b"123", b"45"), limits)
    with pytest.raises(HTTPException) as info:
        asyncio.run(streamed.body())
    assert info.value.status_code == 413
    exact = Request(scope_for(method="POST"), receiver(b"12", b"34"), limits)
    assert asyncio.run(exact.body()) == b"1234"
    bad = Request(scope_for(method="POST", headers=[(b"content-length", b"x")]), receiver(b"1"), limits)
    with pytest.raises(HTTPException) as info:
        asyncio.run(bad.body())
    assert info.value.status_code == 400


def test_invalid_json_is_400() -> None:
    for payload in (b"{", b'{"a": NaN}', b"\xff", b""):
        request = Request(scope_for(method="POST"), receiver(payload))
        with pytest.raises(HTTPException) as info:
            asyncio.run(request.json())
        assert (info.value.status_code, info.value.detail) == (400, "Invalid JSON body")


def test_default_receive_raises() -> None:
    request = Request(scope_for())
    with pytest.raises(RuntimeError, match="Receive channel"):
        asyncio.run(request.body())


def test_is_disconnected() -> None:
    async def run() -> tuple[bool, bool]:
        waiting = Request(scope_for(), receiver())
        gone = Request(scope_for(), receiver(disconnect=True))
        return await waiting.is_disconnected(), await gone.is_disconnected()

    assert asyncio.run(run()) == (False, True)


def test_close_without_a_form_is_a_no_op() -> None:
    asyncio.run(Request(scope_for()).close())


def test_connection_class_is_the_base_of_request() -> None:
    connection = HTTPConnection(scope_for(query=b"a=b"))
    assert connection.query_params["a"] == "b"
    assert isinstance(Request(scope_for()), HTTPConnection)


# -- through the app -----------------------------------------------------------------------------------------------


def test_request_through_the_app() -> None:
    app = Ketch()

    @app.post("/echo/{name}")
    async def echo(request: Request, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "json": await request.json(),
            "q": request.query_params.getlist("q"),
            "agent": request.headers["user-agent"],
            "cookie": request.cookies.get("session"),
            "client": request.client.host if request.client else None,
            "url": str(request.url),
            "app": request.app is app,
        }

    client = TestClient(app, cookies={"session": "s1"}, headers={"user-agent": "tests"})
    response = client.post("/echo/ann?q=1&q=2", json={"k": "v"})
    assert response.json() == {
        "name": "ann",
        "json": {"k": "v"},
        "q": ["1", "2"],
        "agent": "tests",
        "cookie": "s1",
        "client": "testclient",
        "url": "http://testserver/echo/ann?q=1&q=2",
        "app": True,
    }


def test_form_urlencoded_through_the_app() -> None:
    app = Ketch()

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        data = await request.form()
        return {"a": data.getlist("a"), "b": data["b"]}

    response = TestClient(app).post("/form", data={"a": ["1", "2"], "b": "x y"})
    assert response.json() == {"a": ["1", "2"], "b": "x y"}


def test_uploads_left_open_are_closed_after_the_response() -> None:
    from ketch import UploadFile

    app = Ketch()
    kept: list[UploadFile] = []

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, Any]:
        form = await request.form()
        file = form["doc"]
        assert isinstance(file, UploadFile)
        kept.append(file)
        return {"name": file.filename, "data": (await file.read()).decode(), "closed": file.file.closed}

    response = TestClient(app).post("/upload", files={"doc": ("a.txt", b"content", "text/plain")})
    assert response.json() == {"name": "a.txt", "data": "content", "closed": False}
    assert kept[0].file.closed


def test_sync_endpoint_gets_the_request() -> None:
    app = Ketch()

    @app.get("/sync")
    def sync(request: Request) -> str:
        return request.query_params.get("v", "none")

    assert TestClient(app).get("/sync?v=1").json() == "1"


def test_request_limits_come_from_the_route() -> None:
    app = Ketch(max_body_size=3)

    @app.post("/a")
    async def a(request: Request) -> int | None:
        return request.limits.max_body_size

    @app.post("/b", max_body_size=None)
    async def b(request: Request) -> int:
        return len(await request.body())

    client = TestClient(app)
    assert client.post("/a").json() == 3
    assert client.post("/a", content=b"1234").status_code == 413
    assert client.post("/b", content=b"x" * 10_000).json() == 10_000
