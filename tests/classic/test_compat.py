"""``ketch.compat.flask``: Flask's import paths, Werkzeug's exception classes, converters, files, app.run."""

from __future__ import annotations

import importlib
import io
from types import ModuleType, SimpleNamespace
from typing import Any

import flask
import pytest
import werkzeug.exceptions
import werkzeug.routing
import werkzeug.utils

import ketch.compat.flask as compat
from tests.classic._diff import Req, compare

MODULES = [
    "app",
    "blueprints",
    "cli",
    "config",
    "ctx",
    "globals",
    "helpers",
    "json",
    "json.provider",
    "json.tag",
    "sessions",
    "signals",
    "templating",
    "testing",
    "typing",
    "views",
    "wrappers",
]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_path_imports(name: str) -> None:
    module = importlib.import_module(f"ketch.compat.flask.{name}")
    for exported in module.__all__:
        assert hasattr(module, exported)


def test_the_top_level_names_match_flask() -> None:
    missing = {name for name in flask.__all__ if not hasattr(compat, name)} if hasattr(flask, "__all__") else set()
    public = {
        name
        for name in dir(flask)
        if not name.startswith("_")
        and name not in ("t", "annotations")
        and not isinstance(getattr(flask, name), ModuleType)
    }
    assert missing == set()
    assert public - set(dir(compat)) == set()


class ListConverter(werkzeug.routing.BaseConverter):
    regex = r"\d+(?:,\d+)*"

    def to_python(self, value: str) -> list[int]:
        return [int(part) for part in value.split(",")]

    def to_url(self, value: list[int]) -> str:
        return ",".join(str(part) for part in value)


def werkzeug_app(f: SimpleNamespace) -> Any:
    app = f.Flask(__name__)
    app.url_map.converters["intlist"] = ListConverter

    @app.route("/nums/<intlist:values>")
    def nums(values: list[int]) -> Any:
        return {"sum": sum(values), "url": f.url_for("nums", values=[4, 5])}

    @app.route("/pick/<any(red, green):color>")
    def pick(color: str) -> Any:
        return color

    @app.route("/page/<int(min=1, max=9):n>")
    def page(n: int) -> Any:
        return str(n)

    @app.route("/code/<string(length=2):code>")
    def code(code: str) -> Any:
        return code

    @app.route("/signed/<int(signed=True):n>")
    def signed(n: int) -> Any:
        return str(n)

    @app.route("/abort-werkzeug")
    def abort_werkzeug() -> Any:
        raise werkzeug.exceptions.Gone()

    @app.route("/werkzeug-redirect")
    def werkzeug_redirect() -> Any:
        return werkzeug.utils.redirect("/target", 301)

    @app.route("/bad-key")
    def bad_key() -> Any:
        try:
            return f.request.args["missing"]
        except werkzeug.exceptions.BadRequestKeyError:
            return "caught as werkzeug's"

    @app.route("/only-get")
    def only_get() -> Any:
        return "get"

    @app.post("/verb")
    def verb() -> Any:
        return "posted"

    @app.errorhandler(werkzeug.exceptions.NotFound)
    def not_found(error: Any) -> Any:
        return f"{type(error).__name__}: {error.description}", 404

    @app.errorhandler(werkzeug.exceptions.MethodNotAllowed)
    def not_allowed(error: Any) -> Any:
        return f"{type(error).__name__} {sorted(error.valid_methods or [])}", 405

    @app.route("/file")
    def file() -> Any:
        return f.send_file(io.BytesIO(b"in memory"), mimetype="text/plain", as_attachment=True, download_name="a b.txt")

    @app.route("/abort-404")
    def abort_404() -> Any:
        f.abort(404, "custom description")

    return app


@pytest.mark.parametrize(
    "req",
    [
        Req("GET", "/nums/1,2,3"),
        Req("GET", "/nums/x"),
        Req("GET", "/pick/red"),
        Req("GET", "/pick/blue"),
        Req("GET", "/page/3"),
        Req("GET", "/page/10"),
        Req("GET", "/page/0"),
        Req("GET", "/code/ab"),
        Req("GET", "/code/abc"),
        Req("GET", "/signed/-4"),
        Req("GET", "/abort-werkzeug"),
        Req("GET", "/werkzeug-redirect"),
        Req("GET", "/bad-key"),
        Req("POST", "/only-get"),
        Req("POST", "/verb"),
        Req("GET", "/verb"),
        Req("GET", "/no-such-page"),
        Req("GET", "/abort-404"),
        Req("GET", "/file", check=("status", "mimetype", "body")),
    ],
    ids=lambda r: f"{r.method} {r.path}",
)
def test_werkzeug_classes_and_converters(req: Req) -> None:
    compare(werkzeug_app, [req])


def test_abort_raises_werkzeug_exceptions() -> None:
    app = compat.Flask(__name__)
    with app.test_request_context(), pytest.raises(werkzeug.exceptions.NotFound):
        compat.abort(404)


def test_config_reads_flask_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "from-env")
    app = compat.Flask(__name__)
    app.config.from_prefixed_env()
    assert app.secret_key == "from-env"
    assert not app.config["CSRF_ENABLED"]


def test_app_run_serves_with_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr("ketch.cli._run_server", lambda target, **options: calls.append((target, options)))
    app = compat.Flask(__name__)
    app.run(debug=True, use_reloader=False)
    target, options = calls[0]
    assert target is app and app.debug
    assert (options["host"], options["port"]) == ("127.0.0.1", 5000)


def test_root_path_is_the_app_folder() -> None:
    app = compat.Flask(__name__)
    assert app.root_path.endswith("classic")
    assert [rule.endpoint for rule in app.url_map.iter_rules()] == ["static"]
    with app.open_resource("templates/plain.txt") as handle:
        assert b"Hello" in handle.read()


def test_the_app_folder_never_becomes_the_url_root() -> None:
    """``app.root_path`` is a folder (Flask's meaning); the ASGI root path is separate (``Ketch(root_path=)``)."""
    app = compat.Flask(__name__)

    @app.route("/here")
    def here() -> Any:
        return {"root": compat.request.script_root, "url": compat.url_for("here"), "full": compat.request.url}

    assert app.test_client().get("/here").get_json() == {"root": "", "url": "/here", "full": "http://localhost/here"}


def cli_app(make_app: Any, blueprint_class: Any) -> Any:
    import click

    app = make_app(__name__)
    bp = blueprint_class("tools", __name__)

    @app.cli.command("hello")
    @click.option("--name", default="World")
    def hello(name: str) -> None:
        from flask import has_app_context as flask_has

        from ketch import has_app_context as ketch_has

        click.echo(f"Hello, {name} ({flask_has() or ketch_has()})")

    @app.cli.group()
    def db() -> None:
        """Database commands."""

    @db.command("init")
    def db_init() -> None:
        click.echo("init done")

    @bp.cli.command("ping")
    def ping() -> None:
        click.echo("pong")

    @app.shell_context_processor
    def names() -> dict[str, int]:
        return {"answer": 42}

    app.register_blueprint(bp)
    return app


@pytest.mark.parametrize(
    "args",
    [["hello"], ["hello", "--name", "ketch"], ["db", "init"], ["tools", "ping"], ["nope"], ["hello", "--bad"]],
)
def test_cli_commands_as_in_flask(args: list[str]) -> None:
    results = []
    for make_app, blueprint in ((flask.Flask, flask.Blueprint), (compat.Flask, compat.Blueprint)):
        app = cli_app(make_app, blueprint)
        result = app.test_cli_runner().invoke(args=args)
        results.append((result.exit_code, result.output))
    assert results[0] == results[1]


def test_shell_context_as_in_flask() -> None:
    flask_app, ketch_app = cli_app(flask.Flask, flask.Blueprint), cli_app(compat.Flask, compat.Blueprint)
    with flask_app.app_context(), ketch_app.app_context():
        expected = sorted(flask_app.make_shell_context())
        assert sorted(ketch_app.make_shell_context()) == expected == ["answer", "app", "g"]
