"""The commands that look at an app without serving it: ``ketch routes``, ``ketch openapi`` and ``ketch shell``."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import click

from ketch.app import Ketch
from ketch.cli.app_commands import _app_argument, _script_info
from ketch.cli.discovery import _locate_or_exit
from ketch.routing.route import BaseRoute, Mount, Route, WebSocketRoute
from ketch.routing.router import Router, walk

__all__ = ["openapi_command", "routes", "shell"]


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


@click.command()
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


@click.command()
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


@click.command("openapi")
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
