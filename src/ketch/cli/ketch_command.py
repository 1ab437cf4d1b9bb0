"""The ``ketch`` command (:func:`main`, the console script): its global options, its own commands, and then
the commands the app defines (``ketch --app flaskr init-db``).
"""

from __future__ import annotations

import click

from ketch import __version__
from ketch.cli.app_commands import ScriptInfo
from ketch.cli.discovery import NoAppError
from ketch.cli.inspection import openapi_command, routes, shell
from ketch.cli.server import run
from ketch.ctx import has_app_context

__all__ = ["KetchGroup", "main"]


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


def _set_app(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value:
        ctx.ensure_object(ScriptInfo).app_import_path = value
    return value


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(ScriptInfo).debug = True
    return value


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


main.add_command(run)
main.add_command(routes)
main.add_command(shell)
main.add_command(openapi_command)
