"""The routes a document describes, each with its settings merged the way FastAPI merges them.

At run time the innermost route option wins (``_plan/typed.py``). A document needs FastAPI's rules for the options
that only describe a route: ``tags`` and ``callbacks`` add up from the outermost router in, ``responses`` merge
(inner keys win), ``deprecated`` is true if any level says so, and ``include_in_schema`` only if every level
allows it. ``OperationRoute`` is what a custom ``generate_unique_id_function`` receives: it has FastAPI's
``APIRoute`` attributes (``name``, ``tags``, ``path_format``, ``methods``, ``endpoint``...).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from ketch.routing.convertors import compile_path
from ketch.routing.route import BaseRoute, Route
from ketch.routing.router import Router, WalkedRoute, walk

__all__ = [
    "OperationRoute",
    "Webhook",
    "WebhookRouter",
    "callback_routes",
    "document_routes",
    "generate_unique_id",
    "operation_route",
]

# Options only a document reads, merged across levels (everything else: the innermost level wins).
_MERGED = ("tags", "dependencies", "responses", "callbacks", "deprecated", "include_in_schema")


def generate_unique_id(route: OperationRoute, method: str | None = None) -> str:
    """FastAPI's default operation id: ``{name}{path}_{method}`` with every non-word character made ``_``.

    FastAPI names every method of a multi-method route after its first; classic-face views get one id per method.
    """
    operation_id = re.sub(r"\W", "_", f"{route.name}{route.path_format}")
    return f"{operation_id}_{(method or route.first_method).lower()}"


@dataclass(eq=False)
class OperationRoute:
    """A route as the document sees it: its full path, its methods and its merged settings.

    Attributes:
        route: the registered route.
        path: the full path (prefixes included), as registered.
        path_format: the path with parameters as ``{name}``.
        methods: the methods to describe (the ``HEAD`` that ``GET`` implies is left out).
        typed: planned by the typed face (parameters, bodies and responses can be described), or not.
        options: every other setting, innermost first (``summary``, ``status_code``, ``response_model``...).
    """

    route: Route
    path: str
    path_format: str
    name: str
    methods: list[str]
    endpoint: Callable[..., Any]
    typed: bool
    tags: list[Any] = field(default_factory=list)
    dependencies: list[Any] = field(default_factory=list)
    responses: dict[int | str, dict[str, Any]] = field(default_factory=dict)
    callbacks: list[BaseRoute] = field(default_factory=list)
    deprecated: bool | None = None
    include_in_schema: bool = True
    options: dict[str, Any] = field(default_factory=dict)
    unique_id: str = ""

    @property
    def first_method(self) -> str:
        return self.methods[0] if self.methods else "GET"

    def operation_id_for(self, method: str) -> str:
        """The operation id of ``method``: the route's id, or for a classic view without one, one per method."""
        if self.typed or self.operation_id or "generate_unique_id_function" in self.options:
            return self.operation_id or self.unique_id
        return generate_unique_id(self, method)

    @property
    def summary(self) -> str | None:
        return self.options.get("summary")

    @property
    def operation_id(self) -> str | None:
        return self.options.get("operation_id")

    @property
    def status_code(self) -> int | None:
        status = self.options.get("status_code")
        return int(status) if isinstance(status, IntEnum) else status

    @property
    def response_description(self) -> str:
        return str(self.options.get("response_description", "Successful Response"))

    @property
    def response_class(self) -> Any:
        return self.options.get("response_class")

    @property
    def openapi_extra(self) -> dict[str, Any] | None:
        return self.options.get("openapi_extra")

    @property
    def description(self) -> str:
        text = self.options.get("description") or inspect.cleandoc(getattr(self.endpoint, "__doc__", None) or "")
        # A form feed ends what the docs show: the rest of a docstring is for the code's readers.
        return str(text).split("\f")[0].strip()


def _levels(walked: WalkedRoute) -> Iterator[tuple[Mapping[str, Any], list[Any]]]:
    """Each level's options and tags, outermost first: router, include_router call, router, ..., route."""
    route = walked.route
    for index, router in enumerate(walked.routers):
        yield getattr(router, "route_defaults", {}), list(getattr(router, "tags", []) or [])
        if index < len(walked.includes):
            include = walked.includes[index]
            yield {k: v for k, v in include.items() if k != "tags"}, list(include.get("tags") or [])
    options = getattr(route, "options", {})
    yield {k: v for k, v in options.items() if k != "tags"}, list(options.get("tags") or [])


def operation_route(walked: WalkedRoute, typed: bool, default_id: Callable[[Any], str] | None = None) -> OperationRoute:
    """Merge ``walked``'s settings across its routers and includes (see the module docstring)."""
    route = walked.route
    assert isinstance(route, Route)
    view = OperationRoute(
        route=route,
        path=walked.path,
        path_format=_path_format(walked.path),
        name=route.name or "",
        methods=_methods(route.methods),
        endpoint=route.endpoint,
        typed=typed,
        include_in_schema=route.include_in_schema,
    )
    rule = _classic_rule(route)
    if rule is not None:
        # A Flask-style view: its rule knows its methods (without the HEAD and OPTIONS Flask adds).
        view.include_in_schema = True
        view.methods = sorted(set(rule.methods) - {"HEAD", "OPTIONS"}) or _methods(set(rule.methods))
    merged: dict[str, Any] = {}
    for options, tags in _levels(walked):
        view.tags.extend(tags)
        view.dependencies.extend(options.get("dependencies") or ())
        view.responses.update(options.get("responses") or {})
        view.callbacks.extend(options.get("callbacks") or ())
        view.deprecated = bool(options.get("deprecated")) or view.deprecated or None
        if options.get("include_in_schema") is False:
            view.include_in_schema = False
        if "default_response_class" in options:
            merged["response_class"] = options["default_response_class"]
        merged.update({k: v for k, v in options.items() if k not in _MERGED and k != "default_response_class"})
    view.options = merged
    make_id = merged.get("generate_unique_id_function") or default_id or generate_unique_id
    view.unique_id = view.operation_id or make_id(view)
    return view


def _classic_rule(route: Route) -> Any:
    """The URL rule of a classic-face view route, or None (also for its static files and slash redirects, and for
    the second path a rule without strict slashes answers)."""
    rule = route.options.get("rule")
    if rule is None or not getattr(rule, "endpoint", "") or getattr(rule, "redirect_to", None) is not None:
        return None
    if rule.endpoint == "static" or getattr(rule, "path", route.path) != route.path:
        return None
    return rule


def _path_format(path: str) -> str:
    try:
        return compile_path(path)[1]
    except ValueError:
        return path  # a callback's runtime expression ("{$request.body.url}"): kept as written


def _methods(methods: set[str]) -> list[str]:
    described = sorted(methods)
    if "GET" in methods and "HEAD" in methods:
        described.remove("HEAD")  # implied by GET: not an operation of its own
    return described


def document_routes(root: Router, is_typed: Callable[[Route], bool]) -> Iterator[OperationRoute]:
    """Every HTTP route under ``root`` that can appear in the document (WebSocket routes and mounts cannot)."""
    for walked in walk(root):
        if isinstance(walked.route, Route):
            yield operation_route(walked, is_typed(walked.route))


def callback_routes(routes: list[BaseRoute], typed: bool = True) -> Iterator[OperationRoute]:
    """The routes of ``callbacks=`` (or of a webhooks router), each taken as registered, without prefixes."""
    for route in routes:
        if isinstance(route, Route):
            yield operation_route(WalkedRoute(route, route.path, (), ()), typed)


class Webhook(Route):
    """A webhook: an operation the app *sends*, named rather than routed (``"new-subscription"``)."""

    def _compile(self, path: str) -> None:
        self.path = path
        self.regex = None
        self.path_format = path
        self.param_convertors = {}


class WebhookRouter(Router):
    """``app.webhooks``: register the requests your app sends to others, for the document only.

    ```python
    @app.webhooks.post("new-subscription")
    def new_subscription(body: Subscription): ...
    ```
    """

    def add_route(self, path: str, endpoint: Callable[..., Any], methods: Any = None, **options: Any) -> Route:
        name = options.pop("name", None)
        include_in_schema = options.pop("include_in_schema", True)
        route = Webhook(
            path, endpoint, methods=methods, name=name, include_in_schema=include_in_schema, options=dict(options)
        )
        self._append(route)
        return route

    add_api_route = add_route
