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
    assert invoke("run", "runmod", "--debug").exit_code == 0
    assert uvicorn_calls[0][0].debug is True


def test_run_debug_from_the_environment(tmp_path: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    write(tmp_path / "runmod.py", APP_SOURCE)
    assert invoke("run", "runmod", KETCH_DEBUG="1").exit_code == 0
    assert uvicorn_calls[0][0].debug is True


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
