"""``ketch run``: serve the app with uvicorn, in this process or, for ``--reload``/``--workers``, in workers
that load it again (:func:`_load_from_env`).

uvicorn is imported only when a server is started, so ``import ketch.cli`` stays light. uvicorn's own log is
watched (:class:`_StartupWatch`) so that a server that stops before serving ends with one line saying why.
"""

from __future__ import annotations

import copy
import importlib.util
import logging
import os
import sys
from typing import Any

import click

from ketch.app import Ketch
from ketch.cli.app_commands import _app_argument, _script_info
from ketch.cli.discovery import LocatedApp, NoAppError, _locate_or_exit, load_app

__all__ = ["STARTUP_FAILURE", "ServerStartupError", "run"]

#: uvicorn's exit code when the app or the socket fails before serving.
STARTUP_FAILURE = 3


class ServerStartupError(click.ClickException):
    """The server stopped before serving (the app's start-up failed, or the port was taken); exit code 3."""

    exit_code = STARTUP_FAILURE


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _load_from_env() -> Ketch:
    """uvicorn factory for ``--reload``/``--workers``: load ``KETCH_APP`` in the worker, honouring ``KETCH_DEBUG`` and
    ``KETCH_STARTUP_TIMEOUT``."""
    try:
        app = load_app(os.environ.get("KETCH_APP"))
    except NoAppError as exc:
        logging.getLogger("uvicorn.error").error("Error loading the app: %s", exc.message)
        sys.exit(STARTUP_FAILURE)
    if _env_flag("KETCH_DEBUG"):
        app.debug = True
    timeout = os.environ.get("KETCH_STARTUP_TIMEOUT", "").strip()
    if timeout:
        app.startup_timeout = float(timeout)
    return app


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
    config["filters"]["ketch_watch"] = {"()": "ketch.cli.server._startup_watch"}
    config["filters"]["ketch_startup"] = {"()": "ketch.cli.server._HideStartupFailure", "show": debug}
    config["handlers"]["ketch"] = {**config["handlers"]["default"], "filters": ["ketch_startup"]}
    config["loggers"]["uvicorn.error"]["filters"] = ["ketch_watch"]
    level = (log_level or ("debug" if debug else "info")).upper()
    config["loggers"]["ketch"] = {"handlers": ["ketch"], "level": level, "propagate": False}
    return config


# -- the command ---------------------------------------------------------------------------------------------------


def _server_target(
    located: LocatedApp, app_ref: str | None, debug: bool, startup_timeout: float | None
) -> tuple[str, bool]:
    """What uvicorn imports in each worker (``--reload``/``--workers``), and whether it is a factory."""
    if debug or located.args or startup_timeout is not None:
        # The worker must rebuild exactly this app and apply the options to it: it does so through the loader above.
        if app_ref:
            os.environ["KETCH_APP"] = app_ref
        os.environ["KETCH_DEBUG"] = "1" if debug else "0"
        if startup_timeout is None:
            os.environ.pop("KETCH_STARTUP_TIMEOUT", None)
        else:
            os.environ["KETCH_STARTUP_TIMEOUT"] = repr(startup_timeout)
        return "ketch.cli:_load_from_env", True  # re-exported by the package: the path stays short and stable
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


@click.command()
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
@click.option(
    "--startup-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    envvar="KETCH_STARTUP_TIMEOUT",
    metavar="SECONDS",
    help="Fail start-up (exit code 3) if the app's lifespan has not started within SECONDS.  [default: the app's]",
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
    startup_timeout: float | None,
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
    if startup_timeout is not None:
        located.app.startup_timeout = startup_timeout
    target: Any = located.app
    factory = False
    if reload or (workers or 1) > 1:
        if reload and importlib.util.find_spec("watchfiles") is None:
            raise click.ClickException("--reload needs watchfiles: pip install watchfiles")
        target, factory = _server_target(located, app_ref, debug, startup_timeout)
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
