"""The ``ketch`` command line: finding the app, ``ketch routes``, and how ``ketch run`` drives uvicorn."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner, Result

from ketch import Ketch, cli
from ketch.cli import LocatedApp, NoAppError, load_app, locate_app, main, prepare_import

APP_SOURCE = """
from ketch import Ketch

app = Ketch()

@app.get("/from-app")
async def index():
    return {"ok": True}
"""

FACTORY_SOURCE = """
from ketch import Ketch

def create_app(name="default"):
    app = Ketch()

    @app.get("/" + name)
    async def index():
        return {"name": name}

    return app
"""


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in ``tmp_path`` with ``sys.path``, app env vars and the modules imported from ``tmp_path`` restored."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("KETCH_APP", "KETCH_DEBUG"):
        monkeypatch.setenv(name, "")  # recorded, so teardown restores whatever was there (or removes it)
        monkeypatch.delenv(name)
    yield tmp_path
    root = str(tmp_path)
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(root):
            del sys.modules[name]


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def invoke(*args: str, **env: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env or None)


def paths(app: Ketch) -> list[str]:
    return [route.path for route in app.routes]


def assert_one_line_error(result: Result, text: str, code: int = 2) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert text in lines[0]
    assert "Traceback" not in result.output


# -- the group ---------------------------------------------------------------------------------------------------


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == "ketch 0.1.0\n"


def test_help_lists_the_commands() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "run " in result.stdout and "routes " in result.stdout


def test_python_dash_m_ketch_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "ketch", "--help"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: python -m ketch")
    assert "routes" in proc.stdout and "run" in proc.stdout


def test_importing_the_cli_does_not_import_the_server() -> None:
    code = "import sys, ketch.cli; print(sorted(m for m in ('uvicorn', 'watchfiles') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.stdout.strip() == "[]", proc.stderr


# -- finding the app ---------------------------------------------------------------------------------------------


def test_module_colon_attr(tmp_path: Path) -> None:
    write(tmp_path / "attrmod.py", APP_SOURCE.replace("app = Ketch()", "app = Ketch()\nother = app"))
    located = locate_app("attrmod:other")
    assert located == LocatedApp(located.app, "attrmod", "other")
    assert paths(located.app) == ["/from-app"]


def test_module_colon_factory_call(tmp_path: Path) -> None:
    write(tmp_path / "factmod.py", FACTORY_SOURCE)
    located = locate_app("factmod:create_app()")
    assert (located.attr, located.factory, located.args) == ("create_app", True, False)
    assert paths(located.app) == ["/default"]


def test_module_colon_factory_name_is_called(tmp_path: Path) -> None:
    write(tmp_path / "factmod.py", FACTORY_SOURCE)
    located = locate_app("factmod:create_app")
    assert located.factory and paths(located.app) == ["/default"]


def test_factory_with_literal_arguments(tmp_path: Path) -> None:
    write(tmp_path / "factmod.py", FACTORY_SOURCE)
    located = locate_app("factmod:create_app('given')")
    assert located.args and paths(located.app) == ["/given"]
    assert paths(load_app('factmod:create_app(name="kw")')) == ["/kw"]


@pytest.mark.parametrize("attr", ["app", "application"])
def test_module_alone_finds_app_or_application(tmp_path: Path, attr: str) -> None:
    write(tmp_path / "onlymod.py", APP_SOURCE.replace("app", attr).replace(f"/from-{attr}", "/from-app"))
    located = locate_app("onlymod")
    assert located.attr == attr and not located.factory
    assert paths(located.app) == ["/from-app"]


def test_module_alone_prefers_app_over_other_instances(tmp_path: Path) -> None:
    write(tmp_path / "twomod.py", APP_SOURCE + "\nadmin = Ketch()\n")
    assert locate_app("twomod").attr == "app"


def test_module_alone_finds_the_single_instance(tmp_path: Path) -> None:
    write(tmp_path / "singlemod.py", APP_SOURCE.replace("app", "api").replace("/from-api", "/from-app"))
    located = locate_app("singlemod")
    assert located.attr == "api" and paths(located.app) == ["/from-app"]


@pytest.mark.parametrize("factory", ["create_app", "make_app"])
def test_module_alone_calls_a_factory(tmp_path: Path, factory: str) -> None:
    write(tmp_path / "facmod.py", FACTORY_SOURCE.replace("create_app", factory))
    located = locate_app("facmod")
    assert (located.attr, located.factory) == (factory, True)
    assert paths(located.app) == ["/default"]


def test_dotted_module_in_a_package(tmp_path: Path) -> None:
    write(tmp_path / "pkgdot" / "__init__.py", "")
    write(tmp_path / "pkgdot" / "web.py", APP_SOURCE)
    assert locate_app("pkgdot.web:app").module == "pkgdot.web"


def test_path_to_a_py_file(tmp_path: Path) -> None:
    write(tmp_path / "sub" / "folder" / "fileapp.py", APP_SOURCE)
    located = locate_app("sub/folder/fileapp.py")
    assert located.import_string == "fileapp:app"
    assert str(tmp_path / "sub" / "folder") in sys.path
    assert paths(located.app) == ["/from-app"]


def test_path_to_a_file_inside_packages_gives_the_dotted_name(tmp_path: Path) -> None:
    write(tmp_path / "outer" / "pkgpath" / "__init__.py", "")
    write(tmp_path / "outer" / "pkgpath" / "inner" / "__init__.py", "")
    write(tmp_path / "outer" / "pkgpath" / "inner" / "site.py", APP_SOURCE)
    assert prepare_import("outer/pkgpath/inner/site.py") == "pkgpath.inner.site"
    assert sys.path[0] == str(tmp_path / "outer")
    assert locate_app("outer/pkgpath/inner/site.py:app").import_string == "pkgpath.inner.site:app"


def test_path_to_a_package_folder(tmp_path: Path) -> None:
    write(tmp_path / "apps" / "pkgdir" / "__init__.py", APP_SOURCE)
    located = locate_app("apps/pkgdir")
    assert located.import_string == "pkgdir:app"
    assert paths(located.app) == ["/from-app"]


def test_ketch_app_environment_variable(tmp_path: Path) -> None:
    write(tmp_path / "envmod.py", FACTORY_SOURCE)
    result = invoke("routes", KETCH_APP="envmod:create_app('env')")
    assert result.exit_code == 0, result.output
    assert "/env" in result.stdout


def test_default_app_py(tmp_path: Path) -> None:
    write(tmp_path / "app.py", APP_SOURCE)
    write(tmp_path / "wsgi.py", "raise RuntimeError('wsgi.py must not be imported when app.py exists')")
    located = locate_app(None)
    assert located.import_string == "app:app"


@pytest.mark.parametrize("filename", ["wsgi.py", "main.py"])
def test_default_wsgi_py_then_main_py(tmp_path: Path, filename: str) -> None:
    write(tmp_path / filename, APP_SOURCE)
    assert locate_app(None).module == filename.removesuffix(".py")


def test_current_folder_goes_on_sys_path(tmp_path: Path) -> None:
    sys.path[:] = [p for p in sys.path if p not in ("", str(tmp_path))]
    write(tmp_path / "cwdmod.py", APP_SOURCE)
    assert locate_app("cwdmod").module == "cwdmod"
    assert str(tmp_path) in sys.path


# -- errors: one line, exit code 2 -------------------------------------------------------------------------------


def test_error_no_app_anywhere() -> None:
    assert_one_line_error(invoke("routes"), "Could not find a Ketch app")


def test_error_module_not_found() -> None:
    assert_one_line_error(invoke("routes", "no_such_module_here:app"), "Could not import 'no_such_module_here'")


def test_error_path_not_found() -> None:
    assert_one_line_error(invoke("run", "missing/app.py"), "Could not find 'missing/app.py'")


def test_error_attribute_missing(tmp_path: Path) -> None:
    write(tmp_path / "attrerr.py", APP_SOURCE)
    assert_one_line_error(invoke("routes", "attrerr:nope"), "Module 'attrerr' has no attribute 'nope'")


def test_error_raised_while_importing(tmp_path: Path) -> None:
    write(tmp_path / "boommod.py", "raise RuntimeError('config missing\\nsecond line')")
    assert_one_line_error(invoke("run", "boommod:app"), "While importing 'boommod': RuntimeError: config missing")


def test_error_missing_dependency_inside_the_module(tmp_path: Path) -> None:
    write(tmp_path / "depmod.py", "import not_installed_dependency_xyz\n")
    result = invoke("routes", "depmod")
    assert_one_line_error(result, "While importing 'depmod': ModuleNotFoundError")
    assert "not_installed_dependency_xyz" in result.stderr


def test_error_syntax_error_in_the_module(tmp_path: Path) -> None:
    write(tmp_path / "syntaxmod.py", "def broken(:\n")
    assert_one_line_error(invoke("routes", "syntaxmod"), "While importing 'syntaxmod': SyntaxError")


def test_error_not_a_ketch_app(tmp_path: Path) -> None:
    write(tmp_path / "notapp.py", "app = 42\n")
    assert_one_line_error(invoke("routes", "notapp:app"), "notapp:app is not a Ketch app (got int)")
    assert_one_line_error(invoke("routes", "notapp"), "Found no Ketch app or factory in 'notapp'")


def test_error_several_apps(tmp_path: Path) -> None:
    write(tmp_path / "severalmod.py", "from ketch import Ketch\none = Ketch()\ntwo = Ketch()\n")
    assert_one_line_error(invoke("routes", "severalmod"), "Found several Ketch apps in 'severalmod'")


def test_error_factory_needs_arguments(tmp_path: Path) -> None:
    write(tmp_path / "argfact.py", "def create_app(config):\n    raise AssertionError('not called')\n")
    assert_one_line_error(invoke("routes", "argfact"), "cannot be called without arguments")
    assert_one_line_error(invoke("routes", "argfact:create_app(1, 2)"), "cannot be called with the given arguments")


def test_error_factory_raises(tmp_path: Path) -> None:
    write(tmp_path / "raisefact.py", "def create_app():\n    raise TypeError('bad setting')\n")
    assert_one_line_error(invoke("routes", "raisefact"), "The factory 'create_app' in 'raisefact' raised TypeError")


@pytest.mark.parametrize("ref", ["mod:a.b", "mod:f(x)", "mod:1+", ":app"])
def test_error_unparsable_reference(tmp_path: Path, ref: str) -> None:
    write(tmp_path / "mod.py", APP_SOURCE)
    result = invoke("routes", ref)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback_of_a_load_error(tmp_path: Path) -> None:
    write(tmp_path / "boommod.py", "raise RuntimeError('config missing')")
    result = invoke("run", "boommod:app", "--debug")
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "Error: While importing 'boommod': RuntimeError: config missing"


def test_no_app_error_is_a_click_exception() -> None:
    with pytest.raises(NoAppError) as info:
        locate_app("no_such_module_here")
    assert info.value.exit_code == 2


# -- ketch routes ------------------------------------------------------------------------------------------------

ROUTES_SOURCE = """
from ketch import Ketch, Router

async def raw_asgi(scope, receive, send):
    pass

app = Ketch()
admin = Ketch()
api = Router(prefix="/api")

@app.get("/")
async def index():
    return {}

@app.api_route("/items", methods=["POST", "PUT"], name="save_item")
async def save(request):
    return {}

@app.websocket("/ws")
async def feed(websocket):
    pass

@api.delete("/items/{id:int}")
async def remove_item(id: int):
    return {}

@admin.get("/users")
async def users():
    return []

class Views:
    @staticmethod
    async def about():
        return {}

app.add_route("/about", Views.about)
app.include_router(api)
app.mount("/admin", admin, name="admin")
app.mount("/raw", raw_asgi)
"""


def table_rows(output: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("  ") if cell.strip()] for line in output.strip().splitlines()]


def test_routes_table(tmp_path: Path) -> None:
    write(tmp_path / "routesmod.py", ROUTES_SOURCE)
    result = invoke("routes", "routesmod")
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert rows[0] == ["Methods", "Path", "Name", "Endpoint"]
    assert set(rows[1][0]) == {"-"}
    assert rows[2:] == [
        ["GET, HEAD", "/", "index", "routesmod.index"],
        ["GET, HEAD", "/about", "about", "routesmod.Views.about"],
        ["MOUNT", "/admin", "admin", "ketch.Ketch"],
        ["GET, HEAD", "/admin/users", "users", "routesmod.users"],
        ["DELETE", "/api/items/{id:int}", "remove_item", "routesmod.remove_item"],
        ["POST, PUT", "/items", "save_item", "routesmod.save"],
        ["MOUNT", "/raw", "routesmod.raw_asgi"],
        ["WS", "/ws", "feed", "routesmod.feed"],
    ]


def test_routes_columns_line_up(tmp_path: Path) -> None:
    write(tmp_path / "routesmod.py", ROUTES_SOURCE)
    lines = invoke("routes", "routesmod").stdout.splitlines()
    starts = {line.index("/") for line in lines[2:]}
    assert starts == {lines[0].index("Path")}


@pytest.mark.parametrize(
    ("sort", "column", "expected"),
    [
        ("name", 2, ["", "about", "admin", "feed", "index", "remove_item", "save_item", "users"]),
        ("methods", 0, ["DELETE", "GET, HEAD", "GET, HEAD", "GET, HEAD", "MOUNT", "MOUNT", "POST, PUT", "WS"]),
    ],
)
def test_routes_sort(tmp_path: Path, sort: str, column: int, expected: list[str]) -> None:
    write(tmp_path / "routesmod.py", ROUTES_SOURCE)
    result = invoke("routes", "routesmod", "--sort", sort)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()[2:]
    start = result.stdout.splitlines()[0].index(["Methods", "Path", "Name", "Endpoint"][column])
    assert [line[start:].split("  ")[0].strip() if len(line) > start else "" for line in lines] == expected


def test_routes_sort_by_endpoint(tmp_path: Path) -> None:
    write(tmp_path / "routesmod.py", ROUTES_SOURCE)
    result = invoke("routes", "routesmod", "-s", "endpoint")
    endpoints = [row[-1] for row in table_rows(result.stdout)[2:]]
    assert endpoints == sorted(endpoints)


def test_routes_rejects_an_unknown_sort(tmp_path: Path) -> None:
    write(tmp_path / "routesmod.py", ROUTES_SOURCE)
    assert invoke("routes", "routesmod", "--sort", "size").exit_code == 2


def test_routes_of_an_empty_app(tmp_path: Path) -> None:
    write(tmp_path / "emptymod.py", "from ketch import Ketch\napp = Ketch()\n")
    result = invoke("routes", "emptymod")
    assert result.exit_code == 0
    assert result.stdout == "No routes were registered.\n"


# -- the app's own commands (a flaskr-like package) ---------------------------------------------------------

BLOG_INIT = """
import os

import click
from ketch import Ketch, g


def create_app(test_config=None):
    app = Ketch(__name__, instance_relative_config=True)
    app.config.from_mapping(SECRET_KEY="dev", DATABASE=os.path.join(app.instance_path, "blog.txt"))
    if test_config:
        app.config.update(test_config)

    @app.route("/hello")
    def hello():
        return "Hello, World!"

    from . import db, admin

    db.init_app(app)
    app.register_blueprint(admin.bp)

    @app.shell_context_processor
    def shell_names():
        return {"db_path": app.config["DATABASE"], "answer": 42}

    @app.cli.command("where", with_appcontext=False)
    def where():
        from ketch import has_app_context

        click.echo(f"context={has_app_context()}")

    return app
"""

BLOG_DB = """
import os

import click
from ketch import current_app, g


def get_db():
    if "db" not in g:
        g.db = open(current_app.config["DATABASE"], "a", encoding="utf-8")
    return g.db


def close_db(error=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


@click.command("init-db")
@click.option("--title", default="blog")
def init_db_command(title):
    \"\"\"Clear the data and create new tables.\"\"\"
    os.makedirs(current_app.instance_path, exist_ok=True)
    get_db().write(f"initialised {title}\\n")
    click.echo(f"Initialized the database for {current_app.name}.")


def init_app(app):
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
"""

BLOG_ADMIN = """
import click
from ketch import Blueprint, current_app

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
def index():
    return "admin"


@bp.cli.command("create-user")
@click.argument("name")
def create_user(name):
    click.echo(f"created {name} in {current_app.name}")
"""


@pytest.fixture
def blog(tmp_path: Path) -> Path:
    write(tmp_path / "blog" / "__init__.py", BLOG_INIT)
    write(tmp_path / "blog" / "db.py", BLOG_DB)
    write(tmp_path / "blog" / "admin.py", BLOG_ADMIN)
    return tmp_path / "blog"


def test_app_command_from_the_app_option(blog: Path) -> None:
    result = invoke("--app", "blog", "init-db")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Initialized the database for blog.\n"
    assert (blog.parent / "instance" / "blog.txt").read_text() == "initialised blog\n"


def test_app_command_from_the_environment_with_options(blog: Path) -> None:
    result = invoke("init-db", "--title", "mine", KETCH_APP="blog:create_app")
    assert result.exit_code == 0, result.output
    assert (blog.parent / "instance" / "blog.txt").read_text() == "initialised mine\n"


def test_app_command_from_a_path(blog: Path) -> None:
    assert invoke("--app", "blog/__init__.py", "init-db").exit_code == 0


def test_blueprint_commands_are_grouped_under_the_blueprint(blog: Path) -> None:
    result = invoke("--app", "blog", "admin", "create-user", "ada")
    assert result.exit_code == 0, result.output
    assert result.stdout == "created ada in blog\n"


def test_app_commands_always_have_the_app_context(blog: Path) -> None:
    # As with Flask: with_appcontext=False only matters when the command object is invoked on its own.
    assert invoke("--app", "blog", "where").stdout == "context=True\n"
    import blog as blog_package

    app = blog_package.create_app()
    assert app.test_cli_runner().invoke(app.cli.commands["where"]).output == "context=False\n"


def test_help_lists_the_app_commands(blog: Path) -> None:
    result = invoke("--app", "blog", "--help")
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == sorted(listed)
    assert {"admin", "init-db", "where", "routes", "run", "shell"} <= set(listed)
    assert "Clear the data" in result.stdout


def test_an_unknown_command_says_why_when_no_app_is_found() -> None:
    result = invoke("init-db")
    assert result.exit_code == 2
    assert "Could not find a Ketch app" in result.stderr
    assert "No such command 'init-db'" in result.stderr


def test_a_broken_app_is_reported_in_the_help(tmp_path: Path) -> None:
    write(tmp_path / "brokenmod.py", "raise RuntimeError('config missing')")
    result = invoke("--app", "brokenmod", "--help")
    assert result.exit_code == 0
    assert "RuntimeError: config missing" in result.stderr
    assert "run " in result.stdout


def test_run_finds_the_factory_of_a_package(blog: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    assert invoke("run", "blog").exit_code == 0
    app = uvicorn_calls[0][0]
    assert isinstance(app, Ketch) and app.name == "blog"
    assert invoke("--app", "blog", "run", "--reload").exit_code == 0
    assert uvicorn_calls[1][0] == "blog:create_app" and uvicorn_calls[1][1]["factory"] is True


def test_routes_of_a_classic_app(blog: Path) -> None:
    result = invoke("routes", "blog")
    assert result.exit_code == 0, result.output
    rows = {row[1]: row for row in table_rows(result.stdout)[2:]}
    assert rows["/hello"][0] == "GET, HEAD, OPTIONS" and rows["/hello"][2] == "hello"
    assert rows["/admin/"][2] == "admin.index"
    assert rows["/static/<path:filename>"][2] == "static"


def test_routes_show_the_domain_of_routes_by_host(tmp_path: Path) -> None:
    source = """
    from ketch import Ketch

    app = Ketch(__name__, static_folder=None)
    app.config["SERVER_NAME"] = "example.com"

    @app.route("/")
    def home():
        return "home"

    @app.route("/", subdomain="api")
    def api_home():
        return "api"
    """
    write(tmp_path / "hostmod.py", source)
    result = invoke("routes", "hostmod", "--sort", "name")
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert rows[0] == ["Methods", "Path", "Name", "Endpoint", "Domain"]
    assert rows[2][2:] == ["api_home", "hostmod.api_home", "api"]
    assert rows[3][2:] == ["home", "hostmod.home"]


# -- ketch shell ---------------------------------------------------------------------------------------------------


def test_shell_runs_in_the_app_context(blog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHONSTARTUP", raising=False)
    lines = [
        "print(app.name, answer)",
        "g.x = 5",
        "print(g.x, db_path.endswith('blog.txt'))",
        "1 / 0",
        "print('after')",
    ]
    result = CliRunner().invoke(main, ["--app", "blog", "shell"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert "blog 42\n" in result.stdout and "5 True\n" in result.stdout and "after\n" in result.stdout
    assert "App: blog" in result.stderr and "ZeroDivisionError" in result.stderr


def test_shell_takes_the_app_as_an_argument_and_runs_pythonstartup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)
    write(tmp_path / "startup.py", "greeting = 'hi from startup'")
    monkeypatch.setenv("PYTHONSTARTUP", str(tmp_path / "startup.py"))
    lines = "print(greeting)\nprint(type(app).__name__, sorted(r.path for r in app.routes))\n"
    result = CliRunner().invoke(main, ["shell", "runmod"], input=lines)
    assert result.exit_code == 0, result.output
    assert "hi from startup\n" in result.stdout and "Ketch ['/from-app']\n" in result.stdout


def test_shell_without_an_app_is_one_error_line() -> None:
    assert_one_line_error(CliRunner().invoke(main, ["shell"], input=""), "Could not find a Ketch app")


# -- app.test_cli_runner() -----------------------------------------------------------------------------------------


def test_the_test_runner_invokes_the_app_commands(blog: Path) -> None:
    sys.path.insert(0, str(blog.parent))
    import blog as blog_package

    app = blog_package.create_app({"DATABASE": str(blog / "test.txt")})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["init-db", "--title", "t"])
    assert result.exit_code == 0, result.output
    assert (blog / "test.txt").read_text() == "initialised t\n"
    assert runner.invoke(args=["admin", "create-user", "bo"]).output == "created bo in blog\n"


def test_the_test_runner_invokes_a_command_object_in_the_app_context() -> None:
    import click

    from ketch import current_app

    app = Ketch("cmdapp")

    @app.cli.command("hello")
    @click.option("--name", default="World")
    def hello(name: str) -> None:
        click.echo(f"Hello, {name} from {current_app.name}!")

    @click.command()
    @cli.with_appcontext
    def plain() -> None:
        click.echo(current_app.name)

    runner = app.test_cli_runner()
    assert runner.invoke(args=["hello", "--name", "ketch"]).output == "Hello, ketch from cmdapp!\n"
    assert runner.invoke(hello).output == "Hello, World from cmdapp!\n"
    assert runner.invoke(plain).output == "cmdapp\n"
    made: list[bool] = []
    info = cli.ScriptInfo(create_app=lambda: made.append(True) or app)
    assert runner.invoke(hello, obj=info).output == "Hello, World from cmdapp!\n" and made == [True]


@pytest.mark.parametrize(("cli_group", "args"), [(..., ["tools", "ping"]), ("ops", ["ops", "ping"]), (None, ["ping"])])
def test_blueprint_cli_group(cli_group: Any, args: list[str]) -> None:
    import click

    from ketch import Blueprint

    app = Ketch("groups")
    bp = Blueprint("tools", __name__) if cli_group is ... else Blueprint("tools", __name__, cli_group=cli_group)

    @bp.cli.command("ping")
    def ping() -> None:
        click.echo("pong")

    app.register_blueprint(bp)
    assert app.test_cli_runner().invoke(args=args).output == "pong\n"


def test_script_info_loads_once_and_refuses_a_non_app() -> None:
    app = Ketch("once")
    calls: list[int] = []
    info = cli.ScriptInfo(create_app=lambda: calls.append(1) or app)
    info.debug = True
    assert info.load_app() is app and info.load_app() is app and calls == [1]
    assert app.debug is True
    with pytest.raises(NoAppError, match="not a Ketch app"):
        cli.ScriptInfo(create_app=lambda: object()).load_app()


# -- ketch run: how the options reach uvicorn --------------------------------------------------------------------


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    calls: list[tuple[Any, dict[str, Any]]] = []

    def fake_run(app: Any, **options: Any) -> None:
        calls.append((app, options))

    monkeypatch.setattr(uvicorn, "run", fake_run)
    return calls


def test_run_defaults(tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)
    result = invoke("run", "runmod:app")
    assert result.exit_code == 0, result.output
    [(target, options)] = uvicorn_calls
    assert isinstance(target, Ketch) and target.debug is False
    assert options["host"] == "127.0.0.1" and options["port"] == 8000
    assert options["reload"] is False and options["reload_dirs"] is None
    assert options["workers"] is None and options["factory"] is False
    assert (options["lifespan"], options["loop"], options["http"]) == ("on", "auto", "auto")
    assert options["proxy_headers"] is True and options["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert options["root_path"] == "" and options["log_level"] is None
    assert "ketch" in options["log_config"]["loggers"]


def test_run_options_are_passed_through(tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)
    args = ["--host", "127.0.0.1", "--port", "9001", "--log-level", "warning", "--root-path", "/api"]
    result = invoke("run", "runmod", *args, "--no-proxy-headers", "--forwarded-allow-ips", "10.0.0.1")
    assert result.exit_code == 0, result.output
    [(_, options)] = uvicorn_calls
    assert options["port"] == 9001 and options["log_level"] == "warning" and options["root_path"] == "/api"
    assert options["proxy_headers"] is False and options["forwarded_allow_ips"] == "10.0.0.1"
    assert options["log_config"]["loggers"]["ketch"]["level"] == "WARNING"


@pytest.mark.parametrize("port", ["-1", "70000", "http"])
def test_run_rejects_a_bad_port(tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]], port: str) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)
    assert invoke("run", "runmod", "--port", port).exit_code == 2
    assert uvicorn_calls == []


def test_run_debug_sets_app_debug(tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)
    assert invoke("run", "runmod", "--debug", "--no-reload").exit_code == 0
    [(target, options)] = uvicorn_calls
    assert target.debug is True and options["reload"] is False


def test_run_debug_from_the_environment(tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)
    assert invoke("run", "runmod", "--no-reload", KETCH_DEBUG="1").exit_code == 0
    assert uvicorn_calls[0][0].debug is True


@pytest.mark.parametrize(
    "args", [["run", "runmod", "--debug"], ["--debug", "run", "runmod"], ["--app", "runmod", "--debug", "run"]]
)
def test_run_debug_reloads(tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]], args: list[str]) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    [(target, options)] = uvicorn_calls
    # The worker rebuilds the app and turns debug on before serving it.
    assert (target, options["reload"], options["factory"]) == ("ketch.cli:_load_from_env", True, True)
    assert os.environ["KETCH_APP"] == "runmod" and os.environ["KETCH_DEBUG"] == "1"
    assert cli._load_from_env().debug is True


def test_run_debug_with_workers_does_not_reload(
    tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]
) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)
    assert invoke("run", "runmod", "--debug", "--workers", "2").exit_code == 0
    assert uvicorn_calls[0][1]["reload"] is False and uvicorn_calls[0][1]["workers"] == 2


def test_run_takes_the_app_from_the_group_option(
    tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]
) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)
    assert invoke("--app", "runmod:app", "run").exit_code == 0
    assert paths(uvicorn_calls[0][0]) == ["/from-app"]
    assert invoke("run", KETCH_APP="runmod").exit_code == 0
    assert paths(uvicorn_calls[1][0]) == ["/from-app"]


def test_run_reload_passes_an_import_string(tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)
    result = invoke("run", "runmod", "--reload")
    assert result.exit_code == 0, result.output
    [(target, options)] = uvicorn_calls
    assert target == "runmod:app"
    assert options["reload"] is True and options["factory"] is False


@pytest.mark.parametrize("ref", ["factmod:create_app", "factmod:create_app()", "factmod"])
def test_run_reload_with_a_factory(tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]], ref: str) -> None:
    write(tmp_path / "factmod.py", FACTORY_SOURCE)
    assert invoke("run", ref, "--reload").exit_code == 0
    [(target, options)] = uvicorn_calls
    assert (target, options["factory"]) == ("factmod:create_app", True)


def test_run_reload_of_a_path_uses_the_dotted_module(
    tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]
) -> None:
    write(tmp_path / "web" / "pkgreload" / "__init__.py", "")
    write(tmp_path / "web" / "pkgreload" / "site.py", APP_SOURCE)
    assert invoke("run", "web/pkgreload/site.py", "--reload").exit_code == 0
    assert uvicorn_calls[0][0] == "pkgreload.site:app"


def test_run_reload_dir_implies_reload(tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)
    (tmp_path / "src").mkdir()
    (tmp_path / "templates").mkdir()
    assert invoke("run", "runmod", "--reload-dir", "src", "--reload-dir", "templates").exit_code == 0
    [(target, options)] = uvicorn_calls
    assert target == "runmod:app"
    assert options["reload"] is True and options["reload_dirs"] == ["src", "templates"]


def test_run_workers_pass_an_import_string(tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)
    assert invoke("run", "runmod", "--workers", "3").exit_code == 0
    [(target, options)] = uvicorn_calls
    assert (target, options["workers"], options["reload"]) == ("runmod:app", 3, False)


def test_run_reload_and_workers_conflict(tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)
    result = invoke("run", "runmod", "--reload", "--workers", "2")
    assert result.exit_code == 2
    assert "--reload and --workers cannot be used together" in result.stderr
    assert uvicorn_calls == []


def test_run_reload_debug_loads_through_the_env_loader(
    tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]
) -> None:
    write(tmp_path / "factmod.py", FACTORY_SOURCE)
    result = invoke("run", "factmod:create_app('dbg')", "--reload", "--debug")
    assert result.exit_code == 0, result.output
    [(target, options)] = uvicorn_calls
    assert (target, options["factory"]) == ("ketch.cli:_load_from_env", True)
    assert os.environ["KETCH_APP"] == "factmod:create_app('dbg')" and os.environ["KETCH_DEBUG"] == "1"
    # What the worker does with it:
    app = cli._load_from_env()
    assert app.debug is True and paths(app) == ["/dbg"]


def test_run_factory_arguments_with_workers_use_the_env_loader(
    tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]
) -> None:
    write(tmp_path / "factmod.py", FACTORY_SOURCE)
    assert invoke("run", "factmod:create_app('w')", "--workers", "2").exit_code == 0
    assert uvicorn_calls[0][0] == "ketch.cli:_load_from_env"
    assert os.environ["KETCH_DEBUG"] == "0"
    app = cli._load_from_env()
    assert app.debug is False and paths(app) == ["/w"]


def test_env_loader_exits_with_the_startup_failure_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETCH_APP", "no_such_module_here:app")
    with pytest.raises(SystemExit) as info:
        cli._load_from_env()
    assert info.value.code == 3


def test_run_does_not_start_when_the_app_cannot_load(uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    assert_one_line_error(invoke("run", "no_such_module_here"), "Could not import 'no_such_module_here'")
    assert uvicorn_calls == []


def _error_record(message: str) -> logging.LogRecord:
    return logging.makeLogRecord({"name": "uvicorn.error", "levelno": logging.ERROR, "msg": message})


def test_run_turns_a_startup_failure_into_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)

    def failing_run(app: Any, **options: Any) -> None:
        # What uvicorn's logging (configured from options["log_config"]) feeds the watch, then its exit.
        assert options["log_config"]["loggers"]["uvicorn.error"]["filters"] == ["ketch_watch"]
        watch = cli._startup_watch()
        watch.filter(_error_record("RuntimeError: database is down"))
        watch.filter(_error_record("Application startup failed. Exiting."))
        sys.exit(3)

    monkeypatch.setattr(uvicorn, "run", failing_run)
    assert_one_line_error(
        invoke("run", "runmod"), "Error: application startup failed: RuntimeError: database is down", code=3
    )


def test_run_reports_a_bind_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)

    def failing_run(app: Any, **options: Any) -> None:
        cli._startup_watch().filter(_error_record("[Errno 98] address already in use"))
        sys.exit(3)

    monkeypatch.setattr(uvicorn, "run", failing_run)
    assert_one_line_error(invoke("run", "runmod"), "the server failed to start: [Errno 98] address already", code=3)


def test_run_reports_a_failed_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)

    def parent_run(app: Any, **options: Any) -> None:
        # uvicorn's supervisor returns normally after stopping: only its log says a worker failed.
        cli._startup_watch().filter(_error_record("Child process [1] failed to start, stopping the parent process."))

    monkeypatch.setattr(uvicorn, "run", parent_run)
    assert_one_line_error(invoke("run", "runmod", "--workers", "2"), "a worker failed to start", code=3)


def test_run_passes_a_clean_exit_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)

    def exiting_run(app: Any, **options: Any) -> None:
        sys.exit(0)

    monkeypatch.setattr(uvicorn, "run", exiting_run)
    assert invoke("run", "runmod").exit_code == 0


def test_log_config_is_valid_for_dictconfig() -> None:
    import logging.config

    config = cli._log_config(debug=False, log_level=None)
    configurator = logging.config.DictConfigurator(config)
    hide = configurator.configure_filter(dict(config["filters"]["ketch_startup"]))
    assert configurator.configure_filter(dict(config["filters"]["ketch_watch"])) is cli._startup_watch()
    startup = logging.makeLogRecord({"name": "ketch.error", "msg": "Application startup failed: %s"})
    other = logging.makeLogRecord({"name": "ketch.error", "msg": "Exception in ASGI application"})
    assert (hide.filter(startup), hide.filter(other)) == (False, True)
    shown = configurator.configure_filter(dict(cli._log_config(debug=True, log_level=None)["filters"]["ketch_startup"]))
    assert shown.filter(startup) is True


# -- ketch run: real servers on 127.0.0.1 -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in ("KETCH_APP", "KETCH_DEBUG")}


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.mark.timeout(30)
def test_run_serves_requests(tmp_path: Path) -> None:
    write(tmp_path / "tmpmod.py", APP_SOURCE.replace("/from-app", "/"))
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    command = [sys.executable, "-m", "ketch", "run", "tmpmod:app", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(command, cwd=tmp_path, env=server_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        response = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert response is not None, (tmp_path / "server.log").read_text()
        assert response.status_code == 200
        assert response.json() == {"ok": True}
    finally:
        stop(proc)
        log.close()
    assert proc.returncode is not None
    assert "Application startup complete" in (tmp_path / "server.log").read_text()


@pytest.mark.timeout(30)
def test_run_exits_when_startup_fails(tmp_path: Path) -> None:
    source = """
    from contextlib import asynccontextmanager
    from ketch import Ketch

    @asynccontextmanager
    async def lifespan(app):
        raise RuntimeError("database is down")
        yield

    app = Ketch(lifespan=lifespan)
    """
    write(tmp_path / "failmod.py", source)
    command = [sys.executable, "-m", "ketch", "run", "failmod:app", "--port", str(free_port())]
    proc = subprocess.Popen(command, cwd=tmp_path, env=server_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _, stderr = proc.communicate(timeout=10)
    finally:
        stop(proc)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == 3
    text = stderr.decode()
    assert text.strip().splitlines()[-1] == "Error: application startup failed: RuntimeError: database is down"
    assert "Traceback" not in text


DEBUG_SOURCE = """
from ketch import Ketch

app = Ketch(__name__)


@app.route("/version")
def version():
    return "v1"


@app.route("/crash")
def crash():
    secret_local = "<script>alert(1)</script>"
    return 1 / 0
"""


def wait_for(url: str, proc: subprocess.Popen[bytes], expected: str, seconds: float = 15) -> httpx.Response | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            response = httpx.get(url, timeout=1)
            if response.text == expected:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    return None


@pytest.mark.timeout(45)
def test_run_debug_reloads_on_change_and_shows_the_debug_page(tmp_path: Path) -> None:
    write(tmp_path / "dbgmod.py", DEBUG_SOURCE)
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    command = [sys.executable, "-m", "ketch", "run", "dbgmod", "--debug", "--port", str(port)]
    proc = subprocess.Popen(command, cwd=tmp_path, env=server_env(), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(f"{base}/version", proc, "v1") is not None, (tmp_path / "server.log").read_text()
        page = httpx.get(f"{base}/crash", headers={"Accept": "text/html"}, timeout=5)
        assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
        assert "ZeroDivisionError" in page.text
        assert "return 1 / 0" in page.text  # the source line
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text
        write(tmp_path / "dbgmod.py", DEBUG_SOURCE.replace('"v1"', '"v2"'))
        assert wait_for(f"{base}/version", proc, "v2") is not None, (tmp_path / "server.log").read_text()
    finally:
        stop(proc)
        log.close()
