"""The ``ketch`` command line: ``ketch run`` serves an app with uvicorn, ``ketch routes`` lists its routes,
``ketch openapi`` writes its OpenAPI document, ``ketch shell`` opens a Python shell in its context, and
``ketch <command>`` runs a command the app defines.

This package owns click, uvicorn and watchfiles; uvicorn is imported only when a server is started, so listing
routes or ``--help`` stays light. Apps are found the way Flask finds them (:func:`locate_app`, in
:mod:`ketch.cli.discovery`), and every command that needs the app calls :func:`load_app` (through
:class:`ScriptInfo` for the app's own commands). The app's command group (``app.cli``, an :class:`AppGroup`) and its
test runner (``app.test_cli_runner()``, an :class:`AppCliRunner`) live here too (:mod:`ketch.cli.app_commands`), so
click has one owner. ``ketch run`` is :mod:`ketch.cli.server`; ``routes``, ``openapi`` and ``shell`` are
:mod:`ketch.cli.inspection`; the ``ketch`` group itself is :mod:`ketch.cli.ketch_command`.
"""

# Besides __all__, the package keeps reachable what the one-module ketch.cli had at its top level and others use:
# the constants and the commands, and four private names: _log_config and _run_server (the classic app's
# ``app.run()``), _load_from_env (uvicorn workers import "ketch.cli:_load_from_env") and _startup_watch.
from ketch.cli.app_commands import AppCliRunner, AppGroup, ScriptInfo, pass_script_info, with_appcontext
from ketch.cli.discovery import APP_NAMES as APP_NAMES
from ketch.cli.discovery import DEFAULT_FILES as DEFAULT_FILES
from ketch.cli.discovery import FACTORY_NAMES as FACTORY_NAMES
from ketch.cli.discovery import (
    LocatedApp,
    NoAppError,
    find_app_by_string,
    find_best_app,
    import_app_module,
    load_app,
    locate_app,
    prepare_import,
)
from ketch.cli.inspection import openapi_command as openapi_command
from ketch.cli.inspection import routes as routes
from ketch.cli.inspection import shell as shell
from ketch.cli.ketch_command import KetchGroup, main
from ketch.cli.server import STARTUP_FAILURE as STARTUP_FAILURE
from ketch.cli.server import ServerStartupError
from ketch.cli.server import _load_from_env as _load_from_env
from ketch.cli.server import _log_config as _log_config
from ketch.cli.server import _run_server as _run_server
from ketch.cli.server import _startup_watch as _startup_watch
from ketch.cli.server import run as run

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
