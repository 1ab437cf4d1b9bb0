"""Commands that run in the app's context: the app's own command group (``app.cli``, an :class:`AppGroup`),
:class:`ScriptInfo` (how a command finds the app), :func:`with_appcontext`, and the test runner
(``app.test_cli_runner()``, an :class:`AppCliRunner`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any, TypeVar

import click
from click.testing import CliRunner, Result

from ketch.app import Ketch
from ketch.cli.discovery import NoAppError, load_app
from ketch.ctx import has_app_context

__all__ = ["AppCliRunner", "AppGroup", "ScriptInfo", "pass_script_info", "with_appcontext"]

_F = TypeVar("_F", bound=Callable[..., Any])


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


# -- shared by ketch's own commands ------------------------------------------------------------------------------

_app_argument = click.argument("app_ref", metavar="[APP]", required=False)


def _script_info(ctx: click.Context, app_ref: str | None) -> ScriptInfo:
    """The group's :class:`ScriptInfo`, pointed at ``app_ref`` when a command was given one."""
    info = ctx.ensure_object(ScriptInfo)
    if app_ref:
        info.app_import_path = app_ref
    return info
