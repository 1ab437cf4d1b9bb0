"""Routing by host: ``subdomain=`` (under ``SERVER_NAME``) and ``host=`` (``host_matching=True``), on rules and
blueprints; checked against Flask where Flask behaves the same, and for what ketch adds."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from ketch import Blueprint, Ketch, url_for
from ketch.exceptions import ImproperlyConfigured
from ketch.testclient import TestClient
from tests.classic._diff import KETCH, Req, compare


def host(name: str) -> dict[str, str]:
    return {"Host": name}


# -- the same as Flask -------------------------------------------------------------------------------------


def subdomain_app(ns: SimpleNamespace) -> Any:
    app = ns.Flask(__name__, subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "example.com"

    @app.route("/")
    def index() -> str:
        return "main index " + ns.url_for("api_index") + " " + ns.url_for("user_page", user="bob")

    @app.route("/", subdomain="api")
    def api_index() -> str:
        return "api index " + ns.url_for("index") + " " + ns.url_for("api_item", id=3)

    @app.route("/items/<int:id>", subdomain="api", methods=["GET", "POST"])
    def api_item(id: int) -> str:
        return f"api item {id} {ns.request.method}"

    @app.route("/", subdomain="<user>")
    def user_page(user: str) -> str:
        return f"page of {user}"

    bp = ns.Blueprint("admin", __name__, subdomain="admin", url_prefix="/panel")

    @bp.route("/")
    def panel() -> str:
        return "admin panel " + ns.url_for(".panel") + " " + ns.url_for("index")

    app.register_blueprint(bp)
    return app


SUBDOMAIN_REQUESTS = [
    Req("GET", "/", headers=host("example.com")),
    Req("GET", "/", headers=host("api.example.com")),
    Req("GET", "/", headers=host("bob.example.com")),
    Req("GET", "/", headers=host("a.b.example.com")),
    Req("GET", "/items/3", headers=host("api.example.com")),
    Req("POST", "/items/4", headers=host("api.example.com")),
    Req("DELETE", "/items/4", headers=host("api.example.com")),
    Req("GET", "/items/3", headers=host("example.com")),
    Req("GET", "/items/3", headers=host("bob.example.com")),
    Req("GET", "/panel/", headers=host("admin.example.com")),
    Req("GET", "/panel/", headers=host("example.com")),
    Req("GET", "/", headers=host("EXAMPLE.COM")),
    Req("GET", "/", headers=host("example.com:80")),
]


def with_blueprints(ns: SimpleNamespace) -> SimpleNamespace:
    import flask

    import ketch

    return SimpleNamespace(**vars(ns), Blueprint=flask.Blueprint if ns.name == "flask" else ketch.Blueprint)


def test_subdomains_match_as_in_flask() -> None:
    results = compare(lambda ns: subdomain_app(with_blueprints(ns)), SUBDOMAIN_REQUESTS)
    assert results[0]["body"] == b"main index http://api.example.com/ http://bob.example.com/"
    assert results[1]["body"] == b"api index http://example.com/ /items/3"
    assert results[2]["body"] == b"page of bob"
    assert results[9]["body"] == b"admin panel /panel/ http://example.com/"


@pytest.mark.parametrize("name", ["other.org", "example.com.evil.org", "notexample.com", "example.com:8000"])
def test_a_host_outside_the_server_name_is_404(name: str) -> None:
    """Werkzeug gives such a host the subdomain "<invalid>", which ``subdomain="<user>"`` then matches
    (``page of <invalid>``); ketch matches no rule at all."""
    app = subdomain_app(with_blueprints(KETCH))
    response = TestClient(app).get("/", headers=host(name))
    assert response.status_code == 404


def host_app(ns: SimpleNamespace) -> Any:
    app = ns.Flask(__name__, host_matching=True, static_host="static.example.org")

    @app.route("/", host="example.org")
    def index() -> str:
        return "index " + ns.url_for("shop", name="tea") + " " + ns.url_for("static", filename="x.txt")

    @app.route("/", host="<name>.shop.example.org")
    def shop(name: str) -> str:
        return f"shop {name} " + ns.url_for("index")

    @app.route("/about", host="example.org")
    def about() -> str:
        return "about"

    return app


def test_host_matching_as_in_flask() -> None:
    requests = [
        Req("GET", "/", headers=host("example.org")),
        Req("GET", "/", headers=host("tea.shop.example.org")),
        Req("GET", "/about", headers=host("example.org")),
        Req("GET", "/about", headers=host("tea.shop.example.org")),
        Req("POST", "/about", headers=host("example.org")),
        Req("GET", "/", headers=host("shop.example.org")),
        Req("GET", "/", headers=host("elsewhere.net")),
    ]
    results = compare(host_app, requests)
    assert results[0]["body"] == b"index http://tea.shop.example.org/ http://static.example.org/static/x.txt"
    assert results[1]["body"] == b"shop tea http://example.org/"


def test_automatic_options_lists_the_methods_of_the_host() -> None:
    requests = [
        Req("OPTIONS", "/items/3", headers=host("api.example.com")),
        Req("OPTIONS", "/", headers=host("api.example.com")),
        Req("OPTIONS", "/", headers=host("example.com")),
        Req("OPTIONS", "/nope", headers=host("api.example.com")),
    ]
    results = compare(lambda ns: subdomain_app(with_blueprints(ns)), requests)
    assert results[0]["allow"] == ["GET", "HEAD", "OPTIONS", "POST"]


# -- what ketch adds (or does differently) ----------------------------------------------------------------


def ketch_app(**config: Any) -> Ketch:
    app = Ketch(__name__, static_folder=None)
    app.config.update({"SECRET_KEY": "k", "SERVER_NAME": "example.com", **config})
    return app


def test_a_subdomain_rule_turns_subdomain_matching_on() -> None:
    """Flask 3.1 needs ``subdomain_matching=True`` or subdomain rules never match; in ketch the rule is enough."""
    app = ketch_app()

    @app.route("/")
    def index() -> str:
        return "main"

    @app.route("/", subdomain="api")
    def api() -> str:
        return "api"

    client = TestClient(app)
    assert client.get("/", headers=host("example.com")).text == "main"
    assert client.get("/", headers=host("api.example.com")).text == "api"
    assert client.get("/", headers=host("www.example.com")).status_code == 404


def test_a_rule_whose_host_does_not_fit_falls_through_to_the_next() -> None:
    app = ketch_app()

    @app.route("/<name>", subdomain="api")
    def api_name(name: str) -> str:
        return f"api {name}"

    @app.route("/<int:id>")
    def main_number(id: int) -> str:
        return f"main {id}"

    @app.route("/<path:rest>", subdomain="<tenant>")
    def tenant(tenant: str, rest: str) -> str:
        return f"{tenant}: {rest}"

    client = TestClient(app)
    assert client.get("/5", headers=host("example.com")).text == "main 5"
    assert client.get("/5", headers=host("api.example.com")).text == "api 5"
    assert client.get("/a/b", headers=host("acme.example.com")).text == "acme: a/b"
    assert client.get("/x", headers=host("example.com")).status_code == 404
    assert client.head("/5", headers=host("api.example.com")).content == b""


def test_subdomain_routes_need_a_server_name() -> None:
    app = Ketch(__name__)
    app.config["SECRET_KEY"] = "k"

    @app.route("/", subdomain="api")
    def api() -> str:
        return "api"

    with pytest.raises(ImproperlyConfigured, match="SERVER_NAME"):
        TestClient(app).get("/")


def test_blueprint_subdomain_from_register_options_and_hooks() -> None:
    app = ketch_app()
    bp = Blueprint("api", __name__)
    seen: list[str] = []

    @bp.before_request
    def mark() -> None:
        seen.append("api hook")

    @bp.route("/status")
    def status() -> str:
        return "api status " + url_for("api.status") + " " + url_for("home", _external=True)

    @app.route("/status")
    def home() -> str:
        return "main status " + url_for("api.status")

    app.register_blueprint(bp, subdomain="api")
    client = TestClient(app)
    assert client.get("/status", headers=host("example.com")).text == "main status http://api.example.com/status"
    assert client.get("/status", headers=host("api.example.com")).text == (
        "api status /status http://example.com/status"
    )
    assert seen == ["api hook"]


def test_url_for_outside_a_request_builds_the_subdomain() -> None:
    app = ketch_app(PREFERRED_URL_SCHEME="https")

    @app.route("/u/<int:id>", subdomain="<tenant>")
    def user(tenant: str, id: int) -> str:
        return "user"

    @app.route("/")
    def index() -> str:
        return "index"

    with app.app_context():
        assert url_for("user", tenant="acme", id=3) == "https://acme.example.com/u/3"
        assert url_for("user", tenant="acme", id=3, q="x") == "https://acme.example.com/u/3?q=x"
        assert url_for("index") == "https://example.com/"


def test_typed_routes_answer_every_host_next_to_subdomain_routes() -> None:
    app = ketch_app()

    @app.route("/", subdomain="api")
    def api() -> str:
        return "api"

    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    client = TestClient(app)
    assert client.get("/health", headers=host("elsewhere.net")).json() == {"ok": True}
    assert client.get("/", headers=host("api.example.com")).text == "api"


def test_routes_added_after_the_first_request_are_routed_by_host() -> None:
    app = ketch_app()

    @app.route("/", subdomain="api")
    def api() -> str:
        return "api"

    client = TestClient(app)
    assert client.get("/", headers=host("api.example.com")).text == "api"

    @app.route("/", subdomain="docs")
    def docs() -> str:
        return "docs"

    assert client.get("/", headers=host("docs.example.com")).text == "docs"


def test_a_bad_host_header_matches_no_subdomain() -> None:
    app = ketch_app()

    @app.route("/", subdomain="api")
    def api() -> str:
        return "api"

    client = TestClient(app)
    for bad in ("api.example.com/x", "api.example.com@evil", "api example.com"):
        assert client.get("/", headers=host(bad)).status_code == 404


def test_test_request_context_matches_by_host() -> None:
    app = ketch_app()

    @app.route("/", subdomain="<tenant>")
    def tenant(tenant: str) -> str:
        return tenant

    with app.test_request_context("/", base_url="http://acme.example.com") as ctx:
        assert ctx.request.view_args == {"tenant": "acme"}
        assert ctx.request.url_rule.endpoint == "tenant"
