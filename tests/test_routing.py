"""Routing: matching, convertors, methods, slash redirects, sub-routers, mounts and reverse URLs."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ketch import Ketch, Mount, PlainTextResponse, Request, Route, Router, WebSocket, WebSocketRoute
from ketch.routing import Convertor, NoMatchFound, register_convertor
from ketch.routing.convertors import CONVERTORS, compile_path
from ketch.testclient import TestClient
from ketch.types import Receive, Scope, Send


def client_for(app: Ketch) -> TestClient:
    return TestClient(app)


# -- matching ------------------------------------------------------------------------------------------------------


def test_static_and_parameter_routes() -> None:
    app = Ketch()

    @app.get("/")
    async def root() -> str:
        return "root"

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"item_id": item_id}

    client = client_for(app)
    assert client.get("/").json() == "root"
    assert client.get("/items/abc").json() == {"item_id": "abc"}
    assert client.get("/items/a%20b").json() == {"item_id": "a b"}
    assert client.get("/items").status_code == 404
    assert client.get("/items/a/b").status_code == 404


@pytest.mark.parametrize(
    ("path", "url", "expected"),
    [
        ("/n/{v:int}", "/n/42", 42),
        ("/n/{v:float}", "/n/4.5", 4.5),
        ("/n/{v:float}", "/n/4", 4.0),
        ("/n/{v:path}", "/n/a/b/c.txt", "a/b/c.txt"),
        ("/n/{v:str}", "/n/x", "x"),
        ("/n/{v:uuid}", "/n/12345678-1234-5678-1234-567812345678", "12345678-1234-5678-1234-567812345678"),
        ("/n/<int:v>", "/n/7", 7),
        ("/n/<v>", "/n/seven", "seven"),
        ("/n/<path:v>", "/n/x/y", "x/y"),
    ],
)
def test_convertors(path: str, url: str, expected: Any) -> None:
    app = Ketch()
    seen: list[Any] = []

    @app.get(path)
    async def endpoint(v: Any) -> str:
        seen.append(v)
        return "ok"

    assert client_for(app).get(url).status_code == 200
    assert seen == [uuid.UUID(expected) if "uuid" in path else expected]
    assert type(seen[0]) is type(uuid.UUID(expected) if "uuid" in path else expected)


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("/n/{v:int}", "/n/-1"),
        ("/n/{v:int}", "/n/1.5"),
        ("/n/{v:int}", "/n/x"),
        ("/n/{v:float}", "/n/nan"),
        ("/n/{v:uuid}", "/n/not-a-uuid"),
        ("/n/{v}", "/n/"),
    ],
)
def test_convertor_mismatch_is_404(path: str, url: str) -> None:
    app = Ketch(redirect_slashes=False)
    app.add_route(path, lambda v: "hit")
    assert client_for(app).get(url).status_code == 404


def test_trailing_newline_does_not_match_an_int() -> None:
    app = Ketch()

    @app.get("/n/{v:int}")
    async def endpoint(v: int) -> int:
        return v

    regex = compile_path("/n/{v:int}")[0]
    assert regex is not None
    assert regex.match("/n/5\n") is None
    assert regex.match("/n/5") is not None


def test_static_path_beats_pattern_even_when_registered_later() -> None:
    app = Ketch()

    @app.get("/users/{name}")
    async def user(name: str) -> dict[str, str]:
        return {"user": name}

    @app.get("/users/me")
    async def me() -> dict[str, str]:
        return {"me": "yes"}

    client = client_for(app)
    assert client.get("/users/me").json() == {"me": "yes"}
    assert client.get("/users/bob").json() == {"user": "bob"}


def test_static_path_without_the_method_falls_through_to_a_pattern() -> None:
    app = Ketch()

    @app.get("/users/me")
    async def me() -> str:
        return "me"

    @app.delete("/users/{name}")
    async def delete(name: str) -> dict[str, str]:
        return {"deleted": name}

    client = client_for(app)
    assert client.delete("/users/me").json() == {"deleted": "me"}
    response = client.put("/users/me")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_patterns_are_tried_in_registration_order() -> None:
    app = Ketch()

    @app.get("/files/{id:int}")
    async def by_id(id: int) -> str:
        return "int"

    @app.get("/files/{name}")
    async def by_name(name: str) -> str:
        return "str"

    client = client_for(app)
    assert client.get("/files/12").json() == "int"
    assert client.get("/files/abc").json() == "str"


def test_first_registration_wins_for_a_path_and_method() -> None:
    app = Ketch()
    app.add_route("/x", lambda: "first")
    app.add_route("/x", lambda: "second")
    assert client_for(app).get("/x").json() == "first"


def test_routes_for_other_methods_on_the_same_path_are_merged() -> None:
    app = Ketch()

    @app.get("/things", name="list_things")
    async def list_things(request: Request) -> str:
        return request.scope["route"].name  # type: ignore[no-any-return]

    @app.post("/things", name="create_thing")
    async def create_thing(request: Request) -> str:
        return request.scope["route"].name  # type: ignore[no-any-return]

    client = client_for(app)
    assert client.get("/things").json() == "list_things"
    assert client.post("/things").json() == "create_thing"
    response = client.options("/things")
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_every_method_decorator() -> None:
    app = Ketch()
    for method in ("get", "post", "put", "patch", "delete", "options", "trace"):
        getattr(app, method)("/m")(lambda request: PlainTextResponse(request.method))
    app.head("/h")(lambda: PlainTextResponse("ignored", headers={"x-head": "1"}))
    client = client_for(app)
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"):
        assert client.request(method, "/m").text == method
    head = client.head("/h")
    assert head.status_code == 200 and head.headers["x-head"] == "1" and head.content == b""
    assert client.get("/h").status_code == 405


def test_api_route_with_several_methods() -> None:
    app = Ketch()

    @app.api_route("/multi", methods=["get", "POST"])
    async def multi(request: Request) -> str:
        return request.method

    client = client_for(app)
    assert client.get("/multi").json() == "GET"
    assert client.post("/multi").json() == "POST"
    assert client.head("/multi").content == b""
    assert client.put("/multi").status_code == 405


# -- 404, 405, HEAD, OPTIONS ---------------------------------------------------------------------------------------


def test_not_found_and_method_not_allowed_bodies() -> None:
    app = Ketch()
    app.add_route("/only-get", lambda: "x")
    client = client_for(app)
    response = client.get("/nowhere")
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})
    response = client.post("/only-get")
    assert (response.status_code, response.json()) == (405, {"detail": "Method Not Allowed"})
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_head_uses_the_get_plan_and_drops_the_body() -> None:
    app = Ketch()
    calls: list[str] = []

    @app.get("/page")
    async def page(request: Request) -> PlainTextResponse:
        calls.append(request.method)
        return PlainTextResponse("hello", headers={"x-custom": "y"})

    response = client_for(app).head("/page")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "5"
    assert response.headers["x-custom"] == "y"
    assert calls == ["HEAD"]


def test_head_on_errors_has_no_body() -> None:
    app = Ketch()
    app.add_route("/p", lambda: "x", methods=["POST"])
    client = client_for(app)
    for path in ("/missing", "/p"):
        response = client.head(path)
        assert response.status_code in (404, 405)
        assert response.content == b""


def test_automatic_options_and_explicit_options() -> None:
    app = Ketch()
    app.add_route("/auto", lambda: "x", methods=["GET", "PUT"])

    @app.options("/custom")
    async def custom() -> PlainTextResponse:
        return PlainTextResponse("mine", headers={"allow": "OPTIONS"})

    client = client_for(app)
    response = client.options("/auto")
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, PUT"
    response = client.options("/custom")
    assert (response.text, response.headers["allow"]) == ("mine", "OPTIONS")


def test_automatic_options_can_be_switched_off() -> None:
    app = Ketch(automatic_options=False)
    app.add_route("/auto", lambda: "x")
    response = client_for(app).options("/auto")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_options_on_a_parameter_route() -> None:
    app = Ketch()
    app.add_route("/items/{id:int}", lambda id: id, methods=["DELETE"])
    response = client_for(app).options("/items/3")
    assert response.headers["allow"] == "DELETE, OPTIONS"


# -- slash redirects -----------------------------------------------------------------------------------------------


def test_slash_redirect_both_ways() -> None:
    app = Ketch()
    app.add_route("/no-slash", lambda: "a")
    app.add_route("/with-slash/", lambda: "b")
    app.add_route("/p/{x}", lambda x: x)
    client = TestClient(app, follow_redirects=False)
    response = client.get("/no-slash/?q=1")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/no-slash?q=1"
    response = client.get("/with-slash")
    assert response.headers["location"] == "http://testserver/with-slash/"
    assert client.get("/p/abc/").headers["location"] == "http://testserver/p/abc"
    assert client.post("/no-slash/").status_code == 307  # 307 keeps the method; the target then says 405
    assert TestClient(app).get("/no-slash/").json() == "a"


def test_slash_redirect_can_be_switched_off() -> None:
    app = Ketch(redirect_slashes=False)
    app.add_route("/no-slash", lambda: "a")
    assert TestClient(app, follow_redirects=False).get("/no-slash/").status_code == 404


def test_slash_redirect_never_leaves_the_site() -> None:
    app = Ketch()
    app.add_route("/evil.com", lambda: "x")
    client = TestClient(app, follow_redirects=False)
    response = client.get("//evil.com/")
    assert response.status_code == 404
    assert "location" not in response.headers


def test_root_path_is_stripped_only_at_a_segment_boundary() -> None:
    import asyncio

    app = Ketch()
    app.add_route("/apix", lambda: "apix")
    app.add_route("/x", lambda: "x")
    app.add_route("/", lambda: "root")

    def status_and_body(path: str) -> tuple[int, bytes]:
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": path, "root_path": "/api", "headers": [], "query_string": b""}
        asyncio.run(app(scope, receive, send))
        return sent[0]["status"], sent[1]["body"]

    assert status_and_body("/apix") == (200, b'"apix"')
    assert status_and_body("/api/x") == (200, b'"x"')
    assert status_and_body("/api/") == (200, b'"root"')


def test_slash_redirect_keeps_the_root_path() -> None:
    app = Ketch()
    app.add_route("/x", lambda: "x")
    client = TestClient(app, follow_redirects=False, root_path="/api")
    response = client.get("/x/")
    assert response.headers["location"] == "http://testserver/api/x"


# -- routers -------------------------------------------------------------------------------------------------------


def test_include_router_with_prefixes_nested() -> None:
    app = Ketch()
    outer = Router(prefix="/v1")
    inner = Router(prefix="/users")

    @inner.get("/{uid:int}")
    async def user(uid: int) -> dict[str, int]:
        return {"uid": uid}

    @outer.get("/health")
    async def health() -> str:
        return "ok"

    outer.include_router(inner, prefix="/team")
    app.include_router(outer, prefix="/api")
    client = client_for(app)
    assert client.get("/api/v1/health").json() == "ok"
    assert client.get("/api/v1/team/users/5").json() == {"uid": 5}
    paths = [route.path for route in app.routes]
    assert paths == ["/v1/health", "/users/{uid:int}"]  # the routes as registered; full paths come from walking


def test_include_router_prefix_with_a_parameter() -> None:
    app = Ketch()
    router = Router()

    @router.get("/members/{member}")
    async def member(org: str, member: str) -> dict[str, str]:
        return {"org": org, "member": member}

    app.include_router(router, prefix="/orgs/{org}")
    assert client_for(app).get("/orgs/acme/members/ann").json() == {"org": "acme", "member": "ann"}
    assert app.url_path_for("member", org="acme", member="ann") == "/orgs/acme/members/ann"


def test_routes_added_to_a_router_after_include_are_served() -> None:
    app = Ketch()
    router = Router()
    app.include_router(router, prefix="/late")
    router.add_route("/x", lambda: "late")
    assert client_for(app).get("/late/x").json() == "late"


def test_routes_added_after_the_first_request_are_served() -> None:
    app = Ketch()
    app.add_route("/a", lambda: "a")
    client = client_for(app)
    assert client.get("/a").json() == "a"
    app.add_route("/b", lambda: "b")
    assert client.get("/b").json() == "b"


def test_router_prefix_validation() -> None:
    with pytest.raises(ValueError):
        Router(prefix="no-slash")
    with pytest.raises(ValueError):
        Router(prefix="/trailing/")
    router = Router()
    with pytest.raises(ValueError):
        router.include_router(router)
    with pytest.raises(ValueError):
        Ketch().include_router(Router(), prefix="bad")


def test_router_scoped_middleware_and_handlers_apply_only_to_its_routes() -> None:
    class Tag:
        def __init__(self, app: Any, value: str) -> None:
            self.app = app
            self.value = value

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            async def tagged(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message["headers"], (b"x-tag", self.value.encode())]
                await send(message)

            await self.app(scope, receive, tagged)

    app = Ketch()
    router = Router()
    router.add_middleware(Tag, value="router")

    @router.exception_handler(KeyError)
    async def key_error(request: Request, exc: KeyError) -> PlainTextResponse:
        return PlainTextResponse("router handled", status_code=409)

    @router.get("/in")
    async def inside() -> None:
        raise KeyError("x")

    @app.get("/out")
    async def outside() -> None:
        raise KeyError("x")

    app.include_router(router, prefix="/r")
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/r/in")
    assert (response.status_code, response.text, response.headers["x-tag"]) == (409, "router handled", "router")
    response = client.get("/out")
    assert response.status_code == 500
    assert "x-tag" not in response.headers
    # The automatic OPTIONS answer goes through the router's middleware too (a router-scoped CORS preflight).
    response = client.options("/r/in")
    assert (response.status_code, response.headers["x-tag"]) == (200, "router")
    assert "x-tag" not in client.options("/out").headers


def test_inner_router_handler_wins_over_outer() -> None:
    app = Ketch()
    outer, inner = Router(), Router()
    outer.add_exception_handler(404, lambda request, exc: PlainTextResponse("outer", status_code=404))
    inner.add_exception_handler(404, lambda request, exc: PlainTextResponse("inner", status_code=404))

    @inner.get("/x")
    async def x() -> None:
        from ketch import HTTPException

        raise HTTPException(404)

    @outer.get("/y")
    async def y() -> None:
        from ketch import HTTPException

        raise HTTPException(404)

    outer.include_router(inner)
    app.include_router(outer)
    client = client_for(app)
    assert client.get("/x").text == "inner"
    assert client.get("/y").text == "outer"
    assert client.get("/missing").json() == {"detail": "Not Found"}  # unmatched paths use the app's handlers


def test_router_body_limits() -> None:
    app = Ketch()
    router = Router(max_body_size=5)

    @router.post("/small")
    async def small(request: Request) -> int:
        return len(await request.body())

    @router.post("/roomy", max_body_size=100)
    async def roomy(request: Request) -> int:
        return len(await request.body())

    app.include_router(router)
    client = client_for(app)
    assert client.post("/small", content=b"123456").status_code == 413
    assert client.post("/roomy", content=b"123456").json() == 6


# -- mounts --------------------------------------------------------------------------------------------------------


async def echo_scope(scope: Scope, receive: Receive, send: Send) -> None:
    body = f"{scope['root_path']}|{scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


def test_mount_an_asgi_app() -> None:
    app = Ketch()
    app.mount("/sub", echo_scope, name="sub")
    app.add_route("/sub-route", lambda: "route")
    client = client_for(app)
    assert client.get("/sub/a/b").text == "/sub|/sub/a/b"
    assert client.get("/sub").text == "/sub|/sub"  # the mounted app decides what its own root means
    assert client.get("/sub-route").json() == "route"
    assert client.get("/subway").status_code == 404


def test_routes_win_over_mounts() -> None:
    app = Ketch()
    app.mount("/", echo_scope)
    app.add_route("/exact", lambda: "route")
    app.add_route("/p/{x}", lambda x: x)
    client = client_for(app)
    assert client.get("/exact").json() == "route"
    assert client.get("/p/1").json() == "1"
    assert client.get("/anything/else").text == "|/anything/else"


def test_mount_a_ketch_app_and_reverse_into_it() -> None:
    app = Ketch()
    child = Ketch()

    @child.get("/items/{id:int}")
    async def child_item(request: Request, id: int) -> dict[str, Any]:
        return {
            "id": id,
            "root": request.scope["root_path"],
            "url": str(request.url),
            "for": str(request.url_for("api:child_item", id=id + 1)),
        }

    app.mount("/api", child, name="api")
    app.include_router(Router(prefix="/r"))
    client = client_for(app)
    assert client.get("/api/items/1").json() == {
        "id": 1,
        "root": "/api",
        "url": "http://testserver/api/items/1",
        "for": "http://testserver/api/items/2",
    }
    assert app.url_path_for("api:child_item", id=3) == "/api/items/3"
    assert client.get("/api/nothing").json() == {"detail": "Not Found"}


def test_mount_inside_a_router_with_prefix() -> None:
    app = Ketch()
    router = Router(prefix="/r")
    router.mount("/m", echo_scope, name="m")
    app.include_router(router, prefix="/p")
    assert client_for(app).get("/p/r/m/x").text == "/p/r/m|/p/r/m/x"
    assert app.url_path_for("m", path="/a.css") == "/p/r/m/a.css"


def test_unnamed_mount_forwards_names() -> None:
    app = Ketch()
    child = Ketch()
    child.add_route("/leaf", lambda: "leaf", name="leaf")
    app.mount("/c", child)
    assert app.url_path_for("leaf") == "/c/leaf"


def test_mount_with_path_parameters() -> None:
    app = Ketch()
    child = Ketch()

    @child.get("/posts/{pid:int}")
    async def post(request: Request, pid: int) -> dict[str, Any]:
        return {"params": request.path_params, "root": request.scope["root_path"], "url": str(request.url)}

    app.mount("/users/{uid:int}", child, name="user")
    app.mount("/raw/{slug}", echo_scope)
    client = client_for(app)
    assert client.get("/users/5/posts/7").json() == {
        "params": {"uid": 5, "pid": 7},
        "root": "/users/5",
        "url": "http://testserver/users/5/posts/7",
    }
    assert client.get("/users/abc/posts/7").status_code == 404  # the mount's convertor refuses "abc"
    assert client.get("/users/5/nothing").status_code == 404
    assert client.get("/raw/a-b/x/y").text == "/raw/a-b|/raw/a-b/x/y"
    assert client.get("/raw/a-b").text == "/raw/a-b|/raw/a-b"
    assert client.get("/raw").status_code == 404
    assert app.url_path_for("user:post", uid=5, pid=7) == "/users/5/posts/7"


def test_mount_path_validation() -> None:
    with pytest.raises(ValueError):
        Mount("sub", echo_scope)
    assert Mount("/sub/", echo_scope).path == "/sub"


# -- reverse URLs --------------------------------------------------------------------------------------------------


def test_url_path_for() -> None:
    app = Ketch()
    app.add_route("/users/{uid:int}/posts/{slug}", lambda uid, slug: "x", name="post")
    app.add_route("/files/{rest:path}", lambda rest: "x", name="file")
    app.add_route("/static", lambda: "x", name="plain")
    assert app.url_path_for("post", uid=3, slug="hello") == "/users/3/posts/hello"
    assert app.url_path_for("file", rest="a/b.txt") == "/files/a/b.txt"
    assert app.url_path_for("plain") == "/static"
    bad: list[tuple[str, dict[str, Any]]] = [
        ("post", {"uid": 3}),
        ("post", {"uid": -1, "slug": "x"}),
        ("post", {"uid": 1, "slug": "a/b"}),
        ("post", {"uid": 1, "slug": ""}),
        ("post", {"uid": 1, "slug": "x", "extra": 1}),
        ("nope", {}),
        ("plain", {"x": 1}),
    ]
    for name, params in bad:
        with pytest.raises(NoMatchFound):
            app.url_path_for(name, **params)


def test_url_path_for_default_names_and_request_url_for() -> None:
    app = Ketch()

    @app.get("/a/{x:float}")
    async def named_by_function(request: Request, x: float) -> str:
        return str(request.url_for("named_by_function", x=x * 2))

    assert client_for(app).get("/a/1.5").json() == "http://testserver/a/3"


def test_url_path_for_with_the_same_name_tries_each_route() -> None:
    app = Ketch()
    app.add_route("/one", lambda: "x", name="dup")
    app.add_route("/two/{x}", lambda x: "x", name="dup")
    assert app.url_path_for("dup") == "/one"
    assert app.url_path_for("dup", x="y") == "/two/y"


# -- WebSocket routes ----------------------------------------------------------------------------------------------


def test_websocket_routes_static_and_dynamic() -> None:
    app = Ketch()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("static")
        await websocket.close()

    @app.websocket("/ws/{room}")
    async def room(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.send_text(room)
        await websocket.close()

    client = client_for(app)
    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "static"
    with client.websocket_connect("/ws/lobby") as session:
        assert session.receive_text() == "lobby"
    assert client.get("/ws").status_code == 404
    assert app.url_path_for("room", room="r1") == "/ws/r1"


def test_route_objects_and_validation() -> None:
    async def endpoint(request: Request) -> str:
        return "x"

    app = Ketch(routes=[Route("/r", endpoint, methods=["POST"]), WebSocketRoute("/w", endpoint)])
    route = app.routes[0]
    assert isinstance(route, Route)
    assert route.methods == {"POST"}
    assert route.name == "endpoint"
    assert repr(route) == "Route(path='/r', name='endpoint', methods=['POST'])"
    assert Route("/g", endpoint).methods == {"GET", "HEAD"}
    assert client_for(app).post("/r").json() == "x"
    with pytest.raises(ValueError):
        Route("no-slash", endpoint)
    with pytest.raises(ValueError):
        Route("/x", endpoint, methods=["G ET"])


def test_compile_path_errors() -> None:
    with pytest.raises(ValueError, match="Unknown path convertor"):
        compile_path("/x/{a:nope}")
    with pytest.raises(ValueError, match="Duplicated"):
        compile_path("/x/{a}/{a}")
    regex, fmt, convertors = compile_path("/x/{a:int}/<b>")
    assert fmt == "/x/{a}/{b}"
    assert set(convertors) == {"a", "b"}
    assert regex is not None and regex.match("/x/1/two") is not None
    assert compile_path("/plain") == (None, "/plain", {})


def test_register_convertor() -> None:
    class Hex(Convertor):
        regex = "[0-9a-f]+"

        def convert(self, value: str) -> int:
            return int(value, 16)

        def to_string(self, value: Any) -> str:
            return format(value, "x")

    register_convertor("hex", Hex())
    try:
        app = Ketch()
        app.add_route("/h/{v:hex}", lambda v: v, name="hex")
        assert client_for(app).get("/h/ff").json() == 255
        assert app.url_path_for("hex", v=255) == "/h/ff"
    finally:
        del CONVERTORS["hex"]


def test_endpoint_with_an_unknown_parameter_fails_at_start_up() -> None:
    from ketch import ImproperlyConfigured
    from ketch._plan import CorePlanner

    app = Ketch(planner=CorePlanner())  # the typed planner reads an unknown parameter as a query parameter
    app.add_route("/x", lambda mystery: "x")
    with pytest.raises(ImproperlyConfigured, match="mystery"):
        app.prepare()


def test_endpoint_parameters_with_defaults_are_left_alone() -> None:
    app = Ketch()

    def endpoint(request: Request, unused: str = "default") -> str:
        return unused

    app.add_route("/x", endpoint)
    assert client_for(app).get("/x").json() == "default"
