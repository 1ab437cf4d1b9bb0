"""The docs_src examples of the classic-face pages (classic.md, templates.md, sessions-and-csrf.md, blueprints.md,
config.md, classic-testing.md, coming-from-flask.md), exercised as the pages describe them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from ketch.cli import main
from ketch.testclient import TestClient

# -- classic.md ----------------------------------------------------------------------------------------------------


def test_classic_app() -> None:
    from docs_src.classic_app import app

    client = TestClient(app)
    page = client.get("/", headers={"X-Reader": "ada"})
    assert (page.text, page.headers["content-type"]) == ("<h1>Hello, ada!</h1>", "text/html; charset=utf-8")
    assert page.headers["x-served-by"] == "ketch"
    assert client.get("/books/1").json() == {"id": 1, "title": "Dune"}
    missing = client.get("/books/9")
    assert (missing.status_code, missing.text) == (404, "<p>No such page: /books/9</p>")
    created = client.post("/books", json={"title": "Ulysses"})
    assert created.status_code == 201 and created.headers["location"] == "/books/3"
    assert client.get("/books").json() == {"titles": ["Dune", "Emma", "Ulysses"]}
    moved = client.get("/library", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (302, "/books")
    options = client.options("/books")
    assert (options.status_code, options.text, options.headers["allow"]) == (200, "", "GET, HEAD, OPTIONS, POST")
    assert client.delete("/books").status_code == 405
    assert client.get("/api/books/2").json() == {"id": 2, "title": "Emma"}
    assert client.get("/api/books/two").status_code == 422


def test_classic_hosts() -> None:
    from docs_src.classic_hosts import app

    client = TestClient(app)
    assert client.get("/", headers={"Host": "example.com"}).text == "home: http://docs.example.com/intro"
    assert client.get("/", headers={"Host": "blue.example.com"}).text == "team blue: http://example.com/"
    assert client.get("/intro", headers={"Host": "docs.example.com"}).text == "docs page intro"
    assert client.get("/intro", headers={"Host": "example.com"}).status_code == 404
    assert client.get("/", headers={"Host": "example.org"}).status_code == 404


# -- templates.md --------------------------------------------------------------------------------------------------


def test_classic_templates() -> None:
    from docs_src.classic_templates import app

    client = TestClient(app)
    page = client.get("/hello/<world>").text
    assert "<title>Hello - Example</title>" in page
    assert "<h1>Hello, &lt;WORLD&gt;!</h1>" in page
    assert '<a href="/hello/ketch">again</a>' in page
    assert client.get("/inline").text == "<p>&lt;b&gt;escaped&lt;/b&gt;</p>"


# -- sessions-and-csrf.md ------------------------------------------------------------------------------------------


def test_classic_sessions_and_csrf() -> None:
    from docs_src.classic_sessions import app

    client = TestClient(app, follow_redirects=False)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    assert client.post("/login", data={"username": "ada"}).status_code == 403  # no token
    other_site = client.post(
        "/login", data={"username": "ada", "csrf_token": token.group(1)}, headers={"Origin": "https://evil.example"}
    )
    assert other_site.status_code == 403
    response = client.post("/login", data={"username": "ada", "csrf_token": token.group(1)})
    assert (response.status_code, response.headers["location"]) == (302, "/profile")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    profile = client.get("/profile").text
    assert '<p class="flash">Welcome, ada!</p>' in profile and "Logged in as ada." in profile
    assert '<p class="flash">' not in client.get("/profile").text  # a flashed message shows once
    assert client.post("/hooks/payment", data={"x": "1"}).json() == {"received": True}
    assert client.post("/logout").status_code == 403  # no token: a cross-site form cannot log you out
    assert client.post("/logout", headers={"X-CSRFToken": token.group(1)}).status_code == 302
    assert client.get("/profile").text == "not logged in"


# -- blueprints.md -------------------------------------------------------------------------------------------------


def test_classic_blueprints() -> None:
    from docs_src.classic_blueprints import create_app

    client = TestClient(create_app())
    assert client.get("/").text == "public page"
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/").text == "admins only"
    assert client.get("/admin/", headers={"X-User": "root"}).text == "admin dashboard"


def test_classic_blueprint_commands() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--app", "docs_src.classic_blueprints", "init-db"])
    assert result.output == "initialised the database of docs_src.classic_blueprints\n"
    result = runner.invoke(main, ["--app", "docs_src.classic_blueprints", "admin", "grant", "ada"])
    assert result.output == "ada is now an admin\n"
    assert create_runner_output() == "initialised the database of docs_src.classic_blueprints\n"


def create_runner_output() -> str:
    from docs_src.classic_blueprints import create_app

    return str(create_app().test_cli_runner().invoke(args=["init-db"]).output)


# -- config.md -----------------------------------------------------------------------------------------------------


def test_classic_config(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import docs_src.classic_config as module

    monkeypatch.setenv("KETCH_MAIL_PORT", "2525")
    monkeypatch.setenv("KETCH_SECRET_KEY", "from the environment")
    module = importlib.reload(module)
    config = module.app.config
    assert config["DATABASE"] == "sqlite:///dev.db"
    assert (config["SECRET_KEY"], config["MAIL_PORT"]) == ("from the environment", 2525)
    assert module.mail == {"server": "localhost", "port": 2525}
    assert module.app.secret_key == "from the environment"


# -- classic-testing.md --------------------------------------------------------------------------------------------


@pytest.fixture
def testing_app() -> Any:
    from docs_src.classic_testing import create_app

    return create_app()


@pytest.fixture
def testing_client(testing_app: Any) -> Iterator[Any]:
    yield testing_app.test_client()


def test_classic_testing_examples(testing_app: Any, testing_client: Any) -> None:
    from docs_src import classic_testing

    classic_testing.test_login(testing_client)
    classic_testing.test_session_transaction(testing_app.test_client())
    classic_testing.test_request_context(testing_app)
    classic_testing.test_command(testing_app)
