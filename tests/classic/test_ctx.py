"""App and request contexts: push/pop, teardown, isolation across tasks and threads, helpers."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

import httpx
import pytest

from ketch import Ketch
from ketch.ctx import (
    after_this_request,
    copy_current_request_context,
    has_app_context,
    has_request_context,
)
from ketch.globals import current_app, g, request, session
from ketch.helpers import stream_with_context, url_for
from ketch.signals import got_request_exception, request_finished, request_started
from ketch.testclient import TestClient


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_app() -> Ketch:
    app = Ketch(__name__)
    app.config.update(SECRET_KEY="test", CSRF_ENABLED=False)
    return app


def test_globals_outside_a_context_raise() -> None:
    assert not has_app_context() and not has_request_context()
    with pytest.raises(RuntimeError, match="outside of application context"):
        current_app.name  # noqa: B018
    with pytest.raises(RuntimeError, match="outside of request context"):
        request.path  # noqa: B018
    with pytest.raises(RuntimeError, match="outside of application context"):
        g.x = 1
    assert not bool(request)
    assert "unbound" in repr(session)


def test_app_context_push_pop_and_teardown() -> None:
    app = make_app()
    seen: list[Any] = []

    @app.teardown_appcontext
    def teardown(error: BaseException | None) -> None:
        seen.append(("teardown", g.get("value"), error))

    with app.app_context():
        assert current_app._get_current_object() is app
        assert has_app_context() and not has_request_context()
        g.value = 1
        with app.app_context():  # a second push of the same app: a new g, its own teardown
            assert "value" not in g
    assert seen == [("teardown", None, None), ("teardown", 1, None)]
    assert not has_app_context()

    with pytest.raises(ValueError), app.app_context():
        raise ValueError("inside")
    assert isinstance(seen[-1][2], ValueError)


def test_popping_the_wrong_context_is_an_error() -> None:
    app = make_app()
    first, second = app.app_context(), app.app_context()
    first.push()
    second.push()
    with pytest.raises(AssertionError, match="Popped wrong app context"):
        first.pop()  # resets the variable to what it was before ``first``: nothing is left pushed
    assert not has_app_context()


def test_test_request_context() -> None:
    app = make_app()

    @app.route("/items/<int:item_id>", methods=["GET", "POST"])
    def item(item_id: int) -> str:
        return "x"

    with app.test_request_context("/items/3?page=2", method="POST", data={"name": "ann"}):
        assert has_request_context() and has_app_context()
        assert request.path == "/items/3"
        assert request.full_path == "/items/3?page=2"
        assert request.args["page"] == "2"
        assert request.args.get("page", type=int) == 2
        assert request.form["name"] == "ann"
        assert request.endpoint == "item"
        assert request.view_args == {"item_id": 3}
        assert request.url == "http://localhost/items/3?page=2"
        assert url_for("item", item_id=5) == "/items/5"
        assert url_for("item", item_id=5, _external=True) == "http://localhost/items/5"
        session["k"] = "v"
        assert session["k"] == "v"
    with app.test_request_context("/x", json={"a": [1]}):
        assert request.is_json and request.get_json() == {"a": [1]}
        assert request.endpoint is None


def test_url_for_outside_a_request_needs_server_name() -> None:
    app = make_app()

    @app.route("/page/<name>")
    def page(name: str) -> str:
        return name

    with app.app_context():
        with pytest.raises(RuntimeError, match="SERVER_NAME"):
            url_for("page", name="a")
        app.config.update(SERVER_NAME="example.com", PREFERRED_URL_SCHEME="https", APPLICATION_ROOT="/app")
        assert url_for("page", name="a") == "https://example.com/app/page/a"
        assert url_for("page", name="a", _external=False) == "/app/page/a"


def test_hooks_view_and_teardown_share_one_thread_for_sync_views() -> None:
    """A sync request runs on one worker thread, so a SQLite connection in g works everywhere (as in WSGI)."""
    app = make_app()
    closed: list[bool] = []

    def get_db() -> sqlite3.Connection:
        if "db" not in g:
            g.db = sqlite3.connect(":memory:")
        db: sqlite3.Connection = g.db
        return db

    @app.before_request
    def open_db() -> None:
        get_db().execute("create table t (x)")

    @app.teardown_appcontext
    def close_db(error: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()
            closed.append(True)

    @app.route("/")
    def index() -> str:
        get_db().execute("insert into t values (1)")
        return str(get_db().execute("select count(*) from t").fetchone()[0])

    client = TestClient(app)
    assert client.get("/").text == "1"
    assert client.get("/").text == "1"
    assert closed == [True, True]


def test_async_hooks_with_a_sync_view_and_sync_hooks_with_an_async_view() -> None:
    app = make_app()

    @app.before_request
    async def async_before() -> None:
        await asyncio.sleep(0)
        g.trail = ["async-before"]

    @app.after_request
    def sync_after(response: Any) -> Any:
        response.headers["X-Trail"] = ",".join(g.trail)
        return response

    @app.route("/sync")
    def sync_view() -> str:
        g.trail.append("sync-view")
        return "ok"

    @app.route("/async")
    async def async_view() -> str:
        await asyncio.sleep(0)
        g.trail.append("async-view")
        return "ok"

    client = TestClient(app)
    assert client.get("/sync").headers["x-trail"] == "async-before,sync-view"
    assert client.get("/async").headers["x-trail"] == "async-before,async-view"


@pytest.mark.anyio
@pytest.mark.timeout(10)
async def test_concurrent_requests_never_share_contexts() -> None:
    app = make_app()

    @app.before_request
    def remember() -> None:
        g.me = request.args["n"]

    @app.route("/async")
    async def async_view() -> Any:
        await asyncio.sleep(0.01)
        session["n"] = request.args["n"]
        await asyncio.sleep(0.01)
        return {"g": g.me, "arg": request.args["n"], "session": session["n"]}

    @app.route("/sync")
    def sync_view() -> Any:
        threading.Event().wait(0.005)
        return {"g": g.me, "arg": request.args["n"]}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(
            *(client.get(f"/{kind}", params={"n": str(i)}) for i in range(40) for kind in ("async", "sync"))
        )
    for response in responses:
        body = response.json()
        assert body["g"] == body["arg"] == response.request.url.params["n"]
        assert body.get("session", body["arg"]) == body["arg"]


def test_copy_current_request_context_in_a_thread() -> None:
    app = make_app()

    @app.route("/")
    def index() -> str:
        seen: list[str] = []

        @copy_current_request_context
        def work() -> None:
            seen.append(request.args["q"] + str(session.get("k")))

        session["k"] = 1
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        return seen[0]

    assert TestClient(app).get("/?q=x").text == "x1"
    with pytest.raises(RuntimeError):
        copy_current_request_context(lambda: None)


def test_after_this_request() -> None:
    app = make_app()

    @app.after_request
    def general(response: Any) -> Any:
        response.headers["X-Order"] = response.headers.get("X-Order", "") + "app"
        return response

    @app.route("/")
    def index() -> str:
        @after_this_request
        def add(response: Any) -> Any:
            response.headers["X-Order"] = "once,"
            return response

        return "ok"

    client = TestClient(app)
    assert client.get("/").headers["x-order"] == "once,app"
    assert client.get("/other").status_code == 404
    with pytest.raises(RuntimeError):
        after_this_request(lambda r: r)


def test_stream_with_context_keeps_the_request_until_the_stream_ends() -> None:
    app = make_app()
    events: list[str] = []

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        events.append("teardown")

    @app.route("/")
    def index() -> Any:
        @stream_with_context
        def generate() -> Any:
            events.append("stream start")
            yield "path=" + request.path
            yield ";q=" + request.args["q"]
            events.append("stream end")

        return generate()

    assert TestClient(app).get("/?q=1").text == "path=/;q=1"
    assert events == ["stream start", "stream end", "teardown"]


def test_typed_routes_never_push_a_context() -> None:
    app = make_app()
    pushed: list[bool] = []

    @app.before_request
    def hook() -> None:
        pushed.append(True)

    @app.get("/typed")
    def typed() -> dict[str, bool]:
        return {"request": has_request_context(), "app": has_app_context()}

    assert TestClient(app).get("/typed").json() == {"request": False, "app": False}
    assert pushed == []


def test_signals_for_a_request() -> None:
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    events: list[Any] = []

    @app.route("/")
    def index() -> str:
        return "ok"

    @app.route("/fail")
    def fail() -> str:
        raise KeyError("x")

    def started(sender: Any, **extra: Any) -> None:
        events.append(("started", sender is app))

    def finished(sender: Any, response: Any, **extra: Any) -> None:
        events.append(("finished", response.status_code))

    def failed(sender: Any, exception: BaseException, **extra: Any) -> None:
        events.append(("exception", type(exception).__name__))

    client = TestClient(app, raise_server_exceptions=False)
    with (
        request_started.connected_to(started, app),
        request_finished.connected_to(finished, app),
        got_request_exception.connected_to(failed, app),
    ):
        client.get("/")
        client.get("/fail")
    client.get("/")
    assert events == [
        ("started", True),
        ("finished", 200),
        ("started", True),
        ("exception", "KeyError"),
        ("finished", 500),
    ]
