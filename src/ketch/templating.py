"""Jinja2 templates (owner of jinja2): the environment, loaders over app and blueprint folders, rendering.

This module knows nothing of the classic face's globals: the app creates the environment and puts ``url_for``,
``get_flashed_messages``, ``config``, ``request``, ``session``, ``g`` and ``csrf_token`` into its globals (as
Flask's ``create_jinja_environment`` does); ``ketch.helpers.render_template`` renders with the current app's.
Autoescaping is on for ``.html``, ``.htm``, ``.xml``, ``.xhtml`` and ``.svg`` templates and for template strings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

try:
    import jinja2
    from markupsafe import Markup, escape
except ImportError as exc:  # pragma: no cover - jinja2 is a dependency of ketch
    raise ImportError("ketch.templating needs jinja2: pip install jinja2") from exc

if TYPE_CHECKING:
    from jinja2 import BaseLoader, Template

__all__ = [
    "DispatchingJinjaLoader",
    "Environment",
    "Markup",
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


class Environment(jinja2.Environment):
    """A Jinja environment that belongs to an app (``env.app``)."""

    def __init__(self, app: Any, **options: Any) -> None:
        options.setdefault("autoescape", select_autoescape)
        super().__init__(**options)
        self.app = app


def render(template: Template, context: dict[str, Any]) -> str:
    """Render a template with ``context``."""
    return template.render(context)


def generate(template: Template, context: dict[str, Any]) -> Iterator[str]:
    """Render a template piece by piece (for a streamed response)."""
    return template.generate(context)
