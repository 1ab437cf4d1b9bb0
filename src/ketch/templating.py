"""Jinja2 templates (owner of jinja2): the environment, loaders over app and blueprint folders, rendering.

This module knows nothing of the classic face's globals: the app creates the environment and puts ``url_for``,
``get_flashed_messages``, ``config``, ``request``, ``session``, ``g`` and ``csrf_token`` into its globals (as
Flask's ``create_jinja_environment`` does); ``ketch.helpers.render_template`` renders with the current app's.
Autoescaping is on for ``.html``, ``.htm``, ``.xml``, ``.xhtml`` and ``.svg`` templates and for template strings.

For typed (FastAPI-style) apps, :class:`Jinja2Templates` is Starlette's API: a folder of templates and
``templates.TemplateResponse(request, name, context)``, with ``url_for`` in templates.
"""

from __future__ import annotations

import os
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

try:
    import jinja2
    from jinja2.runtime import Context
    from markupsafe import Markup, escape
except ImportError as exc:  # pragma: no cover - jinja2 is a dependency of ketch
    raise ImportError("ketch.templating needs jinja2: pip install jinja2") from exc

from ketch.responses import HTMLResponse

if TYPE_CHECKING:
    from jinja2 import BaseLoader

    from ketch.background import BackgroundTask
    from ketch.datastructures import URL
    from ketch.requests import Request

__all__ = [
    "DispatchingJinjaLoader",
    "Environment",
    "Jinja2Templates",
    "Markup",
    "Template",
    "TemplateResponse",
    "escape",
    "file_loader",
    "select_autoescape",
]

_AUTOESCAPE_SUFFIXES = (".html", ".htm", ".xml", ".xhtml", ".svg")


def select_autoescape(filename: str | None) -> bool:
    """Autoescape template strings (no file name) and HTML/XML templates; leave text templates alone."""
    if filename is None:
        return True
    return filename.endswith(_AUTOESCAPE_SUFFIXES)


def file_loader(root: str, folder: str | None) -> BaseLoader | None:
    """A loader for ``root/folder`` (an app's or blueprint's template folder), or None when there is none."""
    if folder is None:
        return None
    return jinja2.FileSystemLoader(os.path.join(root, folder))


class DispatchingJinjaLoader(jinja2.BaseLoader):
    """Finds a template in the app's folder first, then in each blueprint's folder in registration order.

    Args:
        sources: returns the loaders to try, in order (called on every lookup, so blueprints registered later
            are seen).
    """

    def __init__(self, sources: Callable[[], Iterable[BaseLoader | None]]) -> None:
        self.sources = sources

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Any]:
        for loader in self.sources():
            if loader is None:
                continue
            try:
                return loader.get_source(environment, template)
            except jinja2.TemplateNotFound:
                continue
        raise jinja2.TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        found: set[str] = set()
        for loader in self.sources():
            if loader is not None:
                found.update(loader.list_templates())
        return sorted(found)


class Template(jinja2.Template):
    """A Jinja template whose :meth:`render` builds its context without Jinja's per-render ``ChainMap`` walk."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        """Render with ``dict(*args, **kwargs)``: the same result as Jinja's ``Template.render``."""
        environment = self.environment
        template_globals = self.globals
        # PERF: Jinja copies the template's globals (a ChainMap over the environment's) into every new context, and
        # sets aside their names, key by key in Python. A template with no globals of its own (every template an
        # app loads) sees exactly the environment's globals: two dict copies do it.
        if (
            environment.is_async
            or environment.context_class is not Context
            or type(template_globals) is not ChainMap
            or len(template_globals.maps) != 2
            or template_globals.maps[0]
            or template_globals.maps[1] is not environment.globals
        ):
            return super().render(*args, **kwargs)
        shared = environment.globals
        context = Context(environment, dict(shared, **dict(*args, **kwargs)), self.name, self.blocks, shared)
        try:
            return environment.concat(self.root_render_func(context))
        except Exception:
            environment.handle_exception()


class Environment(jinja2.Environment):
    """A Jinja environment that belongs to an app (``env.app``)."""

    template_class = Template

    def __init__(self, app: Any, **options: Any) -> None:
        options.setdefault("autoescape", select_autoescape)
        super().__init__(**options)
        self.app = app


def render(template: jinja2.Template, context: dict[str, Any]) -> str:
    """Render a template with ``context``."""
    return template.render(context)


def generate(template: jinja2.Template, context: dict[str, Any]) -> Iterator[str]:
    """Render a template piece by piece (for a streamed response)."""
    return template.generate(context)


class TemplateResponse(HTMLResponse):
    """An HTML response rendered from a template; keeps ``template`` and ``context`` for tests to inspect."""

    def __init__(
        self,
        template: jinja2.Template,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.template = template
        self.context = context
        super().__init__(template.render(context), status_code, headers, media_type, background)


class Jinja2Templates:
    """Templates from a folder (or a ready environment), rendered into responses.

    ``url_for(name, **path_params)`` is available in every template; the context always holds ``request``.

    Args:
        directory: the template folder (or several, searched in order).
        context_processors: ``processor(request) -> dict`` callables whose results join every context.
        env: a Jinja environment to use instead of ``directory``.

    Example::

        templates = Jinja2Templates(directory="templates")

        @app.get("/items/{id}", response_class=HTMLResponse)
        async def item(request: Request, id: str):
            return templates.TemplateResponse(request, "item.html", {"id": id})
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        *,
        context_processors: list[Callable[[Request], dict[str, Any]]] | None = None,
        env: jinja2.Environment | None = None,
    ) -> None:
        if (directory is None) == (env is None):
            raise TypeError("Jinja2Templates needs either 'directory' or 'env'")
        self.context_processors = context_processors or []
        if env is None:
            env = jinja2.Environment(loader=jinja2.FileSystemLoader(directory or []), autoescape=select_autoescape)
        self.env = env
        self.env.globals.setdefault("url_for", _url_for)

    def get_template(self, name: str) -> jinja2.Template:
        """The template called ``name`` (``jinja2.TemplateNotFound`` if there is none)."""
        return self.env.get_template(name)

    def TemplateResponse(  # Starlette's name
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> TemplateResponse:
        """Render the template ``name`` with ``context`` (plus ``request`` and the context processors' values)."""
        context = context or {}
        context.setdefault("request", request)
        for processor in self.context_processors:
            context.update(processor(request))
        return TemplateResponse(self.get_template(name), context, status_code, headers, media_type, background)


@jinja2.pass_context
def _url_for(context: Any, name: str, /, **path_params: Any) -> URL:
    request: Request = context["request"]
    return request.url_for(name, **path_params)
