from typing import Any

import click

from ketch import Ketch, g, request, session


def create_app() -> Ketch:
    app = Ketch(__name__)
    app.config.update(SECRET_KEY="test", TESTING=True, CSRF_ENABLED=False)

    @app.route("/login", methods=["POST"])
    def login() -> str:
        session["user"] = request.form["username"]
        return "ok"

    @app.route("/me")
    def me() -> str:
        g.seen = True
        return session.get("user", "anonymous")

    @app.cli.command("hello")
    @click.option("--name", default="world")
    def hello(name: str) -> None:
        click.echo(f"Hello, {name}!")

    return app


# What the tests of an app look like (with pytest fixtures giving ``app`` and ``client``):


def test_login(client: Any) -> None:
    assert client.get("/me").data == b"anonymous"
    assert client.post("/login", data={"username": "ada"}).status_code == 200
    with client:  # keep the last request's context, to look at it
        assert client.get("/me").text == "ada"
        assert session["user"] == "ada" and g.seen


def test_session_transaction(client: Any) -> None:
    with client.session_transaction() as sess:
        sess["user"] = "grace"
    assert client.get("/me").text == "grace"


def test_request_context(app: Ketch) -> None:
    with app.test_request_context("/me?x=1", headers={"X-Test": "yes"}):
        assert request.args["x"] == "1" and request.headers["X-Test"] == "yes"


def test_command(app: Ketch) -> None:
    result = app.test_cli_runner().invoke(args=["hello", "--name", "ketch"])
    assert result.output == "Hello, ketch!\n"
