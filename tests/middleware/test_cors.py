"""CORSMiddleware: Starlette's behaviour, plus the RELIABILITY F6 payloads (each one a case)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from ketch import Ketch, PlainTextResponse, Request, Response, Router
from ketch.middleware.cors import ALL_METHODS, CORSMiddleware
from ketch.types import Message, Receive, Scope, Send

ORIGIN = "https://example.org"


def make_app(**options: Any) -> Ketch:
    app = Ketch()

    @app.api_route("/", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def homepage(request: Request) -> Response:
        return PlainTextResponse("Homepage")

    @app.get("/health")
    def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    app.add_middleware(CORSMiddleware, **options)
    return app


def request(app: Any, method: str = "GET", path: str = "/", headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, path, headers=headers)

    return asyncio.run(go())


def preflight(app: Any, origin: str = ORIGIN, method: str = "GET", **extra: str) -> httpx.Response:
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    headers.update({k.replace("_", "-"): v for k, v in extra.items()})
    return request(app, "OPTIONS", "/", headers)


def vary(response: httpx.Response) -> list[str]:
    return [v.strip() for line in response.headers.get_list("vary") for v in line.split(",")]


def assert_healthy(app: Any) -> None:
    assert request(app, "GET", "/health").status_code == 200


# -- Starlette's behaviour ---------------------------------------------------------------------------------------


def test_allow_all_with_credentials_echoes_the_origin() -> None:
    app = make_app(
        allow_origins=["*"],
        allow_headers=["*"],
        allow_methods=["*"],
        expose_headers=["X-Status"],
        allow_credentials=True,
    )
    response = preflight(app, Access_Control_Request_Headers="X-Example")
    assert response.status_code == 200
    assert response.text == "OK"
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-headers"] == "X-Example"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in vary(response)

    for headers in ({"Origin": ORIGIN}, {"Origin": ORIGIN, "Cookie": "a=b"}, {"Origin": ORIGIN, "Authorization": "x"}):
        response = request(app, headers=headers)
        assert response.text == "Homepage"
        assert response.headers["access-control-allow-origin"] == ORIGIN  # never "*" with credentials
        assert response.headers["access-control-expose-headers"] == "X-Status"
        assert response.headers["access-control-allow-credentials"] == "true"
        assert "Origin" in vary(response)

    response = request(app)
    assert "access-control-allow-origin" not in response.headers


def test_allow_all_without_credentials_sends_a_wildcard() -> None:
    app = make_app(allow_origins=["*"], allow_headers=["*"], allow_methods=["*"], expose_headers=["X-Status"])
    response = preflight(app, Access_Control_Request_Headers="X-Example")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-headers"] == "X-Example"
    assert "access-control-allow-credentials" not in response.headers

    for headers in ({"Origin": ORIGIN}, {"Origin": ORIGIN, "Cookie": "a=b"}):
        response = request(app, headers=headers)
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["access-control-expose-headers"] == "X-Status"
        assert "access-control-allow-credentials" not in response.headers


def test_allow_specific_origin() -> None:
    app = make_app(allow_origins=[ORIGIN], allow_headers=["X-Example", "Content-Type"])
    response = preflight(app, Access_Control_Request_Headers="X-Example, Content-Type")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-headers"] == (
        "Accept, Accept-Language, Content-Language, Content-Type, X-Example"
    )
    assert response.headers["access-control-allow-methods"] == "GET"
    assert response.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in response.headers

    response = request(app, headers={"Origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert vary(response) == ["Origin"]

    response = request(app)
    assert "access-control-allow-origin" not in response.headers
    assert vary(response) == ["Origin"]  # the same URL answers differently with an Origin: caches must know


def test_disallowed_preflight_names_every_failure() -> None:
    app = make_app(allow_origins=[ORIGIN], allow_headers=["X-Example"])
    response = preflight(app, "https://another.org", "POST", Access_Control_Request_Headers="X-Nope")
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin, method, headers"
    assert "access-control-allow-origin" not in response.headers

    response = preflight(app, Access_Control_Request_Headers="X-Nope-1, X-Nope-2")
    assert response.text == "Disallowed CORS headers"


def test_preflight_with_wildcard_and_credentials_echoes_the_origin() -> None:
    app = make_app(allow_origins=["*"], allow_methods=["POST"], allow_credentials=True)
    response = preflight(app, method="POST")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in vary(response)


def test_allow_all_methods() -> None:
    app = make_app(allow_origins=["*"], allow_methods=["*"])
    response = preflight(app, method="POST")
    assert response.status_code == 200
    assert response.headers["access-control-allow-methods"] == ", ".join(ALL_METHODS)
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
        assert request(app, method, headers={"Origin": ORIGIN}).status_code == 200


def test_options_without_request_method_is_not_a_preflight() -> None:
    app = make_app(allow_origins=[ORIGIN])
    response = request(app, "OPTIONS", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert "GET" in response.headers["allow"]  # the app's automatic OPTIONS answered
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_allow_origin_regex() -> None:
    app = make_app(allow_headers=["X-Example", "Content-Type"], allow_origin_regex="https://.*", allow_credentials=True)
    response = request(app, headers={"Origin": ORIGIN, "Cookie": "a=b"})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"

    response = request(app, headers={"Origin": "http://example.org"})
    assert "access-control-allow-origin" not in response.headers

    response = preflight(app, "https://another.com", Access_Control_Request_Headers="X-Example, content-type")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://another.com"
    assert response.headers["access-control-allow-credentials"] == "true"

    response = preflight(app, "http://another.com", Access_Control_Request_Headers="X-Example")
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers


def test_allow_origin_regex_is_a_fullmatch() -> None:
    app = make_app(allow_origin_regex=r"https://.*\.example\.org")
    response = request(app, headers={"Origin": "https://sub.example.org"})
    assert response.headers["access-control-allow-origin"] == "https://sub.example.org"
    response = request(app, headers={"Origin": "https://sub.example.org.hacker.com"})
    assert "access-control-allow-origin" not in response.headers


def test_allowed_headers_compare_case_insensitively() -> None:
    app = make_app(allow_origins=[ORIGIN], allow_headers=["x-example"])
    response = preflight(app, Access_Control_Request_Headers="X-EXAMPLE, content-TYPE,")
    assert response.status_code == 200


def test_private_network() -> None:
    allowed = make_app(allow_origins=["*"], allow_private_network=True)
    response = preflight(allowed, Access_Control_Request_Private_Network="true")
    assert response.status_code == 200
    assert response.headers["access-control-allow-private-network"] == "true"
    assert "access-control-allow-private-network" not in preflight(allowed).headers

    refused = make_app(allow_origins=["*"])
    response = preflight(refused, Access_Control_Request_Private_Network="true")
    assert response.status_code == 400
    assert response.text == "Disallowed CORS private-network"
    assert "access-control-allow-private-network" not in response.headers


def test_null_origin_when_listed_explicitly() -> None:
    app = make_app(allow_origins=["null"], allow_credentials=True)
    assert preflight(app, "null").headers["access-control-allow-origin"] == "null"
    assert request(app, headers={"Origin": "null"}).headers["access-control-allow-origin"] == "null"


@pytest.mark.parametrize(
    ("app_vary", "expected"),
    [
        (None, ["Origin"]),
        ([("vary", "Accept-Encoding")], ["Accept-Encoding", "Origin"]),
        ([("vary", "Accept-Encoding"), ("vary", "Cookie")], ["Accept-Encoding", "Cookie", "Origin"]),
        ([("vary", "origin")], ["origin"]),
        ([("vary", "*")], ["*"]),
    ],
)
def test_vary_is_merged_not_duplicated(app_vary: list[tuple[str, str]] | None, expected: list[str]) -> None:
    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        raw = [(k.encode(), v.encode()) for k, v in app_vary or []]
        await send({"type": "http.response.start", "status": 200, "headers": raw})
        await send({"type": "http.response.body", "body": b"x"})

    response = request(CORSMiddleware(inner, allow_origins=[ORIGIN]), headers={"Origin": ORIGIN})
    assert vary(response) == expected
    assert response.headers["access-control-allow-origin"] == ORIGIN


# -- RELIABILITY F6 ----------------------------------------------------------------------------------------------

REGEX = r"https://.*\.example\.com"
# (middleware options, Origin header): none of these may be granted anything.
DISALLOWED = [
    pytest.param({"allow_origins": [ORIGIN]}, "https://evil.org", id="unlisted-origin"),
    pytest.param({"allow_origins": [ORIGIN]}, "https://example.org.evil.org", id="listed-origin-as-prefix"),
    pytest.param({"allow_origins": [ORIGIN]}, "https://exampleXorg", id="dot-is-not-a-wildcard"),
    pytest.param({"allow_origins": [ORIGIN]}, "http://example.org", id="other-scheme"),
    pytest.param({"allow_origins": [ORIGIN]}, "https://example.org:8443", id="other-port"),
    pytest.param({"allow_origins": ["https://*.example.org"]}, "https://a.example.org", id="entries-are-not-globs"),
    pytest.param({"allow_origins": [ORIGIN]}, "null", id="null-not-listed"),
    pytest.param({"allow_origins": ["*"]}, "null", id="null-not-covered-by-wildcard"),
    pytest.param({"allow_origins": ["*"], "allow_credentials": True}, "null", id="null-with-credentials"),
    pytest.param({"allow_origin_regex": ".*"}, "null", id="null-not-covered-by-regex"),
    pytest.param({"allow_origin_regex": REGEX}, "https://evil.com?.example.com", id="regex-query-bypass"),
    pytest.param({"allow_origin_regex": REGEX}, "https://evil.com/.example.com", id="regex-path-bypass"),
    pytest.param({"allow_origin_regex": REGEX}, "https://evil.com#.example.com", id="regex-fragment-bypass"),
    pytest.param({"allow_origin_regex": REGEX}, "https://evil.com\\.example.com", id="regex-backslash-bypass"),
    pytest.param({"allow_origin_regex": REGEX}, "https://evil.com%2F.example.com", id="regex-percent-bypass"),
    pytest.param({"allow_origin_regex": REGEX}, "https://evil.com .example.com", id="regex-space-bypass"),
    pytest.param({"allow_origin_regex": REGEX}, "https://evil.com@a.example.com", id="regex-userinfo-bypass"),
    pytest.param({"allow_origin_regex": REGEX}, "https://a.example.com.evil.net", id="regex-suffix-bypass"),
    pytest.param({"allow_origin_regex": REGEX}, "https://a.example.com:x", id="regex-bad-port"),
    pytest.param({"allow_origin_regex": REGEX}, "https://" + "a" * 5000 + ".example.com", id="regex-huge-origin"),
    pytest.param({"allow_origins": ["*"], "allow_credentials": True}, "javascript:alert(1)", id="not-an-origin"),
]


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("options", "origin"), DISALLOWED)
def test_disallowed_origin_preflight_is_refused(options: dict[str, Any], origin: str) -> None:
    app = make_app(**options)
    response = preflight(app, origin)
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers
    assert "Origin" in vary(response)
    assert_healthy(app)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("options", "origin"), DISALLOWED)
def test_disallowed_origin_gets_no_cors_headers(options: dict[str, Any], origin: str) -> None:
    app = make_app(expose_headers=["X-Status"], **options)
    response = request(app, headers={"Origin": origin, "Cookie": "session=1"})
    assert response.status_code == 200
    assert response.text == "Homepage"
    assert not [name for name in response.headers if name.startswith("access-control-")]
    assert "Origin" in vary(response)
    assert_healthy(app)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("options", "method", "extra", "failure"),
    [
        pytest.param({"allow_origins": [ORIGIN]}, "DELETE", {}, "method", id="method"),
        pytest.param({"allow_origins": ["*"]}, "PUT", {}, "method", id="method-with-wildcard-origin"),
        pytest.param(
            {"allow_origins": [ORIGIN], "allow_credentials": True},
            "GET",
            {"Access-Control-Request-Headers": "X-Secret"},
            "headers",
            id="header",
        ),
        pytest.param(
            {"allow_origins": [ORIGIN], "allow_headers": ["*"]},
            "GET",
            {"Access-Control-Request-Headers": "X-Ok, Bad Header"},
            "headers",
            id="header-not-a-token",
        ),
        pytest.param(
            {"allow_origins": [ORIGIN]},
            "GET",
            {"Access-Control-Request-Private-Network": "true"},
            "private-network",
            id="private-network",
        ),
    ],
)
def test_preflight_refused_for_an_allowed_origin_grants_nothing(
    options: dict[str, Any], method: str, extra: dict[str, str], failure: str
) -> None:
    app = make_app(**options)
    response = request(app, "OPTIONS", headers={"Origin": ORIGIN, "Access-Control-Request-Method": method, **extra})
    assert response.status_code == 400
    assert response.text == f"Disallowed CORS {failure}"
    for grant in ("origin", "credentials", "private-network"):
        assert f"access-control-allow-{grant}" not in response.headers
    assert_healthy(app)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("origins", [["*"], [ORIGIN, "https://other.org"]])
@pytest.mark.parametrize("extra", [{}, {"Cookie": "a=b"}, {"Authorization": "Bearer x"}])
def test_credentials_never_get_a_wildcard(origins: list[str], extra: dict[str, str]) -> None:
    app = make_app(allow_origins=origins, allow_credentials=True, allow_methods=["*"])
    for origin in (ORIGIN, "https://other.org"):
        response = request(app, headers={"Origin": origin, **extra})
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["access-control-allow-credentials"] == "true"
        assert "Origin" in vary(response)
        response = preflight(app, origin, "POST")
        assert response.headers["access-control-allow-origin"] == origin
        assert "Origin" in vary(response)


SHARED = PlainTextResponse("shared", headers={"Vary": "Cookie"})
SHARED_HEADERS = list(SHARED.raw_headers)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("shared", [False, True], ids=["fresh-response", "shared-response"])
@pytest.mark.parametrize("credentials", [False, True])
def test_nothing_leaks_between_requests(shared: bool, credentials: bool) -> None:
    app = Ketch()

    @app.get("/")
    def homepage(request: Request) -> Response:
        return SHARED if shared else PlainTextResponse("shared", headers={"Vary": "Cookie"})

    @app.get("/health")
    def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    allowed = [ORIGIN, "https://b.org"]
    app.add_middleware(CORSMiddleware, allow_origins=allowed, allow_credentials=credentials, expose_headers=["X-A"])
    sequence = [ORIGIN, "https://evil.org", None, "https://b.org", "null", ORIGIN, None]
    for _ in range(2):
        for origin in sequence:
            response = request(app, headers={"Origin": origin} if origin else {})
            expected = origin if origin in allowed else None
            assert response.headers.get("access-control-allow-origin") == expected
            assert ("access-control-expose-headers" in response.headers) is (expected is not None)
            assert ("access-control-allow-credentials" in response.headers) is (expected is not None and credentials)
            assert vary(response) == ["Cookie", "Origin"]
            # A preflight between simple requests leaves nothing behind either.
            preflight(app, "https://b.org" if origin == ORIGIN else ORIGIN)
    assert SHARED.raw_headers == SHARED_HEADERS
    assert_healthy(app)


@pytest.mark.timeout(10)
def test_two_origin_headers_are_not_an_allowed_origin() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    app = make_app(allow_origins=[ORIGIN, "https://b.org"], allow_credentials=True)
    headers = [(b"host", b"testserver"), (b"origin", ORIGIN.encode()), (b"origin", b"https://b.org")]
    for method, extra in (("GET", []), ("OPTIONS", [(b"access-control-request-method", b"GET")])):
        sent.clear()
        scope = {"type": "http", "method": method, "path": "/", "headers": headers + extra, "query_string": b""}
        asyncio.run(app(scope, receive, send))
        start = dict(sent[0]["headers"])
        assert b"access-control-allow-origin" not in start
        assert sent[0]["status"] == (200 if method == "GET" else 400)


# -- scopes ------------------------------------------------------------------------------------------------------


def test_router_scoped_cors_affects_only_its_routes() -> None:
    app = Ketch()
    api = Router(prefix="/api")

    @api.get("/items")
    def items(request: Request) -> Response:
        return PlainTextResponse("items")

    @app.get("/page")
    def page(request: Request) -> Response:
        return PlainTextResponse("page")

    api.add_middleware(CORSMiddleware, allow_origins=[ORIGIN])
    app.include_router(api)

    response = request(app, path="/api/items", headers={"Origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert vary(response) == ["Origin"]

    response = request(app, path="/page", headers={"Origin": ORIGIN})
    assert response.text == "page"
    assert "access-control-allow-origin" not in response.headers
    assert "vary" not in response.headers


def test_router_scoped_cors_answers_preflight_on_an_explicit_options_route() -> None:
    app = Ketch()
    api = Router(prefix="/api")

    @api.api_route("/items", methods=["GET", "OPTIONS"])
    def items(request: Request) -> Response:
        return PlainTextResponse("items")

    api.add_middleware(CORSMiddleware, allow_origins=[ORIGIN], allow_methods=["GET", "PUT"])
    app.include_router(api)
    headers = {"Origin": ORIGIN, "Access-Control-Request-Method": "PUT"}
    response = request(app, "OPTIONS", "/api/items", headers)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-methods"] == "GET, PUT"


def test_router_scoped_cors_answers_preflight_on_automatic_options() -> None:
    app = Ketch()
    api = Router(prefix="/api")

    @api.get("/items")
    def items(request: Request) -> Response:
        return PlainTextResponse("items")

    api.add_middleware(CORSMiddleware, allow_origins=[ORIGIN])
    app.include_router(api)
    response = request(app, "OPTIONS", "/api/items", {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
    assert response.headers["access-control-allow-origin"] == ORIGIN


@pytest.mark.parametrize("kind", ["websocket", "lifespan"])
def test_other_scopes_pass_through_untouched(kind: str) -> None:
    seen: list[Message] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(dict(scope))
        await send({"type": "websocket.accept", "headers": []})

    async def send(message: Message) -> None:
        seen.append(message)

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    middleware = CORSMiddleware(inner, allow_origins=["*"])
    scope = {"type": kind, "path": "/", "headers": [(b"origin", ORIGIN.encode())]}
    asyncio.run(middleware(scope, receive, send))
    assert seen[0]["type"] == kind
    assert seen[1] == {"type": "websocket.accept", "headers": []}
