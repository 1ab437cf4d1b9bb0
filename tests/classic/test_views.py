"""Class-based views: View and MethodView, on Flask and on ketch."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import flask.views
import pytest

from ketch.views import MethodView, View
from tests.classic._diff import Req, compare


def views_app(f: SimpleNamespace) -> Any:
    base_view = flask.views.View if f.name == "flask" else View
    base_method_view = flask.views.MethodView if f.name == "flask" else MethodView
    app = f.Flask(__name__)

    class Hello(base_view):  # type: ignore[misc, valid-type]
        methods = ["GET", "POST"]

        def __init__(self, greeting: str) -> None:
            self.greeting = greeting

        def dispatch_request(self, name: str) -> Any:
            return f"{self.greeting} {name} via {f.request.method}"

    def add_header(view: Any) -> Any:
        def wrapped(**kwargs: Any) -> Any:
            response = f.make_response(view(**kwargs))
            response.headers["X-Decorated"] = "yes"
            return response

        return wrapped

    class Items(base_method_view):  # type: ignore[misc, valid-type]
        decorators = [add_header]

        def get(self, item_id: int | None = None) -> Any:
            if item_id is None:
                return {"items": [1, 2]}
            return {"item": item_id}

        def post(self) -> Any:
            return {"created": f.request.get_json()}, 201

        def delete(self, item_id: int) -> Any:
            return "", 204

    class AsyncItems(base_method_view):  # type: ignore[misc, valid-type]
        async def get(self) -> Any:
            await asyncio.sleep(0)
            return "async get"

        def post(self) -> Any:
            return "sync post"

    class Shared(base_view):  # type: ignore[misc, valid-type]
        init_every_request = False

        def __init__(self) -> None:
            self.count = 0

        def dispatch_request(self) -> Any:
            self.count += 1
            return str(self.count)

    app.add_url_rule("/hello/<name>", view_func=Hello.as_view("hello", "Hi"))
    items = Items.as_view("items")
    app.add_url_rule("/items/", view_func=items, methods=["GET", "POST"])
    app.add_url_rule("/items/<int:item_id>", view_func=items, methods=["GET", "DELETE"])
    app.add_url_rule("/async", view_func=AsyncItems.as_view("async_items"))
    app.add_url_rule("/shared", view_func=Shared.as_view("shared"))
    return app


@pytest.mark.parametrize(
    "req",
    [
        Req("GET", "/hello/ann"),
        Req("POST", "/hello/bob"),
        Req("PUT", "/hello/bob"),
        Req("GET", "/items/"),
        Req("POST", "/items/", json={"a": 1}),
        Req("GET", "/items/4"),
        Req("DELETE", "/items/4"),
        Req("POST", "/items/4"),
        Req("HEAD", "/items/4"),
        Req("GET", "/async"),
        Req("POST", "/async"),
        Req("DELETE", "/async"),
    ],
    ids=lambda r: f"{r.method} {r.path}",
)
def test_class_based_views(req: Req) -> None:
    compare(views_app, [req])


def test_shared_instance() -> None:
    compare(views_app, [Req("GET", "/shared"), Req("GET", "/shared"), Req("GET", "/shared")])


def test_method_view_methods() -> None:
    class Both(MethodView):
        def get(self) -> str:
            return "g"

        def patch(self) -> str:
            return "p"

    class Child(Both):
        def put(self) -> str:
            return "u"

    assert Both.methods == {"GET", "PATCH"}
    assert Child.methods == {"GET", "PATCH", "PUT"}
    with pytest.raises(NotImplementedError):
        View().dispatch_request()
