"""Finding the app: what ``ketch run APP``, ``--app`` and ``KETCH_APP`` name, loaded the way Flask finds apps.

Every command that needs the app ends in :func:`load_app` (or :func:`locate_app`, which also says where the app
came from, so a uvicorn worker can load it again). A failure is a :class:`NoAppError` with a one-line cause.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import click

from ketch.app import Ketch

__all__ = [
    "APP_NAMES",
    "DEFAULT_FILES",
    "FACTORY_NAMES",
    "LocatedApp",
    "NoAppError",
    "find_app_by_string",
    "find_best_app",
    "import_app_module",
    "load_app",
    "locate_app",
    "prepare_import",
]

#: Files tried, in order, when no app is named and ``KETCH_APP`` is unset.
DEFAULT_FILES = ("app.py", "wsgi.py", "main.py")
#: Names tried, in order, when only a module is named.
APP_NAMES = ("app", "application")
FACTORY_NAMES = ("create_app", "make_app")


class NoAppError(click.ClickException):
    """The app could not be found or loaded; shown as one ``Error:`` line, exit code 2 (a usage error)."""

    exit_code = 2


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
