"""Route definitions: an HTTP route, a WebSocket route, and a mounted ASGI app.

These are plain records of what was registered. Nothing here runs per request: at start-up the app turns them
into per-method plans and a compiled matcher (``routing/matcher.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any

from ketch.routing.convertors import Convertor, compile_path
from ketch.types import ASGIApp

__all__ = ["BaseRoute", "Mount", "Route", "WebSocketRoute"]

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")


def endpoint_name(endpoint: Callable[..., Any]) -> str:
    return getattr(endpoint, "__name__", endpoint.__class__.__name__)


class BaseRoute:
    """What every route kind has: a path (compiled once) and a name for reverse routing."""

    path: str
    name: str | None
    include_in_schema: bool = True

    def _compile(self, path: str) -> None:
        # "{$callback_url}/...": an OpenAPI runtime expression, the path of a route that documents a callback.
        if path and not path.startswith(("/", "{$")):
            raise ValueError(f"Route paths must start with '/': {path!r}")
        self.path = path
        self.regex: re.Pattern[str] | None
        self.regex, self.path_format, self.param_convertors = compile_path(path)


class Route(BaseRoute):
    """An HTTP route: ``path``, the ``endpoint`` called for it, and the ``methods`` it answers (a GET route also
    answers HEAD unless ``automatic_head=False``).

    ``options`` holds everything else a face attached (response model, tags, status code...), kept as given and
    read once by the planner at start-up.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
        options: dict[str, Any] | None = None,
        automatic_head: bool = True,
    ) -> None:
        self._compile(path)
        self.endpoint = endpoint
        self.name = endpoint_name(endpoint) if name is None else name
        self.include_in_schema = include_in_schema
        self.methods = {m.upper() for m in (methods or ("GET",))}
        unknown = {m for m in self.methods if not re.fullmatch(r"[A-Z]+", m)}
        if unknown:
            raise ValueError(f"Invalid HTTP method(s) {sorted(unknown)} for {path!r}")
        # A GET route answers HEAD too, unless ``automatic_head`` is off (FastAPI's routes do not).
        if automatic_head and "GET" in self.methods:
            self.methods.add("HEAD")
        self.options: dict[str, Any] = dict(options or {})

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(path={self.path!r}, name={self.name!r}, methods={sorted(self.methods)!r})"


class WebSocketRoute(BaseRoute):
    """A WebSocket route: ``path`` and the ``endpoint`` that takes the connection."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self._compile(path)
        self.endpoint = endpoint
        self.name = endpoint_name(endpoint) if name is None else name
        self.include_in_schema = False
        self.options = dict(options or {})

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(path={self.path!r}, name={self.name!r})"


class Mount(BaseRoute):
    """Any ASGI app served under a path prefix; the app sees the prefix moved into ``root_path``."""

    def __init__(self, path: str, app: ASGIApp, *, name: str | None = None) -> None:
        path = path.rstrip("/")
        # "{$callback_url}/...": an OpenAPI runtime expression, the path of a route that documents a callback.
        if path and not path.startswith(("/", "{$")):
            raise ValueError(f"Mount paths must start with '/': {path!r}")
        self.path = path
        self.app = app
        self.name = name
        self.include_in_schema = False
        regex, self.path_format, self.param_convertors = compile_path(path + "/{path:path}")
        assert regex is not None
        self.regex = regex

    @property
    def routes(self) -> list[BaseRoute]:
        return list(getattr(self.app, "routes", []))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(path={self.path!r}, name={self.name!r}, app={self.app!r})"


def convertor_values(params: dict[str, Any], convertors: dict[str, Convertor]) -> dict[str, str]:
    return {key: convertors[key].to_string(value) for key, value in params.items() if key in convertors}
