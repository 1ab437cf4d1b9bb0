"""The typed face's fast paths: which plan a route gets, and that each behaves exactly like the general one.

A route whose endpoint takes nothing gets a ``BareHTTPPlan``; a plan without generators, ``Response`` or
``BackgroundTasks`` parameters, forms, streaming, app-lifetime or rate-limited dependencies runs its flat steps;
scalar query parameters are read from the raw query string when it has nothing to unescape.
"""

# The app is built twice, from two import surfaces held in a namespace: its annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, attr-defined, misc, assignment"

import threading
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from ketch import HTTPException, JSONResponse, Ketch, Limits, Request, Response
from ketch._plan.extract import _plain_query
from ketch._plan.typed import BareHTTPPlan, TypedHTTPPlan, TypedPlanner
from ketch.datastructures import QueryParams
from ketch.params import Depends, Form, Security, SecurityScopes
from ketch.routing.matcher import PlanContext
from ketch.routing.route import Route
from ketch.testclient import TestClient
from ketch.types import ASGIApp

from ._diff import Req, compare


class _Recording(TypedPlanner):
    """Keeps the ASGI callable planned for each path."""

    def __init__(self) -> None:
        super().__init__()
        self.plans: dict[str, ASGIApp] = {}

    def plan_http(self, route: Route, method: str, context: PlanContext) -> ASGIApp:
        plan = super().plan_http(route, method, context)
        self.plans[context.path] = plan
        return plan


class Item(BaseModel):
    name: str
    price: float = 0


def _runner(plan: ASGIApp) -> str:
    assert isinstance(plan, TypedHTTPPlan)
    endpoint_plan = plan.variants.plan
    return "flat" if endpoint_plan.flat_steps is not None else "general"


def test_each_route_gets_the_leanest_plan_that_serves_it() -> None:
    planner = _Recording()
    app = Ketch(planner=planner)

    async def counter() -> int:
        return 1

    async def generator() -> AsyncIterator[int]:
        yield 1

    @app.get("/bare")
    async def bare() -> dict[str, str]:
        return {}

    @app.get("/bare-sync")
    def bare_sync() -> dict[str, str]:
        return {}

    @app.get("/params/{n:int}")
    async def params(n: int, q: str = "") -> int:
        return n

    @app.post("/body")
    def body(item: Item, request: Request) -> Item:
        return item

    @app.get("/deps")
    async def deps(n: Annotated[int, Depends(counter)]) -> int:
        return n

    @app.get("/route-deps", dependencies=[Depends(counter)])
    async def route_deps() -> int:
        return 1

    @app.get("/yield")
    async def with_yield(n: Annotated[int, Depends(generator)]) -> int:
        return n

    @app.get("/response")
    async def with_response(response: Response) -> int:
        return 1

    @app.post("/form")
    async def form(name: Annotated[str, Form()]) -> str:
        return name

    @app.get("/stream")
    async def stream() -> AsyncIterator[int]:
        yield 1

    app.prepare()
    plans = planner.plans
    assert isinstance(plans["/bare"], BareHTTPPlan) and isinstance(plans["/bare-sync"], BareHTTPPlan)
    flat = ["/params/{n:int}", "/body", "/deps", "/route-deps"]
    general = ["/yield", "/response", "/form", "/stream"]
    assert {path: _runner(plans[path]) for path in flat + general} == {
        **dict.fromkeys(flat, "flat"),
        **dict.fromkeys(general, "general"),
    }


def build(api: SimpleNamespace) -> object:
    app = api.App()
    calls: list[str] = []

    @app.get("/bare")
    async def bare() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/bare-sync", status_code=201)
    def bare_sync() -> list[int]:
        return [1, 2]

    @app.get("/bare-response")
    async def bare_response() -> Any:
        return api.PlainTextResponse("plain", headers={"x-kind": "text"})

    @app.get("/bare-empty", status_code=204)
    async def bare_empty() -> None:
        return None

    @app.get("/bare-model", response_model=Item)
    def bare_model() -> Any:
        return {"name": "a", "price": 2, "secret": "dropped"}

    @app.get("/bare-invalid", response_model=Item)
    async def bare_invalid() -> Any:
        return {"price": "free"}

    @app.get("/bare-error")
    async def bare_error() -> None:
        raise api.HTTPException(418, "teapot", headers={"x-why": "tea"})

    @app.get("/query")
    async def query(a: str | None = None, b: str | None = None, c: int = 0) -> dict[str, object]:
        return {"a": a, "b": b, "c": c}

    def counted() -> str:
        calls.append("counted")
        return "ok"

    @app.get("/invalid-with-deps")
    async def invalid_with_deps(x: Annotated[str, api.Depends(counted)], q: int) -> str:
        return x

    @app.get("/calls")
    async def get_calls() -> list[str]:
        return calls

    @app.get("/scopes", dependencies=[api.Security(counted, scopes=["read"])])
    async def scopes(security_scopes: api.SecurityScopes) -> Any:
        return security_scopes.scopes

    return app


def test_fast_paths_answer_like_fastapi() -> None:
    compare(
        build,
        [
            Req("GET", "/bare"),
            Req("GET", "/bare-sync"),
            Req("GET", "/bare-response", headers_to_compare=["x-kind"]),
            Req("GET", "/bare-empty"),
            Req("GET", "/bare-model"),
            Req("GET", "/bare-error", headers_to_compare=["x-why"]),
            Req("GET", "/query?a=x%20y&b=1+2"),
            Req("GET", "/query?a=&b"),
            Req("GET", "/query?a=1&a=2&c=3&c=4"),
            Req("GET", "/query?=x&a=b=c"),
            Req("GET", "/query?&&a=1&&"),
            Req("GET", "/query?a=%ZZ&b=%C3%A9"),
            Req("GET", "/query?c=x"),
            Req("GET", "/query?c=1%32"),
            Req("GET", "/invalid-with-deps?q=x"),
            Req("GET", "/calls"),
            Req("GET", "/invalid-with-deps?q=1"),
            Req("GET", "/calls"),
            Req("GET", "/scopes"),
        ],
    )


def test_bare_route_errors_reach_the_handlers_with_a_request() -> None:
    app = Ketch()
    seen: list[str] = []

    @app.exception_handler(LookupError)
    async def lookup(request: Request, exc: LookupError) -> Response:
        seen.append(f"{request.method} {request.url.path}")
        return Response("missing", status_code=404)

    @app.get("/missing")
    async def missing() -> None:
        raise LookupError

    @app.get("/missing-sync")
    def missing_sync() -> None:
        raise LookupError

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("bug")

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/missing").text == "missing"
    assert client.get("/missing-sync").status_code == 404
    assert seen == ["GET /missing", "GET /missing-sync"]
    assert client.get("/broken").status_code == 500


def test_bare_route_checks_the_declared_length_of_a_body() -> None:
    app = Ketch(limits=Limits(max_body_size=10))
    called: list[bool] = []

    @app.post("/ping")
    async def ping() -> str:
        called.append(True)
        return "pong"

    client = TestClient(app)
    assert client.post("/ping", content=b"x" * 11).status_code == 413
    assert client.post("/ping", content=b"x" * 10).json() == "pong"
    assert called == [True]


def test_flat_plan_passes_the_request_and_security_scopes() -> None:
    app = Ketch()

    async def user(request: Request, security_scopes: SecurityScopes) -> str:
        return f"{request.url.path} {security_scopes.scope_str}"

    @app.get("/me")
    async def me(name: Annotated[str, Security(user, scopes=["me", "read"])], q: int = 0) -> str:
        return f"{name} {q}"

    @app.get("/sync/{n:int}")
    def sync(n: int, request: Request, name: Annotated[str, Security(user, scopes=["x"])]) -> str:
        return f"{n} {request.method} {name}"

    client = TestClient(app)
    assert client.get("/me?q=2").json() == "/me me read 2"
    assert client.get("/sync/3").json() == "3 GET /sync/3 x"


def test_flat_plan_reports_every_invalid_value() -> None:
    app = Ketch()

    @app.post("/items/{n:int}")
    async def items(n: int, item: Item, q: Annotated[int, Depends(lambda q: q)]) -> int:
        return n

    response = TestClient(app).post("/items/1", json={"price": "x"})
    assert response.status_code == 422
    locations = [error["loc"] for error in response.json()["detail"]]
    assert locations == [["query", "q"], ["body", "name"], ["body", "price"]]


def test_query_over_the_parameter_limit_is_refused() -> None:
    app = Ketch(limits=Limits(max_query_params=2))

    @app.get("/q")
    async def q(a: int = 0) -> int:
        return a

    client = TestClient(app)
    assert client.get("/q?a=1&b=2").json() == 1
    response = client.get("/q?a=1&b=2&c=3")
    assert response.status_code == 400 and response.json() == {"detail": "Too many query parameters"}


@pytest.mark.parametrize(
    "raw",
    [b"", b"a", b"a=", b"=", b"=x", b"a=b=c", b"&&a=1&&", b"a=1&a=2", b"a=1;b=2", b"\xe9=\xff", b"a b=c d"],
)
@pytest.mark.parametrize("limit", [None, 0, 1, 2, 1000])
def test_plain_query_reads_what_query_params_reads(raw: bytes, limit: int | None) -> None:
    try:
        expected: Any = dict(QueryParams(raw, max_params=limit).items())
    except ValueError:
        expected = None  # over the limit: the fast path steps aside and QueryParams refuses it
    assert _plain_query(raw, limit) == expected


@pytest.mark.parametrize("raw", [b"a=%20", b"a+b=1", b"a=1+1"])
def test_plain_query_leaves_escapes_to_query_params(raw: bytes) -> None:
    assert _plain_query(raw, None) is None


def test_bare_route_gets_no_request_until_an_error_needs_one() -> None:
    planner = _Recording()
    app = Ketch(planner=planner)

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418)

    client = TestClient(app)
    assert client.get("/teapot").status_code == 418
    assert isinstance(planner.plans["/teapot"], BareHTTPPlan)


def test_sync_endpoint_runs_on_the_pool_and_its_response_is_made_on_the_loop() -> None:
    threads: list[tuple[str, int]] = []

    class Recorded(JSONResponse):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            threads.append(("response", threading.get_ident()))
            super().__init__(*args, **kwargs)

    app = Ketch()

    @app.get("/bare", response_class=Recorded)
    def bare() -> dict[str, int]:
        threads.append(("endpoint", threading.get_ident()))
        return {"a": 1}

    @app.get("/flat", response_class=Recorded)
    def flat(q: int = 0) -> dict[str, int]:
        threads.append(("endpoint", threading.get_ident()))
        return {"q": q}

    client = TestClient(app)
    for url, body in (("/bare", {"a": 1}), ("/flat?q=2", {"q": 2})):
        threads.clear()
        assert client.get(url).json() == body
        (endpoint_name, endpoint_thread), (response_name, response_thread) = threads
        assert (endpoint_name, response_name) == ("endpoint", "response")
        assert endpoint_thread != response_thread
