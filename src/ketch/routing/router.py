"""Router: where routes, WebSocket routes, mounts, sub-routers, scoped middleware and handlers are registered.

A router only records; ``routing/matcher.py`` compiles what was recorded into the table that requests are
matched against, once, at start-up. Sub-routers are included by reference, so routes added to them later (but
before start-up) still count.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, Unpack

from ketch.routing.route import BaseRoute, Mount, Route, WebSocketRoute
from ketch.types import ASGIApp

if TYPE_CHECKING:
    from ketch.limits import Limits

__all__ = ["Include", "Middleware", "RouteList", "RouteOptions", "Router"]

_F = TypeVar("_F", bound=Callable[..., Any])


class RouteOptions(TypedDict, total=False):
    """The options every route decorator takes; declared once, used by ``get``/``post``/... alike.

    Faces read the ones they understand when planning; unknown ones are kept on ``route.options``.
    """

    name: str | None
    include_in_schema: bool
    status_code: int | None
    tags: list[str] | None
    summary: str | None
    description: str | None
    response_description: str
    responses: dict[int | str, dict[str, Any]] | None
    deprecated: bool | None
    operation_id: str | None
    response_class: Any
    response_model: Any
    dependencies: Sequence[Any] | None
    openapi_extra: dict[str, Any] | None
    callbacks: list[Any] | None
    response_model_include: Any
    response_model_exclude: Any
    response_model_by_alias: bool
    response_model_exclude_unset: bool
    response_model_exclude_defaults: bool
    response_model_exclude_none: bool
    max_body_size: int | None
    limits: Limits | None
    strict_content_type: bool
    generate_unique_id_function: Callable[..., str]
    sync_to_thread: bool


class Middleware:
    """A middleware class and the arguments to build it with: ``Middleware(CORSMiddleware, allow_origins=[...])``.

    Built once at start-up as ``cls(app, *args, **kwargs)``. Unpacks as ``cls, args, kwargs`` like Starlette's.
    """

    __slots__ = ("cls", "args", "kwargs")

    def __init__(self, cls: Callable[..., ASGIApp], *args: Any, **kwargs: Any) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def __iter__(self) -> Iterator[Any]:
        return iter((self.cls, self.args, self.kwargs))

    def build(self, app: ASGIApp) -> ASGIApp:
        return self.cls(app, *self.args, **self.kwargs)

    def __repr__(self) -> str:
        name = getattr(self.cls, "__name__", repr(self.cls))
        arguments = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"Middleware({', '.join([name, *arguments])})"


@dataclass
class Include:
    """A router included in another, with the prefix and options given to ``include_router``."""

    router: Router
    prefix: str = ""
    options: dict[str, Any] = field(default_factory=dict)


class Router:
    """A group of routes with a shared prefix, tags, middleware, exception handlers and limits.

    Args:
        prefix: prepended to every path registered here.
        tags: OpenAPI tags for every route here.
        middleware: ASGI middleware that wraps only this router's routes.
        exception_handlers: handlers (by status code or exception class) that apply only to this router's routes,
            tried before the app's.
        max_body_size: shortcut for ``limits=Limits(max_body_size=...)`` on this router's routes.
        limits: limits changed for this router's routes (see :class:`~ketch.limits.Limits`).
        **options: route options applied to every route here (``dependencies``, ``responses``, ...).
    """

    # Whether a GET route registered here also answers HEAD (FastAPI's routers set False).
    automatic_head = True

    def __init__(
        self,
        *,
        prefix: str = "",
        routes: Sequence[BaseRoute] | None = None,
        tags: list[str] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: dict[Any, Callable[..., Any]] | None = None,
        max_body_size: int | None | Any = ...,
        limits: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if prefix:
            if not prefix.startswith("/") or prefix.endswith("/"):
                raise ValueError("A router prefix must start with '/' and not end with '/'")
        self.prefix = prefix
        self.entries: list[BaseRoute | Include] = list(routes or [])
        self.tags = list(tags or [])
        self.user_middleware = list(middleware or [])
        self.exception_handlers: dict[Any, Callable[..., Any]] = dict(exception_handlers or {})
        self.limit_changes: dict[str, Any] = dict(limits or {})
        if max_body_size is not ...:
            self.limit_changes["max_body_size"] = max_body_size
        self.route_defaults = options
        self._on_change: Callable[[], None] | None = None

    # -- registration ------------------------------------------------------------------------------------------

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def _append(self, entry: BaseRoute | Include) -> None:
        self.entries.append(entry)
        self._changed()

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Collection[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> Route:
        """Register ``endpoint`` for ``methods`` (default GET) at ``prefix + path``."""
        name = options.pop("name", None)
        include_in_schema = options.pop("include_in_schema", True)
        route = Route(
            self.prefix + path,
            endpoint,
            methods=methods,
            name=name,
            include_in_schema=include_in_schema,
            options=dict(options),
            automatic_head=self.automatic_head,
        )
        self._append(route)
        return route

    add_api_route = add_route  # FastAPI's name

    def api_route(
        self, path: str, methods: Collection[str] | None = None, **options: Unpack[RouteOptions]
    ) -> Callable[[_F], _F]:
        """Decorator form of :meth:`add_route`."""

        def decorator(func: _F) -> _F:
            self.add_route(path, func, methods=methods, **options)
            return func

        return decorator

    def get(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        return self.api_route(path, ["GET"], **options)

    def post(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        return self.api_route(path, ["POST"], **options)

    def put(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        return self.api_route(path, ["PUT"], **options)

    def patch(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        return self.api_route(path, ["PATCH"], **options)

    def delete(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        return self.api_route(path, ["DELETE"], **options)

    def head(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        return self.api_route(path, ["HEAD"], **options)

    def options(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        return self.api_route(path, ["OPTIONS"], **options)

    def trace(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        return self.api_route(path, ["TRACE"], **options)

    def add_websocket_route(
        self, path: str, endpoint: Callable[..., Any], name: str | None = None, **options: Any
    ) -> WebSocketRoute:
        """Register a WebSocket ``endpoint`` at ``prefix + path``."""
        route = WebSocketRoute(self.prefix + path, endpoint, name=name, options=options)
        self._append(route)
        return route

    add_api_websocket_route = add_websocket_route  # FastAPI's name

    def websocket(self, path: str, name: str | None = None, **options: Any) -> Callable[[_F], _F]:
        """Decorator form of :meth:`add_websocket_route`."""

        def decorator(func: _F) -> _F:
            self.add_websocket_route(path, func, name=name, **options)
            return func

        return decorator

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> Mount:
        """Serve any ASGI app (a static folder, another framework, a sub-app) under ``prefix + path``."""
        mount = Mount(self.prefix + path, app, name=name)
        self._append(mount)
        return mount

    def include_router(
        self, router: Router, *, prefix: str = "", tags: list[str] | None = None, **options: Any
    ) -> None:
        """Include ``router``'s routes under ``prefix``; ``tags`` and options apply to all of them.

        The router is included by reference: routes it gains before start-up are served too.
        """
        if router is self:
            raise ValueError("A router cannot include itself")
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError("A prefix must start with '/' and not end with '/'")
        if tags:
            options["tags"] = list(tags)
        self._append(Include(router, self.prefix + prefix, options))
        router._on_change = self._changed

    def add_middleware(self, cls: Callable[..., ASGIApp], *args: Any, **kwargs: Any) -> None:
        """Wrap this router's routes in ``cls(app, *args, **kwargs)`` (the last added runs first)."""
        self.user_middleware.insert(0, Middleware(cls, *args, **kwargs))
        self._changed()

    def middleware(self, kind: str) -> Callable[[_F], _F]:
        """Register ``async def mw(request, call_next)`` as HTTP middleware (``kind`` must be "http")."""
        if kind != "http":
            raise ValueError('Only "http" middleware is supported by the decorator')

        def decorator(func: _F) -> _F:
            from ketch.middleware.base import FunctionMiddleware

            self.add_middleware(FunctionMiddleware, dispatch=func)
            return func

        return decorator

    def add_exception_handler(self, key: int | type[BaseException], handler: Callable[..., Any]) -> None:
        """Handle an exception class (and its subclasses) or an HTTP status code with ``handler(request, exc)``."""
        self.exception_handlers[key] = handler
        self._changed()

    def exception_handler(self, key: int | type[BaseException]) -> Callable[[_F], _F]:
        """Decorator form of :meth:`add_exception_handler`."""

        def decorator(func: _F) -> _F:
            self.add_exception_handler(key, func)
            return func

        return decorator

    # -- reading back ------------------------------------------------------------------------------------------

    @property
    def routes(self) -> list[BaseRoute]:
        """Every route reachable from here, flattened (sub-routers expanded), in registration order."""
        return RouteList(self, [walked.route for walked in walk(self)])

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        """The path of the route called ``name`` with ``path_params`` filled in."""
        from ketch.routing.urls import url_path_for

        return url_path_for(walk(self), name, path_params)


class RouteList(list[BaseRoute]):
    """``router.routes``: the routes, plus the router they were read from, so that FastAPI's recipe
    ``get_openapi(routes=app.routes)`` still documents each route with its ``include_router`` prefix and settings
    (a route object knows only the path it was registered with)."""

    def __init__(self, root: Router, routes: list[BaseRoute]) -> None:
        super().__init__(routes)
        self.root = root


@dataclass
class WalkedRoute:
    """A route as reached from the root: its full path, the routers it sits in (outermost first), and the
    options of every ``include_router`` on the way."""

    route: BaseRoute
    path: str
    routers: tuple[Router, ...]
    includes: tuple[dict[str, Any], ...]


def walk(
    router: Router,
    prefix: str = "",
    routers: tuple[Router, ...] = (),
    includes: tuple[dict[str, Any], ...] = (),
) -> Iterator[WalkedRoute]:
    """Every route under ``router`` with the context it was included in, depth first, in order."""
    chain = (*routers, router)
    for entry in router.entries:
        if isinstance(entry, Include):
            yield from walk(entry.router, prefix + entry.prefix, chain, (*includes, entry.options))
        else:
            yield WalkedRoute(entry, prefix + entry.path, chain, includes)
