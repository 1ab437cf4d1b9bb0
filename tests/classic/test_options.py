"""Automatic OPTIONS on classic routes goes through Flask's request sequence: before_request and after_request
functions run, ``Allow`` lists every method of the URL, the body is empty (``text/html``), and a rule that turns
it off answers 405."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import flask
import flask.views

import ketch
from ketch.testclient import TestClient
from tests.classic._diff import Req, compare


def options_app(ns: SimpleNamespace, **config: Any) -> Any:
    app = ns.Flask(__name__, static_folder=None)
    app.config.update(config)
    Blueprint = flask.Blueprint if ns.name == "flask" else ketch.Blueprint
    MethodView = flask.views.MethodView if ns.name == "flask" else ketch.MethodView

    @app.before_request
    def block() -> Any:
        if ns.request.path == "/blocked":
            return "blocked by a hook", 403
        return None

    @app.after_request
    def mark(response: Any) -> Any:
        response.headers["Vary"] = "X-Hook-" + ns.request.method
        return response

    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/items", methods=["GET", "POST"])
    def items() -> str:
        return "items"

    @app.route("/items", methods=["DELETE"], endpoint="drop_items")
    def drop_items() -> str:
        return "dropped"

    @app.route("/own", methods=["GET", "OPTIONS"])
    def own() -> str:
        return "own " + ns.request.method

    app.add_url_rule("/manual", "manual", lambda: "manual", provide_automatic_options=False)

    @app.route("/blocked")
    def blocked() -> str:
        return "never"

    class Thing(MethodView):
        def get(self) -> str:
            return "thing"

        def put(self) -> str:
            return "put"

    app.add_url_rule("/thing", view_func=Thing.as_view("thing"))
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    bp.add_url_rule("/x", "x", lambda: "x", methods=["POST"], provide_automatic_options=False)
    bp.add_url_rule("/y/<int:n>", "y", lambda n: f"y{n}")
    app.register_blueprint(bp)
    return app


REQUESTS = [
    Req("OPTIONS", "/"),
    Req("OPTIONS", "/items"),
    Req("OPTIONS", "/own"),
    Req("GET", "/own"),
    Req("OPTIONS", "/manual"),
    Req("POST", "/manual"),
    Req("OPTIONS", "/blocked"),
    Req("OPTIONS", "/thing"),
    Req("OPTIONS", "/bp/x"),
    Req("OPTIONS", "/bp/y/3"),
    Req("OPTIONS", "/bp/y/three"),
    Req("OPTIONS", "/missing"),
]


def test_automatic_options_as_in_flask() -> None:
    results = compare(options_app, REQUESTS)
    index = results[0]
    assert (index["status"], index["body"], index["mimetype"]) == (200, b"", "text/html")
    assert index["allow"] == ["GET", "HEAD", "OPTIONS"]
    assert index["vary"] == ["X-Hook-OPTIONS"]
    assert results[1]["allow"] == ["DELETE", "GET", "HEAD", "OPTIONS", "POST"]
    assert results[2]["body"] == b"own OPTIONS"
    assert (results[4]["status"], results[4]["allow"]) == (405, ["GET", "HEAD"])
    assert (results[5]["status"], results[5]["allow"]) == (405, ["GET", "HEAD"])  # refused OPTIONS is not offered
    assert results[6]["body"] == b"blocked by a hook"
    assert results[7]["allow"] == ["GET", "HEAD", "OPTIONS", "PUT"]


def test_automatic_options_can_be_turned_off_for_the_app() -> None:
    results = compare(
        lambda ns: options_app(ns, PROVIDE_AUTOMATIC_OPTIONS=False), [Req("OPTIONS", "/"), Req("OPTIONS", "/own")]
    )
    assert results[0]["status"] == 405 and results[1]["body"] == b"own OPTIONS"


def test_options_content_length_is_zero() -> None:
    app = ketch.Ketch(__name__, static_folder=None)

    @app.route("/")
    def index() -> str:
        return "index"

    response = TestClient(app).options("/")
    assert response.headers["content-length"] == "0"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert app.url_map.iter_rules("index").__next__().methods == {"GET", "HEAD", "OPTIONS"}
