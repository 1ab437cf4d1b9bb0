"""Templates: the same templates render the same on Flask and on ketch (autoescape, globals, hooks)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import flask
import pytest

from ketch import Ketch
from ketch.csrf import generate_csrf
from ketch.globals import g
from ketch.helpers import render_template, render_template_string, stream_template
from ketch.signals import template_rendered
from ketch.testclient import TestClient
from tests.classic._diff import Req, compare


def templates_app(f: SimpleNamespace) -> Any:
    app = f.Flask(__name__)
    app.config["SECRET_KEY"] = "templates"
    render = flask.render_template if f.name == "flask" else render_template
    render_string = flask.render_template_string if f.name == "flask" else render_template_string
    stream = flask.stream_template if f.name == "flask" else stream_template

    @app.template_filter("shout")
    def shout(value: str) -> str:
        return str(value).upper() + "!"

    @app.template_test()
    def even_number(value: int) -> bool:
        return value % 2 == 0

    @app.template_global()
    def site_name() -> str:
        return "Site & Co"

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"injected": "<from processor>", "title": "default title"}

    @app.before_request
    def user() -> None:
        f.g.user = "ann"

    @app.route("/page")
    def page() -> Any:
        f.session["who"] = "<me>"
        f.flash("<b>flashed</b>")
        return render("page.html", title="Page <1>", value="<script>alert(1)</script>", data={"a": "</script>"})

    @app.route("/plain")
    def plain() -> Any:
        return render("plain.txt", value="<raw>"), {"Content-Type": "text/plain"}

    @app.route("/string")
    def string() -> Any:
        return render_string("{{ value }} {{ g.user }} {{ request.path }}", value="<i>")

    @app.route("/list")
    def template_list() -> Any:
        return render(["missing.html", "plain.txt"], value="first found")

    @app.route("/stream")
    def streamed() -> Any:
        return stream("stream.html", items=["a", "<b>"])

    @app.route("/missing")
    def missing() -> Any:
        return render("nope.html")

    return app


@pytest.mark.parametrize("path", ["/page", "/plain", "/string", "/list", "/stream", "/missing"])
def test_templates_render_alike(path: str) -> None:
    compare(templates_app, [Req("GET", path)])


def test_flashes_show_on_the_next_page() -> None:
    compare(templates_app, [Req("GET", "/page"), Req("GET", "/page")])


def test_autoescape_and_template_signal() -> None:
    app = Ketch(__name__)
    app.config["SECRET_KEY"] = "x"
    rendered: list[Any] = []

    @app.route("/")
    def index() -> str:
        g.user = "g-user"
        return render_template_string(
            "{{ x }}|{{ x|safe }}|{{ csrf_token() == token }}", x="<a>", token=generate_csrf()
        )

    def record(sender: Any, template: Any, context: dict[str, Any], **extra: Any) -> None:
        rendered.append(context["x"])

    with template_rendered.connected_to(record, app):
        response = TestClient(app).get("/")
    assert response.text == "&lt;a&gt;|<a>|True"
    assert rendered == ["<a>"]


def test_render_template_outside_a_request_uses_the_app_context() -> None:
    app = Ketch(__name__)
    with app.app_context():
        assert render_template("plain.txt", value="cli") == "Hello cli!"
    with pytest.raises(RuntimeError):
        render_template("plain.txt")
