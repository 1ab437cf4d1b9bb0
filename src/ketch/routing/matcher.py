"""The compiled route table, and matching a request against it.

Built once at start-up from what the routers recorded: static paths go into a dict, paths with parameters into
an ordered list of compiled patterns, mounts last. Every (route, method) pair already holds its planned ASGI
handler, so a request does a dict lookup (or a short regex scan), then calls straight into its plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from ketch.exceptions import HTTPException
from ketch.limits import Limits
from ketch.requests import Request
from ketch.responses import RESPONSE_STARTED, RedirectResponse, Response
from ketch.routing.convertors import Convertor
from ketch.routing.route import BaseRoute, Mount, Route, WebSocketRoute
from ketch.routing.router import Router, WalkedRoute, walk
from ketch.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from ketch.exception_handlers import ExceptionHandlers

__all__ = ["CompiledRouter", "PlanContext", "Planner", "compile_router"]


@dataclass
class PlanContext:
    """Everything about a route's place in the app that its plan may need, resolved at start-up."""

    path: str
    limits: Limits
    handlers: ExceptionHandlers
    routers: tuple[Router, ...]
    includes: tuple[dict[str, Any], ...]
    app: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


class Planner(Protocol):
    """Turns a registered route into the ASGI callables that serve it (one per HTTP method)."""

    def plan_http(self, route: Route, method: str, context: PlanContext) -> ASGIApp: ...

    def plan_websocket(self, route: WebSocketRoute, context: PlanContext) -> ASGIApp: ...


class _Entry:
    """One path in the table: its handlers by method (and for WebSocket), and the ``Allow`` header value."""

    __slots__ = ("regex", "convertors", "handlers", "websocket", "allow", "unlisted", "route", "routes", "middleware")

    def __init__(self, route: BaseRoute, path: str, regex: Any, convertors: dict[str, Convertor]) -> None:
        self.route = route
        self.regex = regex
        self.convertors = convertors
        self.handlers: dict[str, ASGIApp] = {}
        # The route serving each method, when several routes share the path (GET and POST registered apart).
        self.routes: dict[str, BaseRoute] = {}
        self.websocket: ASGIApp | None = None
        self.allow = ""
        # Methods a route answers without offering them (a planner's own 405): left out of ``allow``.
        self.unlisted: set[str] = set()
        # The scoped middleware of the path's first route: it also wraps the automatic OPTIONS answer (CORS).
        self.middleware: list[Any] = []


def _drop_body(app: ASGIApp) -> ASGIApp:
    """Serve HEAD with the GET handler: same status and headers, no body bytes."""

    async def head(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await app(scope, receive, send_headers_only)

    return head


def _options_responder(entry: _Entry) -> ASGIApp:
    async def options(scope: Scope, receive: Receive, send: Send) -> None:
        await Response(status_code=200, headers={"Allow": entry.allow})(scope, receive, send)

    return options


class CompiledRouter:
    """The ASGI app at the bottom of the middleware stack: match, then call the planned handler.

    Unmatched paths get the slash redirect (when the other form exists and the redirect cannot leave the site),
    else 404; a matched path with an unregistered method gets 405 with ``Allow``.
    """

    def __init__(
        self,
        static: dict[str, _Entry],
        static_ws: dict[str, _Entry],
        dynamic: list[_Entry],
        mounts: list[Mount],
        handlers: ExceptionHandlers,
        redirect_slashes: bool,
    ) -> None:
        self.static = static
        self.static_ws = static_ws
        # PERF: path -> method -> (handler, route) for the app's direct dispatch of static paths.
        self.static_methods: dict[str, dict[str, tuple[ASGIApp, BaseRoute]]] = {
            path: {
                method: (handler, entry.routes.get(method, entry.route)) for method, handler in entry.handlers.items()
            }
            for path, entry in static.items()
        }
        self.dynamic = dynamic
        self.mounts = mounts
        self.handlers = handlers
        self.redirect_slashes = redirect_slashes

    def match(self, path: str) -> tuple[_Entry | None, dict[str, Any] | None, list[_Entry]]:
        """(the first HTTP entry matching ``path``, its converted params, every HTTP entry matching)."""
        entry = self.static.get(path)
        if entry is not None:
            return entry, None, [entry]
        found: list[_Entry] = []
        params = None
        for candidate in self.dynamic:
            if not candidate.handlers:
                continue
            m = candidate.regex.match(path)
            if m is None:
                continue
            try:
                converted = {k: candidate.convertors[k].convert(v) for k, v in m.groupdict().items()}
            except ValueError:
                continue  # as in dispatch: a value its convertor refuses (a 5000-digit int) is no match
            if not found:
                params = converted
            found.append(candidate)
        return (found[0] if found else None), params, found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        root_path = scope.get("root_path")
        # Strip the root path only at a segment boundary: root "/api" must not turn "/apix" into "x".
        if root_path and path.startswith(root_path) and path[len(root_path) : len(root_path) + 1] in ("", "/"):
            path = path[len(root_path) :]
        partial: _Entry | None = None
        if scope["type"] == "http":
            entry = self.static.get(path)
            if entry is not None:
                method = scope["method"]
                handler = entry.handlers.get(method)
                if handler is not None:
                    scope["route"] = entry.routes.get(method, entry.route)
                    await handler(scope, receive, send)
                    return
                # A pattern may still serve this method (GET /users/me next to DELETE /users/{id}).
                partial = entry
        else:
            entry = self.static_ws.get(path)
            if entry is not None and entry.websocket is not None:
                scope["route"] = entry.route
                await entry.websocket(scope, receive, send)
                return
        await self._dispatch_dynamic(path, scope, receive, send, partial)

    async def _dispatch_dynamic(
        self, path: str, scope: Scope, receive: Receive, send: Send, partial: _Entry | None = None
    ) -> None:
        is_http = scope["type"] == "http"
        for entry in self.dynamic:
            if is_http:
                if not entry.handlers:
                    continue
            elif entry.websocket is None:
                continue
            match = entry.regex.match(path)
            if match is None:
                continue
            handler = entry.handlers.get(scope["method"]) if is_http else entry.websocket
            if handler is None:
                partial = partial or entry
                continue
            convertors = entry.convertors
            try:
                params = {k: convertors[k].convert(v) for k, v in match.groupdict().items()}
            except ValueError:
                continue
            outer = scope.get("path_params")
            if outer:  # under a mount with parameters ("/users/{uid}"): its values too, as in Starlette
                params = {**outer, **params}
            scope["path_params"] = params
            scope["route"] = entry.routes.get(scope["method"], entry.route) if is_http else entry.route
            await handler(scope, receive, send)
            return
        if partial is not None:
            await self._method_not_allowed(partial, scope, receive, send)
            return
        for mount in self.mounts:
            matched = _mount_match(mount, path)
            if matched is not None:
                prefix, mount_params = matched
                child = dict(scope)
                child["app_root_path"] = scope.get("app_root_path", scope.get("root_path", ""))
                child["root_path"] = scope.get("root_path", "") + prefix
                if mount_params is not None:  # "/users/{uid:int}": the mount's own values, for the mounted app
                    child["path_params"] = {**scope.get("path_params", {}), **mount_params}
                child["ketch.mount"] = mount
                # url_for resolves names from the outermost app, so a mounted app's URLs keep their mount prefix.
                child.setdefault("router", scope.get("app"))
                if scope["type"] != "http":
                    await mount.app(child, receive, send)
                    return

                async def send_marking(message: Message) -> None:
                    # The mounted app sees a copy of the scope: record its response start in ours.
                    if message["type"] == "http.response.start":
                        scope[RESPONSE_STARTED] = True
                    await send(message)

                await mount.app(child, receive, send_marking)
                return
        await self._not_found(path, scope, receive, send)

    async def _method_not_allowed(self, entry: _Entry, scope: Scope, receive: Receive, send: Send) -> None:
        exc = HTTPException(405, headers={"Allow": entry.allow})
        await self._error(exc, scope, receive, send)

    async def _not_found(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000, "reason": ""})
            return
        if self.redirect_slashes and path not in ("", "/"):
            target = path[:-1] if path.endswith("/") else path + "/"
            # NOTE: a path like "//evil.com" would make a protocol-relative Location: never redirect to one.
            if not target.startswith(("//", "/\\")) and "\\" not in target[:2]:
                entry, _, _ = self.match(target)
                if entry is not None:
                    await self._redirect(target, scope, receive, send)
                    return
        await self._error(HTTPException(404), scope, receive, send)

    async def _redirect(self, target: str, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        location = f"{scope.get('scheme', 'http')}://{request.host}"
        location += quote(scope.get("root_path", "") + target, safe="/:@!$&'()*+,;=-._~")
        query = scope.get("query_string", b"")
        if query:
            location += "?" + query.decode("latin-1")
        await RedirectResponse(location, status_code=307)(scope, receive, send)

    async def _error(self, exc: HTTPException, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.handlers.response_for(request, exc)
        if scope.get("method") == "HEAD":
            response = _drop_body(response)
        await response(scope, receive, send)


def compile_router(
    root: Router,
    planner: Planner,
    *,
    base_limits: Limits,
    app_handlers: Sequence[Mapping[Any, Callable[..., Any]]],
    make_handlers: Callable[[Sequence[Mapping[Any, Callable[..., Any]]]], ExceptionHandlers],
    redirect_slashes: bool = True,
    automatic_options: bool = True,
    include_root_middleware: bool = False,
    app: Any = None,
) -> CompiledRouter:
    """Plan every route under ``root`` and compile the table that requests are matched against.

    ``app_handlers`` are the app-level handler maps (user's, then defaults), tried after every router's own.
    """
    static: dict[str, _Entry] = {}
    static_ws: dict[str, _Entry] = {}
    dynamic: list[_Entry] = []
    by_key: dict[tuple[str, str], _Entry] = {}
    mounts: list[Mount] = []
    for walked in walk(root):
        route = walked.route
        if isinstance(route, Mount):
            mounts.append(_relocated_mount(route, walked.path))
            continue
        context = _context(walked, base_limits, app_handlers, make_handlers, include_root_middleware, app)
        regex, convertors = _path_regex(walked.path)
        kind = "ws" if isinstance(route, WebSocketRoute) else "http"
        key = (walked.path, kind)
        entry = by_key.get(key)
        if entry is None:
            entry = by_key[key] = _Entry(route, walked.path, regex, convertors)
            if regex is not None:
                dynamic.append(entry)
            else:
                (static if kind == "http" else static_ws)[walked.path] = entry
            entry.middleware = _scoped_middleware(walked, include_root_middleware)
        middleware = _scoped_middleware(walked, include_root_middleware)
        if isinstance(route, WebSocketRoute):
            entry.websocket = _wrap(_planner_for(route, planner).plan_websocket(route, context), middleware)
            continue
        assert isinstance(route, Route)
        route_planner = _planner_for(route, planner)
        planned: dict[str, ASGIApp] = {}
        for method in sorted(route.methods):
            if method in entry.handlers:
                continue  # the first registration for a path and method wins, as in every peer
            # HEAD is served by the GET plan (planned once: planning builds validators, which is not free).
            target = "GET" if method == "HEAD" else method
            handler = planned.get(target)
            if handler is None:
                handler = planned[target] = _wrap(route_planner.plan_http(route, target, context), middleware)
            entry.handlers[method] = _drop_body(handler) if method == "HEAD" else handler
            entry.routes[method] = route
            if method in route.options.get("unlisted_methods", ()):
                entry.unlisted.add(method)
    for entry in by_key.values():
        if entry.handlers and automatic_options and "OPTIONS" not in entry.handlers:
            entry.handlers["OPTIONS"] = _wrap(_options_responder(entry), entry.middleware)
        entry.allow = ", ".join(sorted(set(entry.handlers) - entry.unlisted))
    return CompiledRouter(static, static_ws, dynamic, mounts, make_handlers([*app_handlers]), redirect_slashes)


def _planner_for(route: Route | WebSocketRoute, default: Planner) -> Planner:
    """A route may name its own planner (``options["planner"]``): how a face plans the routes it registers."""
    planner: Planner | None = route.options.get("planner")
    return planner if planner is not None else default


def _path_regex(path: str) -> tuple[Any, dict[str, Convertor]]:
    from ketch.routing.convertors import compile_path

    regex, _, convertors = compile_path(path)
    return regex, convertors


def _mount_match(mount: Mount, path: str) -> tuple[str, dict[str, Any] | None] | None:
    """The part of ``path`` a mount serves (moved into ``root_path``) and the values of the mount's own path
    parameters (None when it has none), or None when the mount does not match."""
    if len(mount.param_convertors) == 1:  # only the trailing "{path:path}": a plain prefix test
        if not mount.path or path == mount.path or path.startswith(mount.path + "/"):
            return mount.path, None
        return None
    regex = mount.regex
    assert regex is not None  # a Mount always has one
    match = regex.match(path) or regex.match(path + "/")
    if match is None:
        return None
    convertors = mount.param_convertors
    try:
        params = {key: convertors[key].convert(value) for key, value in match.groupdict().items() if key != "path"}
    except ValueError:
        return None
    return path[: match.start("path") - 1], params


def _relocated_mount(mount: Mount, full_path: str) -> Mount:
    if full_path == mount.path:
        return mount
    return Mount(full_path, mount.app, name=mount.name)


def _context(
    walked: WalkedRoute,
    base_limits: Limits,
    app_handlers: Sequence[Mapping[Any, Callable[..., Any]]],
    make_handlers: Callable[[Sequence[Mapping[Any, Callable[..., Any]]]], ExceptionHandlers],
    include_root: bool,
    app: Any,
) -> PlanContext:
    limits = base_limits
    routers = walked.routers if include_root else walked.routers[1:]
    for router in routers:
        if router.limit_changes:
            limits = limits.with_changes(**router.limit_changes)
    options = getattr(walked.route, "options", {})
    if options.get("limits"):
        limits = options["limits"]
    if "max_body_size" in options:
        limits = limits.with_changes(max_body_size=options["max_body_size"])
    levels = [r.exception_handlers for r in reversed(routers)]
    return PlanContext(
        path=walked.path,
        limits=limits,
        handlers=make_handlers([*levels, *app_handlers]),
        routers=walked.routers,
        includes=walked.includes,
        app=app,
    )


def _scoped_middleware(walked: WalkedRoute, include_root: bool) -> list[Any]:
    routers = walked.routers if include_root else walked.routers[1:]
    return [m for router in routers for m in router.user_middleware]


def _wrap(app: ASGIApp, middleware: list[Any]) -> ASGIApp:
    if not middleware:
        return app
    for spec in reversed(middleware):
        app = spec.build(app)
    return _marking_start(app)


def _marking_start(app: ASGIApp) -> ASGIApp:
    """Record a response start in the scope for apps that are not ketch responses (middleware, mounted apps), so
    the error layer knows whether a 500 can still be sent."""

    async def marked(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_marking(message: Message) -> None:
            if message["type"] == "http.response.start":
                scope[RESPONSE_STARTED] = True
            await send(message)

        await app(scope, receive, send_marking)

    return marked
