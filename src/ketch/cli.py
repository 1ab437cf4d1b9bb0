"""The ``ketch`` command line: ``ketch run`` serves an app with uvicorn, ``ketch routes`` lists its routes,
``ketch shell`` opens a Python shell in its context, and ``ketch <command>`` runs a command the app defines.

This module owns click, uvicorn and watchfiles; uvicorn is imported only when a server is started, so listing
routes or ``--help`` stays light. Apps are found the way Flask finds them (:func:`locate_app`), and every command
that needs the app calls :func:`load_app` (through :class:`ScriptInfo` for the app's own commands). The app's
command group (``app.cli``, an :class:`AppGroup`) and its test runner (``app.test_cli_runner()``, an
:class:`AppCliRunner`) live here too, so click has one owner.
"""

from __future__ import annotations

import ast
import copy
import importlib
import importlib.util
import inspect
import logging
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import update_wrapper
from types import ModuleType
from typing import Any, TypeVar

import click
from click.testing import CliRunner, Result

from ketch import __version__
from ketch.app import Ketch
from ketch.ctx import has_app_context
from ketch.routing.route import BaseRoute, Mount, Route, WebSocketRoute
from ketch.routing.router import Router, walk

__all__ = [
    "AppCliRunner",
    "AppGroup",
    "KetchGroup",
    "LocatedApp",
    "NoAppError",
    "ScriptInfo",
    "ServerStartupError",
    "find_app_by_string",
    "find_best_app",
    "import_app_module",
    "load_app",
    "locate_app",
    "main",
    "pass_script_info",
    "prepare_import",
    "with_appcontext",
]

_F = TypeVar("_F", bound=Callable[..., Any])

#: Files tried, in order, when no app is named and ``KETCH_APP`` is unset.
DEFAULT_FILES = ("app.py", "wsgi.py", "main.py")
#: Names tried, in order, when only a module is named.
APP_NAMES = ("app", "application")
FACTORY_NAMES = ("create_app", "make_app")
#: uvicorn's exit code when the app or the socket fails before serving.
STARTUP_FAILURE = 3


class NoAppError(click.ClickException):
    """The app could not be found or loaded; shown as one ``Error:`` line, exit code 2 (a usage error)."""

    exit_code = 2


class ServerStartupError(click.ClickException):
    """The server stopped before serving (the app's start-up failed, or the port was taken); exit code 3."""

    exit_code = STARTUP_FAILURE


@dataclass(frozen=True)
class LocatedApp:
    """A loaded app and where it came from, enough to load it again in a uvicorn worker.

    Attributes:
        app: the application.
        module: the dotted module name it was found in.
        attr: the attribute holding the app, or the factory that built it.
        factory: ``attr`` is a factory that was called.
        args: the factory was called with arguments, so ``module:attr`` alone cannot rebuild the app.
    """

    app: Ketch
    module: str
    attr: str
    factory: bool = False
    args: bool = False

    @property
    def import_string(self) -> str:
        return f"{self.module}:{self.attr}"


# -- finding the app ---------------------------------------------------------------------------------------------


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _called_with_wrong_args(func: Callable[..., Any], exc: BaseException) -> bool:
    """Whether a ``TypeError`` came from the call itself (wrong arguments) rather than from inside ``func``."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is getattr(func, "__code__", None):
            return False
        tb = tb.tb_next
    return True


def _call_factory(module: str, name: str, factory: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    try:
        return factory(*args, **kwargs)
    except TypeError as exc:
        if _called_with_wrong_args(factory, exc):
            how = "with the given arguments" if args or kwargs else f"without arguments; use '{module}:{name}(args)'"
            raise NoAppError(f"The factory {name!r} in {module!r} cannot be called {how}.") from exc
        raise NoAppError(f"The factory {name!r} in {module!r} raised {_one_line(exc)}") from exc
    except Exception as exc:
        raise NoAppError(f"The factory {name!r} in {module!r} raised {_one_line(exc)}") from exc


def find_best_app(module: ModuleType) -> LocatedApp:
    """Find the app in ``module``: ``app``/``application``, else its only :class:`Ketch`, else a factory.

    The factory (``create_app`` or ``make_app``) is called with no arguments. The order is Flask's.

    Raises:
        NoAppError: nothing found, several apps found, or the factory failed.
    """
    name = module.__name__
    for attr in APP_NAMES:
        if isinstance(getattr(module, attr, None), Ketch):
            return LocatedApp(getattr(module, attr), name, attr)
    matches = [(attr, value) for attr, value in vars(module).items() if isinstance(value, Ketch)]
    if len(matches) == 1:
        return LocatedApp(matches[0][1], name, matches[0][0])
    if len(matches) > 1:
        raise NoAppError(f"Found several Ketch apps in {name!r}; use '{name}:name' to pick one.")
    for attr in FACTORY_NAMES:
        factory = getattr(module, attr, None)
        if inspect.isfunction(factory):
            app = _call_factory(name, attr, factory, [], {})
            if isinstance(app, Ketch):
                return LocatedApp(app, name, attr, factory=True)
    raise NoAppError(f"Found no Ketch app or factory in {name!r}; use '{name}:name' to name one.")


def _parse_app_expr(expr: str) -> tuple[str, list[Any], dict[str, Any], bool]:
    """Parse ``name`` or ``name(literal args)`` into the name, the arguments, and whether it is a call."""
    try:
        node = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError:
        raise NoAppError(f"Cannot parse {expr!r} as an attribute name or a function call.") from None
    if isinstance(node, ast.Name):
        return node.id, [], {}, False
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise NoAppError(f"Cannot parse {expr!r} as an attribute name or a function call.")
    try:
        args = [ast.literal_eval(arg) for arg in node.args]
        kwargs = {str(kw.arg): ast.literal_eval(kw.value) for kw in node.keywords}
    except ValueError:
        raise NoAppError(f"The arguments in {expr!r} must be literal values.") from None
    return node.func.id, args, kwargs, True


def find_app_by_string(module: ModuleType, expr: str) -> LocatedApp:
    """Get the app named by ``expr`` in ``module``: an attribute, or a factory (called, with literal arguments).

    Raises:
        NoAppError: no such attribute, the factory failed, or the result is not a :class:`Ketch`.
    """
    name, args, kwargs, called = _parse_app_expr(expr)
    mod = module.__name__
    try:
        value = getattr(module, name)
    except AttributeError:
        raise NoAppError(f"Module {mod!r} has no attribute {name!r}.") from None
    factory = called or inspect.isfunction(value)
    if factory:
        if not callable(value):
            raise NoAppError(f"{mod}:{name} is not callable.")
        value = _call_factory(mod, name, value, args, kwargs)
    if not isinstance(value, Ketch):
        raise NoAppError(f"{mod}:{expr.strip()} is not a Ketch app (got {type(value).__name__}).")
    return LocatedApp(value, mod, name, factory=factory, args=bool(args or kwargs))


def prepare_import(path: str) -> str:
    """Put the folder above the package holding ``path`` on ``sys.path`` and return the dotted module name.

    ``examples/showcase/app.py`` (both folders packages) gives ``examples.showcase.app``, with the folder above
    ``examples`` on ``sys.path``. A package folder or its ``__init__.py`` names the package.
    """
    path = os.path.realpath(path)
    stem, ext = os.path.splitext(path)
    if ext == ".py":
        path = stem
    if os.path.basename(path) == "__init__":
        path = os.path.dirname(path)
    parts: list[str] = []
    while True:
        path, part = os.path.split(path)
        parts.append(part)
        if not os.path.exists(os.path.join(path, "__init__.py")):
            break
    if sys.path[0] != path:
        sys.path.insert(0, path)
    return ".".join(reversed(parts))


def import_app_module(name: str) -> ModuleType:
    """Import ``name``; a missing module or an error raised while importing it becomes a :class:`NoAppError`."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            raise NoAppError(f"Could not import {name!r}: no such module.") from exc
        raise NoAppError(f"While importing {name!r}: {_one_line(exc)}") from exc
    except Exception as exc:
        raise NoAppError(f"While importing {name!r}: {_one_line(exc)}") from exc


def _is_path(ref: str) -> bool:
    return ref.endswith(".py") or "/" in ref or os.sep in ref


def _locate_ref(ref: str) -> LocatedApp:
    # A colon followed by a slash is a Windows drive (C:\app.py), not the app separator.
    parts = re.split(r":(?![\\/])", ref, maxsplit=1)
    module_ref, expr = parts[0], parts[1] if len(parts) == 2 else None
    if not module_ref:
        raise NoAppError(f"No module given in {ref!r}; use 'module:name'.")
    if _is_path(module_ref):
        if not os.path.exists(module_ref):
            raise NoAppError(f"Could not find {module_ref!r}: no such file or folder.")
        module_ref = prepare_import(module_ref)
    module = import_app_module(module_ref)
    return find_best_app(module) if expr is None else find_app_by_string(module, expr)


def locate_app(app_ref: str | None) -> LocatedApp:
    """Find and load the app ``app_ref`` names, with the current folder first on ``sys.path``.

    ``app_ref`` is ``module:name``, ``module:factory(args)``, ``module`` alone (see :func:`find_best_app`) or a
    path (``examples/showcase/app.py``, ``path/to/pkg``), optionally followed by ``:name``. When it is ``None``,
    ``app.py``, ``wsgi.py`` and ``main.py`` in the current folder are tried, in that order.

    Raises:
        NoAppError: with a one-line cause; the original error is its ``__cause__``.
    """
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    if app_ref:
        return _locate_ref(app_ref.strip())
    for filename in DEFAULT_FILES:
        if os.path.isfile(filename):
            return _locate_ref(filename)
    raise NoAppError(
        "Could not find a Ketch app: name one ('ketch run module:app'), set KETCH_APP, or add an app.py, "
        "wsgi.py or main.py to the current folder."
    )


def load_app(app_ref: str | None) -> Ketch:
    """The app ``app_ref`` names (see :func:`locate_app`); what every command that needs the app calls."""
    return locate_app(app_ref).app


def _locate_or_exit(app_ref: str | None, debug: bool) -> LocatedApp:
    try:
        return locate_app(app_ref)
    except NoAppError as exc:
        if debug and exc.__cause__ is not None:
            traceback.print_exception(exc.__cause__)
        raise


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _load_from_env() -> Ketch:
    """uvicorn factory for ``--reload``/``--workers``: load ``KETCH_APP`` in the worker, honouring ``KETCH_DEBUG``."""
    try:
        app = load_app(os.environ.get("KETCH_APP"))
    except NoAppError as exc:
        logging.getLogger("uvicorn.error").error("Error loading the app: %s", exc.message)
        sys.exit(STARTUP_FAILURE)
    if _env_flag("KETCH_DEBUG"):
        app.debug = True
    return app


# -- the app's commands ---------------------------------------------------------------------------------------


class ScriptInfo:
    """What a command needs to find the app: ``--app``/``KETCH_APP`` (or a factory); the app is loaded once.

    Args:
        app_import_path: the app reference (see :func:`locate_app`); None searches the current folder.
        create_app: a callable returning the app, used instead of ``app_import_path`` (the test runner's way).
        set_debug_flag: let ``--debug`` turn on the loaded app's debug mode.
    """

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: Callable[[], Any] | None = None,
        set_debug_flag: bool = True,
    ) -> None:
        self.app_import_path = app_import_path
        self.create_app = create_app
        self.set_debug_flag = set_debug_flag
        self.debug = False
        #: Anything a command wants to keep between callbacks.
        self.data: dict[Any, Any] = {}
        self._loaded_app: Ketch | None = None

    def load_app(self) -> Ketch:
        """The app (loaded on the first call); :class:`NoAppError` if it cannot be found."""
        if self._loaded_app is not None:
            return self._loaded_app
        if self.create_app is not None:
            app = self.create_app()
            if not isinstance(app, Ketch):
                raise NoAppError(f"create_app returned {type(app).__name__}, not a Ketch app.")
        else:
            app = load_app(self.app_import_path)
        if self.set_debug_flag and self.debug:
            app.debug = True
        self._loaded_app = app
        return app


pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def with_appcontext(func: _F) -> _F:
    """Run a command inside the app's context (the app ``--app`` names, or the test runner's).

    ``@app.cli.command()`` wraps commands with it already; use it for commands added with ``add_command``.
    """

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        if not has_app_context():
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        return ctx.invoke(func, *args, **kwargs)

    return update_wrapper(decorator, func)  # type: ignore[return-value]


class AppGroup(click.Group):
    """``app.cli``: a click group whose commands run inside the app's context (Flask's ``AppGroup``).

    ``@app.cli.command()`` wraps the command in :func:`with_appcontext` (unless ``with_appcontext=False``);
    commands added with ``app.cli.add_command(cmd)`` get the context when the group looks them up.
    """

    def command(self, *args: Any, **kwargs: Any) -> Any:
        wrap = kwargs.pop("with_appcontext", True)

        def decorator(func: Callable[..., Any]) -> click.Command:
            command: click.Command = super(AppGroup, self).command(*args, **kwargs)(
                with_appcontext(func) if wrap else func
            )
            return command

        return decorator

    def group(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", AppGroup)
        return super().group(*args, **kwargs)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None and not has_app_context():
            info = ctx.find_object(ScriptInfo)
            if info is not None:
                ctx.with_resource(info.load_app().app_context())
        return command


class KetchGroup(click.Group):
    """The ``ketch`` group: its own commands, then the app's (``ketch --app flaskr init-db``)."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        info = ctx.ensure_object(ScriptInfo)
        try:
            app = info.load_app()
        except NoAppError as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            return None
        if not has_app_context():
            # The app's commands (and their option callbacks) run in its context, as in Flask.
            ctx.with_resource(app.app_context())
        found: click.Command | None = app.cli.get_command(ctx, cmd_name)
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        info = ctx.ensure_object(ScriptInfo)
        try:
            names.update(info.load_app().cli.list_commands(ctx))
        except NoAppError as exc:
            if info.app_import_path:  # an app was named: say why its commands are missing from the list
                click.echo(f"Error: {exc.format_message()}\n", err=True)
        return sorted(names)


class AppCliRunner(CliRunner):
    """``app.test_cli_runner()``: ``runner.invoke(args=["init-db"])`` runs ``app.cli``'s command in the app's
    context and returns click's :class:`~click.testing.Result` (``.output``, ``.exit_code``, ``.exception``)."""

    def __init__(self, app: Ketch, **kwargs: Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(self, cli: Any = None, args: Any = None, **kwargs: Any) -> Result:  # type: ignore[override]
        """Invoke ``cli`` (default: ``app.cli``) with ``args``; ``obj`` defaults to a :class:`ScriptInfo` that
        loads this app."""
        if cli is None:
            cli = self.app.cli
        kwargs.setdefault("obj", ScriptInfo(create_app=lambda: self.app))
        return super().invoke(cli, args, **kwargs)


# -- watching the server's log -------------------------------------------------------------------------------------


class _StartupWatch(logging.Filter):
    """Remembers the errors uvicorn logs, so ``ketch run`` can end with the one line that says why it stopped."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []
        self.startup_failed = False
        self.worker_failed = False

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            message = record.getMessage()
            if message.startswith("Application startup failed"):
                self.startup_failed = True
            elif "failed to start, stopping the parent process" in message:
                self.worker_failed = True
            else:
                self.errors.append(message.strip().splitlines()[0] if message.strip() else message)
        return True

    def reset(self) -> None:
        self.errors.clear()
        self.startup_failed = self.worker_failed = False


_watch = _StartupWatch()


def _startup_watch() -> _StartupWatch:
    """The one watch of this process (a ``logging.config`` factory, so uvicorn's dictConfig installs it)."""
    return _watch


class _HideStartupFailure(logging.Filter):
    """Drop ketch's own "Application startup failed" record (uvicorn logs the cause) unless ``--debug``."""

    def __init__(self, show: bool = False) -> None:
        super().__init__()
        self.show = show

    def filter(self, record: logging.LogRecord) -> bool:
        return self.show or not str(record.msg).startswith("Application startup failed")


def _log_config(debug: bool, log_level: str | None) -> dict[str, Any]:
    """uvicorn's logging config, plus ketch's logger on the same handler and the startup watch."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})
    config["filters"]["ketch_watch"] = {"()": "ketch.cli._startup_watch"}
    config["filters"]["ketch_startup"] = {"()": "ketch.cli._HideStartupFailure", "show": debug}
    config["handlers"]["ketch"] = {**config["handlers"]["default"], "filters": ["ketch_startup"]}
    config["loggers"]["uvicorn.error"]["filters"] = ["ketch_watch"]
    level = (log_level or ("debug" if debug else "info")).upper()
    config["loggers"]["ketch"] = {"handlers": ["ketch"], "level": level, "propagate": False}
    return config


# -- commands ------------------------------------------------------------------------------------------------------

_app_argument = click.argument("app_ref", metavar="[APP]", required=False)


def _set_app(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value:
        ctx.ensure_object(ScriptInfo).app_import_path = value
    return value


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(ScriptInfo).debug = True
    return value


def _script_info(ctx: click.Context, app_ref: str | None) -> ScriptInfo:
    """The group's :class:`ScriptInfo`, pointed at ``app_ref`` when a command was given one."""
    info = ctx.ensure_object(ScriptInfo)
    if app_ref:
        info.app_import_path = app_ref
    return info


@click.group(cls=KetchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--app",
    "-A",
    metavar="APP",
    envvar="KETCH_APP",
    is_eager=True,  # before --help, so the help lists the app's commands
    expose_value=False,
    callback=_set_app,
    help="The app to load (KETCH_APP): for 'ketch shell' and the app's own commands, and when run/routes get none.",
)
@click.option(
    "--debug/--no-debug",
    envvar="KETCH_DEBUG",
    expose_value=False,
    callback=_set_debug,
    help="Turn on the app's debug mode (KETCH_DEBUG); with 'run', also reload on changes.",
)
@click.version_option(__version__, "--version", "-V", prog_name="ketch", message="%(prog)s %(version)s")
def main() -> None:
    """ketch: serve and inspect ketch applications, and run the commands they define.

    APP is 'module:name', 'module:factory(args)', a module (its 'app', 'application', only Ketch app, or
    'create_app'/'make_app' factory), or a path such as 'path/app.py'. Without APP, the KETCH_APP environment
    variable is read, then app.py, wsgi.py and main.py in the current folder are tried. Commands the app adds
    with @app.cli.command() run as 'ketch --app APP <command>'.
    """


def _server_target(located: LocatedApp, app_ref: str | None, debug: bool) -> tuple[str, bool]:
    """What uvicorn imports in each worker (``--reload``/``--workers``), and whether it is a factory."""
    if debug or located.args:
        # The worker must rebuild exactly this app and set debug on it: it does so through the loader below.
        if app_ref:
            os.environ["KETCH_APP"] = app_ref
        os.environ["KETCH_DEBUG"] = "1" if debug else "0"
        return "ketch.cli:_load_from_env", True
    return located.import_string, located.factory


def _run_server(target: Any, **options: Any) -> None:
    import uvicorn

    _watch.reset()
    try:
        uvicorn.run(target, **options)
    except SystemExit as exc:
        if exc.code in (0, None):
            raise
        cause = _watch.errors[-1] if _watch.errors else f"exit code {exc.code}"
        what = "application startup failed" if _watch.startup_failed else "the server failed to start"
        raise ServerStartupError(f"{what}: {cause}") from None
    if _watch.worker_failed:
        raise ServerStartupError("a worker failed to start: see the log above")


@main.command()
@_app_argument
@click.option("--host", default="127.0.0.1", show_default=True, help="The interface to bind to.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="The port to bind to.")
@click.option(
    "--reload/--no-reload",
    default=None,
    help="Restart the server when a source file changes (development only).  [default: on with --debug]",
)
@click.option(
    "--reload-dir",
    "reload_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False),
    help="A folder to watch for --reload (repeatable; implies --reload). Default: the current folder.",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="How many worker processes to run.")
@click.option(
    "--debug",
    is_flag=True,
    envvar="KETCH_DEBUG",
    help="Debug mode: reload on changes, and a traceback page (source and locals) for loopback clients.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug", "trace"], case_sensitive=False),
    default=None,
    help="The server's log level.  [default: info]",
)
@click.option("--root-path", default="", help="The path prefix the app is served under behind a proxy.")
@click.option(
    "--proxy-headers/--no-proxy-headers",
    default=True,
    show_default=True,
    help="Trust X-Forwarded-For/-Proto from the peers in --forwarded-allow-ips.",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1,::1",
    envvar="FORWARDED_ALLOW_IPS",
    show_default=True,
    help="Comma-separated IPs or networks whose proxy headers are trusted ('*' trusts everyone).",
)
@click.pass_context
def run(
    ctx: click.Context,
    app_ref: str | None,
    host: str,
    port: int,
    reload: bool | None,
    reload_dirs: tuple[str, ...],
    workers: int | None,
    debug: bool,
    log_level: str | None,
    root_path: str,
    proxy_headers: bool,
    forwarded_allow_ips: str,
) -> None:
    """Serve APP with uvicorn (with --debug: reloading, and the debug page for loopback clients)."""
    info = _script_info(ctx, app_ref)
    app_ref, debug = info.app_import_path, debug or info.debug
    if reload is None:
        reload = debug and (workers or 1) == 1
    reload = reload or bool(reload_dirs)
    if reload and workers is not None and workers > 1:
        raise click.UsageError("--reload and --workers cannot be used together.")
    located = _locate_or_exit(app_ref, debug)
    if debug:
        located.app.debug = True
    target: Any = located.app
    factory = False
    if reload or (workers or 1) > 1:
        if reload and importlib.util.find_spec("watchfiles") is None:
            raise click.ClickException("--reload needs watchfiles: pip install watchfiles")
        target, factory = _server_target(located, app_ref, debug)
    _run_server(
        target,
        host=host,
        port=port,
        reload=reload,
        reload_dirs=list(reload_dirs) or None,
        workers=workers,
        factory=factory,
        log_level=log_level,
        log_config=_log_config(debug, log_level),
        root_path=root_path,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        lifespan="on",
        loop="auto",
        http="auto",
    )


# -- ketch routes --------------------------------------------------------------------------------------------------


def _endpoint_name(obj: Any) -> str:
    func = getattr(obj, "func", obj)  # functools.partial
    qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
    module = getattr(func, "__module__", None) or type(func).__module__
    return f"{module}.{qualname}"


def _route_rows(router: Router, prefix: str = "") -> Iterator[tuple[str, str, str, str]]:
    """``(methods, path, name, endpoint)`` for every route, descending into mounted routers."""
    for walked in walk(router, prefix):
        route: BaseRoute = walked.route
        if isinstance(route, Route):
            yield ", ".join(sorted(route.methods)), walked.path, route.name or "", _endpoint_name(route.endpoint)
        elif isinstance(route, WebSocketRoute):
            yield "WS", walked.path, route.name or "", _endpoint_name(route.endpoint)
        elif isinstance(route, Mount):
            yield "MOUNT", walked.path or "/", route.name or "", _endpoint_name(route.app)
            if isinstance(route.app, Router):
                yield from _route_rows(route.app, walked.path)


def _format_table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    """Left-aligned columns under a header and a dashed rule."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [headers, tuple("-" * width for width in widths), *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


_SORT_COLUMNS = {"methods": 0, "path": 1, "name": 2, "endpoint": 3}


@main.command()
@_app_argument
@click.option(
    "--sort",
    "-s",
    type=click.Choice(list(_SORT_COLUMNS)),
    default="path",
    show_default=True,
    help="The column to sort by.",
)
@click.pass_context
def routes(ctx: click.Context, app_ref: str | None, sort: str) -> None:
    """List APP's routes: methods (WS for WebSockets, MOUNT for mounted apps), path, name and endpoint."""
    app = _locate_or_exit(_script_info(ctx, app_ref).app_import_path, debug=False).app
    column = _SORT_COLUMNS[sort]
    rows = sorted(_route_rows(app), key=lambda row: (row[column], row[1], row[0]))
    if not rows:
        click.echo("No routes were registered.")
        return
    domains = {name: domain for name, domain in _rule_domains(app)}
    if any(domains.values()):  # a Flask-style app that routes by host: say which host each route answers
        with_domains = [(*row, domains.get(row[2], "")) for row in rows]
        click.echo(_format_table(("Methods", "Path", "Name", "Endpoint", "Domain"), with_domains))
        return
    click.echo(_format_table(("Methods", "Path", "Name", "Endpoint"), rows))


def _rule_domains(app: Ketch) -> Iterator[tuple[str, str]]:
    """(endpoint, host or subdomain) of each classic rule of ``app``."""
    for rule in app.url_map:
        domain = rule.host if app.url_map.host_matching else rule.subdomain
        yield rule.endpoint, domain or ""


# -- ketch shell ---------------------------------------------------------------------------------------------------


@main.command()
@_app_argument
@click.pass_context
def shell(ctx: click.Context, app_ref: str | None) -> None:
    """Start an interactive Python shell in APP's context.

    The shell starts with 'app', 'g' and the names the app's shell context processors return
    (@app.shell_context_processor), after running PYTHONSTARTUP if it is set.
    """
    import code

    app = _script_info(ctx, app_ref).load_app()
    with app.app_context():
        namespace: dict[str, Any] = {}
        startup = os.environ.get("PYTHONSTARTUP")
        if startup and os.path.isfile(startup):
            with open(startup, encoding="utf-8") as file:
                exec(compile(file.read(), startup, "exec"), namespace)
        namespace.update(app.make_shell_context())
        _enable_completion(namespace)
        banner = f"Python {sys.version} on {sys.platform}\nApp: {app.import_name}\nInstance: {app.instance_path}"
        code.interact(banner=banner, local=namespace, exitmsg="")


def _enable_completion(namespace: dict[str, Any]) -> None:
    """Tab completion of the shell's names and the usual history, on a terminal only."""
    if not sys.stdin.isatty():
        return
    try:
        import readline
        from rlcompleter import Completer
    except ImportError:  # no readline on this platform
        return
    readline.set_completer(Completer(namespace).complete)
    hook = getattr(sys, "__interactivehook__", None)
    if hook is not None:
        hook()  # the site module's: tab binding and ~/.python_history


# -- ketch openapi -------------------------------------------------------------------------------------------------


@main.command("openapi")
@_app_argument
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(["json", "yaml"]),
    default=None,
    help="The output format (default: from the output file's extension, else json).",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None, help="Write here.")
@click.option(
    "--openapi-version",
    type=click.Choice(["3.1", "3.0"]),
    default="3.1",
    show_default=True,
    help="3.0 rewrites the document for client generators that do not read 3.1.",
)
@click.option("--indent", type=click.IntRange(min=0), default=2, show_default=True, help="JSON indentation.")
@click.pass_context
def openapi_command(
    ctx: click.Context,
    app_ref: str | None,
    output_format: str | None,
    output: str | None,
    openapi_version: str,
    indent: int,
) -> None:
    """Write APP's OpenAPI document as JSON or YAML (to standard output unless --output is given)."""
    app = _locate_or_exit(_script_info(ctx, app_ref).app_import_path, debug=False).app
    document = app.openapi()
    if openapi_version == "3.0":
        from ketch.openapi.downgrade import to_openapi_30

        document = to_openapi_30(document)
    if output_format is None:
        output_format = "yaml" if output and output.lower().endswith((".yaml", ".yml")) else "json"
    text = _dump_yaml(document) if output_format == "yaml" else _dump_json(document, indent)
    if output is None:
        click.echo(text, nl=False)
        return
    with open(output, "w", encoding="utf-8") as file:
        file.write(text)


def _dump_json(document: dict[str, Any], indent: int) -> str:
    import json

    return json.dumps(document, indent=indent or None, ensure_ascii=False) + "\n"


def _dump_yaml(document: dict[str, Any]) -> str:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        raise click.ClickException(
            "YAML output needs PyYAML, which ketch does not install: pip install pyyaml (or use --format json)"
        ) from None
    return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
