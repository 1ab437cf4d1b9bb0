"""Blueprints: prefixes, nesting, scoped hooks and error handlers, relative url_for, folders."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import flask
import pytest

from ketch.blueprints import Blueprint
from ketch.helpers import render_template
from tests.classic._diff import Req, compare


def blueprints_app(f: SimpleNamespace) -> Any:
    BP = flask.Blueprint if f.name == "flask" else Blueprint
    render = flask.render_template if f.name == "flask" else render_template
    app = f.Flask(__name__)
    calls: list[str] = []

    admin = BP("admin", __name__, url_prefix="/admin", template_folder="bp_templates", static_folder="bp_static")
    users = BP("users", __name__, url_prefix="/users")
    api = BP("api", __name__)

    @app.route("/")
    def index() -> Any:
        return {"calls": calls, "admin": f.url_for("admin.index"), "user": f.url_for("admin.users.show", uid=3)}

    @app.route("/reset")
    def reset() -> Any:
        calls.clear()
        return "reset"

    @admin.route("/")
    def index_admin() -> Any:
        return "never: replaced by the endpoint below"

    @admin.route("/home", endpoint="index")
    def admin_home() -> Any:
        return {"relative": f.url_for(".index"), "bp": f.request.blueprint, "endpoint": f.request.endpoint}

    @admin.route("/page")
    def page() -> Any:
        return render("bp_page.html", value="<v>")

    @admin.route("/boom")
    def boom() -> Any:
        f.abort(404)

    @admin.route("/forbidden")
    def forbidden() -> Any:
        f.abort(403)

    @admin.route("/value-error")
    def value_error() -> Any:
        raise ValueError("bad value")

    @admin.before_request
    def admin_before() -> None:
        calls.append("admin before")

    @admin.after_request
    def admin_after(response: Any) -> Any:
        calls.append("admin after")
        return response

    @admin.before_app_request
    def everywhere() -> None:
        calls.append("app-wide from admin")

    @admin.errorhandler(404)
    def admin_404(error: Any) -> Any:
        return "admin 404", 404

    @admin.errorhandler(ValueError)
    def admin_value_error(error: Any) -> Any:
        return f"admin value error: {error}", 400

    @app.errorhandler(403)
    def app_403(error: Any) -> Any:
        return "app 403", 403

    @users.route("/<int:uid>")
    def show(uid: int) -> Any:
        return {"uid": uid, "endpoint": f.request.endpoint, "blueprints": f.request.blueprints}

    @users.before_request
    def users_before() -> None:
        calls.append("users before")

    @users.get("/verb")
    def verb() -> Any:
        return "get only"

    @api.route("/ping")
    def ping() -> Any:
        return {"endpoint": f.request.endpoint, "url": f.url_for(".ping")}

    admin.register_blueprint(users)
    app.register_blueprint(admin)
    app.register_blueprint(api, url_prefix="/v1")
    app.register_blueprint(api, url_prefix="/v2", name="api2")
    return app


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/admin/home"),
        ("GET", "/admin/"),
        ("GET", "/admin/page"),
        ("GET", "/admin/boom"),
        ("GET", "/admin/forbidden"),
        ("GET", "/admin/value-error"),
        ("GET", "/admin/nothing-here"),
        ("GET", "/admin/users/5"),
        ("GET", "/admin/users/verb"),
        ("POST", "/admin/users/verb"),
        ("GET", "/v1/ping"),
        ("GET", "/v2/ping"),
        ("GET", "/admin/static/bp.txt"),
        ("GET", "/admin/static/../test_blueprints.py"),
        ("GET", "/static/css/site.css"),
        ("GET", "/static/nope.css"),
    ],
)
def test_blueprint_routes(method: str, path: str) -> None:
    compare(blueprints_app, [Req(method, path)])


def test_scoped_hooks() -> None:
    compare(
        blueprints_app,
        [
            Req("GET", "/reset"),
            Req("GET", "/admin/users/1"),
            Req("GET", "/"),
            Req("GET", "/reset"),
            Req("GET", "/v1/ping"),
            Req("GET", "/"),
        ],
    )


def test_blueprint_names_and_registration_errors() -> None:
    with pytest.raises(ValueError, match="dot"):
        Blueprint("a.b", __name__)
    with pytest.raises(ValueError, match="empty"):
        Blueprint("", __name__)
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="dot"):
        bp.add_url_rule("/x", "a.b", lambda: "x")
    from tests.classic._diff import flask_style_ketch

    app = flask_style_ketch(__name__)
    app.register_blueprint(bp)
    with pytest.raises(ValueError, match="already registered"):
        app.register_blueprint(bp)
    with pytest.raises(AssertionError, match="already been registered"):
        bp.route("/late")(lambda: "late")
    with pytest.raises(TypeError, match="methods"):
        Blueprint("c", __name__).get("/x", methods=["POST"])
