"""The Ketch application: lifespan, hooks, state, errors, middleware, mounts, sub-routers and reverse URLs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from ketch import (
    HTTPException,
    ImproperlyConfigured,
    JSONResponse,
    Ketch,
    Middleware,
    PlainTextResponse,
    Request,
    Response,
    Route,
    Router,
    State,
)
from ketch._plan import CorePlanner
from ketch.testclient import TestClient
from ketch.types import ASGIApp, Message, Receive, Scope, Send

# -- the lifespan protocol, driven by hand -------------------------------------------------------------------------


async def run_lifespan(app: Ketch, *, state: dict[str, Any] | None = None) -> list[Message]:
    """Start the app up and shut it down; what it answered."""
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "lifespan.startup.failed":
            incoming.clear()

    scope: dict[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0"}}
    if state is not None:
        scope["state"] = state
    await app(scope, receive, send)
    return sent


def test_lifespan_order_and_state() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[dict[str, Any]]:
        events.append("enter")
        yield {"db": "connection"}
        events.append("exit")

    def sync_start() -> None:
        events.append("startup-sync")

    async def async_start() -> None:
        events.append("startup-async")

    app = Ketch(lifespan=lifespan, on_startup=[sync_start, async_start], on_shutdown=[lambda: events.append("bye")])

    @app.on_event("shutdown")
    async def later() -> None:
        events.append("bye-2")

    @app.get("/db")
    async def db(request: Request) -> str:
        request.state.scratch = "per request"
        return request.state.db  # type: ignore[no-any-return]

    @app.get("/scratch")
    async def scratch(request: Request) -> bool:
        return "scratch" in request.state

    with TestClient(app) as client:
        assert events == ["startup-sync", "startup-async", "enter"]
        assert client.get("/db").json() == "connection"
        assert client.get("/scratch").json() is False  # request attributes do not leak into lifespan state
    assert events == ["startup-sync", "startup-async", "enter", "exit", "bye", "bye-2"]


def test_on_event_rejects_unknown_events() -> None:
    with pytest.raises(ValueError):
        Ketch().on_event("sometime")


def test_lifespan_without_state() -> None:
    entered: list[Ketch] = []

    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[None]:
        entered.append(app)
        yield

    app = Ketch(lifespan=lifespan)
    assert asyncio.run(run_lifespan(app)) == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]
    assert entered == [app]


def test_startup_failure_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise ValueError("no database")

    sent = asyncio.run(run_lifespan(Ketch(on_startup=[broken])))
    assert sent == [{"type": "lifespan.startup.failed", "message": "ValueError: no database"}]
    assert "no database" in caplog.text
    with pytest.raises(RuntimeError, match="no database"):
        with TestClient(Ketch(on_startup=[broken])):
            pass


def test_planning_failure_is_a_failed_startup() -> None:
    app = Ketch(planner=CorePlanner())  # the typed planner reads an unknown parameter as a query parameter
    app.add_route("/x", lambda unknown_param: "x")
    sent = asyncio.run(run_lifespan(app))
    assert len(sent) == 1
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "ImproperlyConfigured" in sent[0]["message"]


def test_lifespan_state_needs_server_support() -> None:
    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[dict[str, Any]]:
        yield {"x": 1}

    sent = asyncio.run(run_lifespan(Ketch(lifespan=lifespan)))
    assert sent[0]["type"] == "lifespan.startup.failed"
    state: dict[str, Any] = {}
    sent = asyncio.run(run_lifespan(Ketch(lifespan=lifespan), state=state))
    assert sent[0]["type"] == "lifespan.startup.complete"
    assert state == {"x": 1}


def test_lifespan_must_yield_a_mapping() -> None:
    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[Any]:
        yield ["not", "a", "mapping"]

    sent = asyncio.run(run_lifespan(Ketch(lifespan=lifespan), state={}))
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "mapping" in sent[0]["message"]


def test_shutdown_errors_are_logged_and_every_hook_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[None]:
        yield
        ran.append("lifespan-exit")
        raise RuntimeError("close failed")

    def first() -> None:
        ran.append("first")
        raise OSError("disk gone")

    app = Ketch(lifespan=lifespan, on_shutdown=[first, lambda: ran.append("second")])
    sent = asyncio.run(run_lifespan(app))
    assert sent[0] == {"type": "lifespan.startup.complete"}
    assert sent[1]["type"] == "lifespan.shutdown.failed"
    assert sent[1]["message"] == "RuntimeError: close failed; OSError: disk gone"
    assert ran == ["lifespan-exit", "first", "second"]
    assert caplog.text.count("Traceback") == 2


def test_app_without_lifespan_still_plans_on_first_request() -> None:
    app = Ketch()
    app.add_route("/x", lambda: "x")
    assert not app.started
    assert TestClient(app).get("/x").json() == "x"
    assert app.started


# -- state, settings -----------------------------------------------------------------------------------------------


def test_app_state() -> None:
    app = Ketch()
    assert isinstance(app.state, State)
    app.state.counter = 1

    @app.get("/count")
    async def count(request: Request) -> int:
        request.app.state.counter += 1
        return request.app.state.counter  # type: ignore[no-any-return]

    client = TestClient(app)
    assert client.get("/count").json() == 2
    assert client.get("/count").json() == 3
    with pytest.raises(AttributeError):
        app.state.missing  # noqa: B018


def test_routes_given_to_the_constructor() -> None:
    app = Ketch(routes=[Route("/r", lambda: "r")])
    assert TestClient(app).get("/r").json() == "r"


def test_app_wide_body_limit() -> None:
    app = Ketch(max_body_size=4)

    @app.post("/x")
    async def x(request: Request) -> int:
        return len(await request.body())

    client = TestClient(app)
    assert client.post("/x", content=b"1234").json() == 4
    assert client.post("/x", content=b"12345").status_code == 413


def test_root_path_setting() -> None:
    app = Ketch(root_path="/api")

    @app.get("/where")
    async def where(request: Request) -> dict[str, str]:
        return {"for": str(request.url_for("where")), "root": request.scope["root_path"]}

    client = TestClient(app)
    assert client.get("/where").json() == {"for": "http://testserver/api/where", "root": "/api"}
    # A proxy that keeps the prefix: the server's root_path wins, and routing strips it.
    assert TestClient(app, root_path="/proxy").get("/where").json() == {
        "for": "http://testserver/proxy/where",
        "root": "/proxy",
    }


def test_thread_pool_size_setting() -> None:
    from ketch import concurrency

    try:
        app = Ketch(thread_pool_size=2)
        app.add_route("/sync", lambda: "sync")
        assert TestClient(app).get("/sync").json() == "sync"
        assert concurrency._get_pool().max_workers == 2
        with pytest.raises(ValueError):
            Ketch(thread_pool_size=0)
    finally:
        concurrency.configure_thread_pool(concurrency.DEFAULT_THREAD_POOL_SIZE)


# -- exception handlers --------------------------------------------------------------------------------------------


class AppError(Exception):
    pass


class SpecificError(AppError):
    pass


def test_exception_handlers_by_status_and_class() -> None:
    async def not_found(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse(f"nothing at {request.url.path}", status_code=404)

    def app_error(request: Request, exc: AppError) -> Response:  # sync handlers run on the thread pool
        return JSONResponse({"error": type(exc).__name__}, status_code=409)

    app = Ketch(exception_handlers={404: not_found, AppError: app_error})

    @app.get("/specific")
    async def specific() -> None:
        raise SpecificError()

    @app.get("/gone")
    async def gone() -> None:
        raise HTTPException(404)

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418, detail={"why": "short and stout"}, headers={"x-tea": "earl grey"})

    client = TestClient(app)
    assert (client.get("/specific").status_code, client.get("/specific").json()) == (409, {"error": "SpecificError"})
    assert client.get("/gone").text == "nothing at /gone"
    assert client.get("/missing").text == "nothing at /missing"
    response = client.get("/teapot")
    assert (response.status_code, response.json(), response.headers["x-tea"]) == (
        418,
        {"detail": {"why": "short and stout"}},
        "earl grey",
    )


def test_http_exception_without_a_body_status() -> None:
    app = Ketch()

    @app.get("/not-modified")
    async def not_modified() -> None:
        raise HTTPException(304, headers={"etag": '"v1"'})

    response = TestClient(app).get("/not-modified")
    assert (response.status_code, response.content, response.headers["etag"]) == (304, b"", '"v1"')


def test_handler_registered_later_with_the_decorator() -> None:
    app = Ketch()

    @app.get("/x")
    async def x() -> None:
        raise HTTPException(401)

    client = TestClient(app)
    assert client.get("/x").json() == {"detail": "Unauthorized"}

    @app.exception_handler(HTTPException)
    async def custom(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse(f"custom {exc.status_code}", status_code=exc.status_code)

    assert client.get("/x").text == "custom 401"


def test_500_handler_gets_unhandled_errors(caplog: pytest.LogCaptureFixture) -> None:
    def five_hundred(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(f"sorry: {type(exc).__name__}", status_code=500)

    def catch_all(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("catch-all", status_code=500)

    app = Ketch(exception_handlers={500: five_hundred, Exception: catch_all})

    @app.get("/boom")
    async def boom() -> None:
        raise KeyError("x")

    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert (response.status_code, response.text) == (500, "sorry: KeyError")
    assert "Traceback" in caplog.text  # still logged


def test_exception_class_handler_alone_is_the_500_handler() -> None:
    async def catch_all(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("caught", status_code=503)

    app = Ketch(exception_handlers={Exception: catch_all})
    app.add_route("/boom", lambda: 1 / 0)
    app.add_route("/http", lambda: (_ for _ in ()).throw(HTTPException(403)))
    client = TestClient(app, raise_server_exceptions=False)
    assert (client.get("/boom").status_code, client.get("/boom").text) == (503, "caught")
    assert client.get("/http").json() == {"detail": "Forbidden"}  # HTTPException keeps its own handler


# -- middleware ----------------------------------------------------------------------------------------------------


class Stamp:
    """Appends its name to an ``x-order`` response header."""

    def __init__(self, app: ASGIApp, name: str) -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message["headers"])
                previous = [v for k, v in headers if k == b"x-order"]
                headers = [(k, v) for k, v in headers if k != b"x-order"]
                value = (previous[0] + b"," if previous else b"") + self.name.encode()
                message = {**message, "headers": [*headers, (b"x-order", value)]}
            await send(message)

        await self.app(scope, receive, stamped)


def test_middleware_order() -> None:
    app = Ketch(middleware=[Middleware(Stamp, name="outer"), Middleware(Stamp, "inner")])
    app.add_middleware(Stamp, name="added-first")
    app.add_middleware(Stamp, name="added-last")
    app.add_route("/x", lambda: "x")
    # The innermost stamps first: added-first < added-last < ... the constructor's list is outermost first.
    assert TestClient(app).get("/x").headers["x-order"] == "inner,outer,added-first,added-last"


def test_middleware_wraps_404_and_405_too() -> None:
    app = Ketch()
    app.add_middleware(Stamp, name="mw")
    app.add_route("/x", lambda: "x")
    client = TestClient(app)
    assert client.get("/nope").headers["x-order"] == "mw"
    assert client.post("/x").headers["x-order"] == "mw"


def test_no_middleware_after_start() -> None:
    app = Ketch()
    app.add_route("/x", lambda: "x")
    TestClient(app).get("/x")
    with pytest.raises(RuntimeError, match="after an application has started"):
        app.add_middleware(Stamp, name="late")


def test_scoped_middleware_and_handlers_nest() -> None:
    app = Ketch()
    outer = Router(middleware=[Middleware(Stamp, "outer-router")])
    inner = Router()
    inner.add_middleware(Stamp, name="inner-router")
    inner.add_exception_handler(AppError, lambda request, exc: PlainTextResponse("inner", status_code=400))
    outer.add_exception_handler(AppError, lambda request, exc: PlainTextResponse("outer", status_code=400))

    @inner.get("/deep")
    async def deep() -> None:
        raise AppError()

    @outer.get("/shallow")
    async def shallow() -> None:
        raise SpecificError()

    outer.include_router(inner, prefix="/in")
    app.include_router(outer, prefix="/out")
    app.add_route("/top", lambda: "top")
    client = TestClient(app)
    response = client.get("/out/in/deep")
    assert (response.text, response.headers["x-order"]) == ("inner", "inner-router,outer-router")
    response = client.get("/out/shallow")
    assert (response.text, response.headers["x-order"]) == ("outer", "outer-router")
    assert "x-order" not in client.get("/top").headers


# -- mounts, routers, reverse URLs ---------------------------------------------------------------------------------


def test_mounted_ketch_app_has_its_own_handlers_and_lifespan_free_planning() -> None:
    parent = Ketch()
    child = Ketch(exception_handlers={404: lambda request, exc: PlainTextResponse("child 404", status_code=404)})
    child.add_route("/hello", lambda: "hello from child", name="hello")
    parent.mount("/child", child, name="child")
    parent.add_route("/hello", lambda: "hello from parent", name="hello")
    client = TestClient(parent)
    assert client.get("/child/hello").json() == "hello from child"
    assert client.get("/hello").json() == "hello from parent"
    assert client.get("/child/missing").text == "child 404"
    assert client.get("/missing").json() == {"detail": "Not Found"}
    assert parent.url_path_for("child:hello") == "/child/hello"
    assert parent.url_path_for("hello") == "/hello"
    assert parent.url_path_for("child", path="/static/x.css") == "/child/static/x.css"


def test_include_router_options_and_routes_listing() -> None:
    app = Ketch()
    router = Router(prefix="/items", tags=["items"])

    @router.get("/{item_id:int}", name="item")
    async def item(request: Request, item_id: int) -> dict[str, Any]:
        return {"id": item_id, "self": str(request.url_for("item", item_id=item_id))}

    app.include_router(router, prefix="/v1", tags=["v1"])
    client = TestClient(app)
    assert client.get("/v1/items/3").json() == {"id": 3, "self": "http://testserver/v1/items/3"}
    assert [r.name for r in app.routes] == ["item"]
    assert app.url_path_for("item", item_id=4) == "/v1/items/4"
    assert router.url_path_for("item", item_id=4) == "/items/4"


def test_sync_and_async_endpoints_return_values() -> None:
    app = Ketch()
    app.add_route("/dict", lambda: {"a": 1})
    app.add_route("/list", lambda: [1, 2])
    app.add_route("/none", lambda: None)
    app.add_route("/str", lambda: "text")
    app.add_route("/response", lambda: Response(b"raw", media_type="application/x-raw"))
    app.add_route("/created", lambda: {"ok": True}, methods=["POST"], status_code=201)
    app.add_route("/html", lambda: "<b>x</b>", response_class=PlainTextResponse)
    client = TestClient(app)
    assert client.get("/dict").json() == {"a": 1}
    assert client.get("/list").json() == [1, 2]
    assert client.get("/none").content == b"null"
    assert client.get("/str").json() == "text"
    response = client.get("/response")
    assert (response.content, response.headers["content-type"]) == (b"raw", "application/x-raw")
    assert client.post("/created").status_code == 201
    assert client.get("/html").headers["content-type"] == "text/plain; charset=utf-8"


def test_unknown_endpoint_parameter_is_improperly_configured() -> None:
    app = Ketch(planner=CorePlanner())
    app.add_route("/x", lambda nope: "x")
    with pytest.raises(ImproperlyConfigured):
        TestClient(app).get("/x")


def test_errors_are_logged_once_with_the_route(caplog: pytest.LogCaptureFixture) -> None:
    app = Ketch()

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> None:
        raise LookupError(item_id)

    response = TestClient(app, raise_server_exceptions=False).get("/items/42")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    records = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(records) == 1
    assert records[0].getMessage() == "Exception in GET /items/42 (route /items/{item_id})"
