"""Classic (Flask-style) plans: one route and method, run the way Flask runs a request.

The request sequence is Flask's ``wsgi_app``: push the request context, url_value_preprocessors, before_request
functions, the view, the return value made into a response, after_request functions, the session saved, teardown,
pop. It is written once, as a generator that *yields* each user function it needs called, and is driven one of two
ways, chosen at start-up:

- a sync view: the whole sequence runs in **one** thread-pool call, as it would in a WSGI worker, so per-request
  resources (a SQLite connection in ``g``) stay on one thread; an ``async def`` hook is handed to the event loop;
- an async view: the sequence runs on the event loop and sync hooks go to the thread pool.

The body is read (under the route's limits) on the event loop before either, so ``request.form`` and
``request.get_json()`` are plain attribute reads in the view. This module knows the classic face only through the
app object it is given (``ClassicFace``): it never imports ``ctx.py`` or the globals (STYLE.md rule 6).
"""

from __future__ import annotations

import asyncio
import http
import inspect
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Mapping
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

from ketch._plan.classic_rules import HostDispatch
from ketch.concurrency import is_async_callable, run_in_threadpool
from ketch.datastructures import Headers, MutableHeaders
from ketch.exception_handlers import ExceptionHandlers, default_handlers
from ketch.exceptions import ClientDisconnect, HTTPException, RequestTimeout, RequestTooLarge
from ketch.limits import Limits
from ketch.responses import Response, StreamingResponse
from ketch.routing.matcher import PlanContext
from ketch.routing.route import Route, WebSocketRoute
from ketch.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "ClassicPlan",
    "ClassicPlanner",
    "InternalServerError",
    "convert_return_value",
    "error_page",
    "http_status_of",
    "run_sync",
]

_T = TypeVar("_T")
_Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
_Lifecycle = Generator[_Call, Any, Response]

_NO_ARGS: dict[str, Any] = {}
_NEVER_AWAITABLE = frozenset({type(None), str, bytes, dict, list, tuple, Response})
# The event loop that a worker thread running a sync request may hand coroutines to.
_handoff_loop: ContextVar[asyncio.AbstractEventLoop] = ContextVar("ketch.handoff_loop")
# Default ketch handlers never answer a classic route: a classic route renders Flask's HTML error pages instead.
_DEFAULT_HANDLERS = frozenset(default_handlers().values())


class ClassicFace(Protocol):
    """What a classic plan needs from the app (the classic face's app mixin provides it)."""

    config: Any
    request_class: type[Any]

    @property
    def logger(self) -> Any: ...

    view_functions: dict[str, Callable[..., Any]]
    exception_handlers: dict[Any, Callable[..., Any]]
    routes: list[Any]
    url_map: Any

    def routes_by_host(self) -> bool: ...

    def make_default_options_response(self) -> Any: ...

    def refuse_options(self) -> Any: ...

    def shows_tracebacks_to(self, request: Any) -> bool: ...

    def request_context(self, request: Any) -> Any: ...

    def redirect(self, location: str, code: int = 302) -> Response: ...

    def make_response(self, rv: Any) -> Response: ...

    def find_error_handler(self, exc: BaseException, blueprints: list[str]) -> Callable[..., Any] | None: ...

    def trap_http_exception(self, exc: BaseException) -> bool: ...

    def map_http_exception(self, exc: Exception) -> Exception: ...

    def hooks_for(self, kind: str, blueprints: list[str]) -> list[Callable[..., Any]]: ...

    def csrf_check(self, endpoint: str, view: Callable[..., Any]) -> Callable[[Any], None] | None: ...

    def send_signal(self, name: str, **kwargs: Any) -> None: ...

    def log_exception(self, request: Any, exc: BaseException) -> None: ...

    def save_request_session(self, ctx: Any, response: Response) -> None: ...

    @property
    def testing(self) -> bool: ...

    @property
    def debug(self) -> bool: ...


class RoutingRedirect(HTTPException):
    """A redirect decided by routing (strict slashes); its response is sent as it is."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class InternalServerError(HTTPException):
    """The 500 a classic error handler for 500 receives; ``original_exception`` is what was raised."""

    def __init__(self, description: Any = None, original_exception: BaseException | None = None) -> None:
        super().__init__(500, description)
        self.original_exception = original_exception


# -- running user functions --------------------------------------------------------------------------------


def run_sync(func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Call ``func``; if it returns an awaitable, wait for it (on the request's event loop from a worker thread,
    else on a fresh loop). Never call this on the event loop with an async function."""
    result: Any = func(*args, **kwargs)
    if not inspect.isawaitable(result):
        return result  # type: ignore[no-any-return]
    return wait_for(result)  # type: ignore[no-any-return]


def wait_for(awaitable: Any) -> Any:
    """Wait for ``awaitable`` from sync code (see :func:`run_sync`)."""

    async def await_it() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        if inspect.iscoroutine(awaitable):
            awaitable.close()  # never awaited: closed, so Python does not warn about it
        raise RuntimeError("An async function was called from sync code on the event loop; await it instead")
    loop = _handoff_loop.get(None)
    if loop is not None and loop.is_running():
        return asyncio.run_coroutine_threadsafe(await_it(), loop).result()
    return asyncio.run(await_it())


def _drive_sync(lifecycle: _Lifecycle, loop: asyncio.AbstractEventLoop) -> Response:
    """Run a request's lifecycle on this (worker) thread, calling each function it yields."""
    token = _handoff_loop.set(loop)
    try:
        value: Any = None
        error: Exception | None = None
        while True:
            try:
                func, args, kwargs = lifecycle.send(value) if error is None else lifecycle.throw(error)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            error = None
            try:
                value = func(*args, **kwargs)
                # PERF: what views and hooks usually return is never awaitable; only other values are looked at.
                if type(value) not in _NEVER_AWAITABLE and inspect.isawaitable(value):
                    value = wait_for(value)
            except Exception as exc:
                value, error = None, exc
    finally:
        _handoff_loop.reset(token)


async def _drive_async(
    lifecycle: _Lifecycle, kinds: dict[Callable[..., Any], bool], sync_on_loop: bool = False
) -> Response:
    """Run a request's lifecycle on the event loop: async functions awaited, sync ones on the thread pool (or,
    for a route declared ``sync_to_thread=False``, called right here on the loop).

    ``kinds`` says, for the functions known at start-up, whether each is async.
    """
    value: Any = None
    error: Exception | None = None
    while True:
        try:
            func, args, kwargs = lifecycle.send(value) if error is None else lifecycle.throw(error)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        error = None
        try:
            is_async = kinds.get(func)
            if is_async is None:
                is_async = is_async_callable(func)
            if is_async:
                value = await func(*args, **kwargs)
            else:
                value = func(*args, **kwargs) if sync_on_loop else await run_in_threadpool(func, *args, **kwargs)
                if type(value) not in _NEVER_AWAITABLE and inspect.isawaitable(value):
                    value = await value
        except Exception as exc:
            value, error = None, exc


# -- errors and return values ------------------------------------------------------------------------------


def http_status_of(exc: BaseException) -> int | None:
    """The HTTP status of an HTTP exception (ketch's, or one with Werkzeug's ``code``), else None."""
    if isinstance(exc, HTTPException):
        return exc.status_code
    code = getattr(exc, "code", None)
    if isinstance(code, int) and hasattr(type(exc), "get_response"):
        return code
    return None


def _is_http_exception(exc: BaseException) -> bool:
    return isinstance(exc, HTTPException) or hasattr(type(exc), "get_response") and hasattr(exc, "code")


def _escape(text: str) -> str:
    # MarkupSafe's escaping, so error pages match Werkzeug's byte for byte.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;").replace('"', "&#34;")
    )


_DESCRIPTIONS = {
    400: "The browser (or proxy) sent a request that this server could not understand.",
    401: "The server could not verify that you are authorized to access the URL requested. You either supplied the "
    "wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials "
    "required.",
    403: "You don't have the permission to access the requested resource. It is either read-protected or not "
    "readable by the server.",
    404: "The requested URL was not found on the server. If you entered the URL manually please check your spelling "
    "and try again.",
    405: "The method is not allowed for the requested URL.",
    406: "The resource identified by the request is only capable of generating response entities which have content "
    "characteristics not acceptable according to the accept headers sent in the request.",
    408: "The server closed the network connection because the browser didn't finish the request within the "
    "specified time.",
    409: "A conflict happened while processing the request. The resource might have been modified while the request "
    "was being processed.",
    410: "The requested URL is no longer available on this server and there is no forwarding address. If you followed "
    "a link from a foreign page, please contact the author of this page.",
    411: "A request with this method requires a valid <code>Content-Length</code> header.",
    412: "The precondition on the request for the URL failed positive evaluation.",
    413: "The data value transmitted exceeds the capacity limit.",
    414: "The length of the requested URL exceeds the capacity limit for this server. The request cannot be processed.",
    415: "The server does not support the media type transmitted in the request.",
    416: "The server cannot provide the requested range.",
    417: "The server could not meet the requirements of the Expect header",
    418: "This server is a teapot, not a coffee machine",
    422: "The request was well-formed but was unable to be followed due to semantic errors.",
    423: "The resource that is being accessed is locked.",
    428: 'This request is required to be conditional; try using "If-Match" or "If-Unmodified-Since".',
    429: "This user has exceeded an allotted request count. Try again later.",
    431: "One or more header fields exceeds the maximum size.",
    451: "Unavailable for legal reasons.",
    500: "The server encountered an internal error and was unable to complete your request. Either the server is "
    "overloaded or there is an error in the application.",
    501: "The server does not support the action requested by the browser.",
    502: "The proxy server received an invalid response from an upstream server.",
    503: "The server is temporarily unable to service your request due to maintenance downtime or capacity problems. "
    "Please try again later.",
    504: "The connection to an upstream server timed out.",
    505: "The server does not support the HTTP protocol version used in the request.",
}


# Where Werkzeug's status names (shown on error pages) differ from the standard library's phrases.
_WERKZEUG_NAMES = {
    203: "Non Authoritative Information",
    207: "Multi Status",
    414: "Request URI Too Long",
    418: "I'm a teapot",
    511: "Network Authentication Failed",
}


def _phrase(code: int) -> str:
    if code in _WERKZEUG_NAMES:
        return _WERKZEUG_NAMES[code]
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return "Unknown Error"


def _std_phrase(code: int) -> str | None:
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return None


def error_page(exc: HTTPException, response_class: Callable[..., Response] = Response) -> Response:
    """The HTML page Werkzeug renders for an HTTP error (``<title>404 Not Found</title>`` ...), with the
    exception's headers. A ``detail`` other than the status phrase becomes the description."""
    code = exc.status_code
    name = _phrase(code)
    detail = exc.detail
    default = detail is None or detail == name or (isinstance(detail, str) and detail == _std_phrase(code))
    description = _DESCRIPTIONS.get(code, "") if default else str(detail)
    body = (
        "<!doctype html>\n<html lang=en>\n"
        f"<title>{code} {_escape(name)}</title>\n<h1>{_escape(name)}</h1>\n"
        f"<p>{_escape(description).replace(chr(10), '<br>')}</p>\n"
    )
    headers = dict(exc.headers or {})
    headers["content-type"] = "text/html; charset=utf-8"
    if response_class is Response:
        return Response(body, status_code=code, headers=headers)
    return response_class(body, status=code, headers=headers)


def convert_return_value(
    rv: Any,
    response_class: Callable[..., Response],
    json_response: Callable[[Any], Response],
    endpoint: str | None = None,
) -> Response:
    """Flask's return conventions: ``str``/``bytes`` -> HTML, ``dict``/``list`` -> JSON, generators stream,
    ``(body, status)``, ``(body, headers)``, ``(body, status, headers)``; a Response passes through."""
    status: Any = None
    headers: Any = None
    if isinstance(rv, tuple):
        if len(rv) == 3:
            rv, status, headers = rv
        elif len(rv) == 2:
            if isinstance(rv[1], Headers | dict | tuple | list):
                rv, headers = rv
            else:
                rv, status = rv
        else:
            raise TypeError(
                "The view function did not return a valid response tuple. The tuple must have the form "
                "(body, status, headers), (body, status), or (body, headers)."
            )
    if rv is None:
        raise TypeError(
            f"The view function for {endpoint!r} did not return a valid response. The function either returned "
            "None or ended without a return statement."
        )
    if not isinstance(rv, Response):
        if isinstance(rv, str | bytes | bytearray | Iterator | AsyncIterator):
            return response_class(rv, status=status, headers=headers)
        if isinstance(rv, dict | list):
            rv = json_response(rv)
        elif isinstance(rv, HTTPException):
            rv = error_page(rv, response_class)
        elif _is_http_exception(rv):
            rv = foreign_response(rv.get_response())
        elif _is_foreign_response(rv):
            rv = foreign_response(rv)
        else:
            raise TypeError(
                "The view function did not return a valid response. The return type must be a string, dict, list, "
                f"tuple with headers or status, Response instance, or WSGI callable, but it was a {type(rv).__name__}."
            )
    if status is not None:
        if isinstance(status, str | bytes | bytearray):
            text = status.decode("latin-1") if isinstance(status, bytes | bytearray) else status
            rv.status_code = int(text.strip().split(" ", 1)[0])
        else:
            rv.status_code = int(status)
    if headers:
        replace_headers(MutableHeaders(raw=rv.raw_headers), headers)
    return rv  # type: ignore[no-any-return]


def _is_foreign_response(value: Any) -> bool:
    return hasattr(value, "get_data") and hasattr(value, "status_code") and hasattr(value, "headers")


def foreign_response(response: Any) -> Response:
    """A ketch response from another framework's (a Werkzeug response: what ``werkzeug.utils.redirect`` or a
    Werkzeug HTTP exception's ``get_response()`` returns): same status, headers and body."""
    if getattr(response, "is_streamed", False):
        result: Response = StreamingResponse(response.response, status_code=response.status_code)
        result.raw_headers = []
    else:
        result = Response(response.get_data(), status_code=response.status_code)
        result.raw_headers = []
    target = MutableHeaders(raw=result.raw_headers)
    for key, value in response.headers.items():
        target.append(key, value)
    return result


def replace_headers(target: MutableHeaders, headers: Any) -> None:
    """Set each named header to the value(s) given, dropping its old lines (Werkzeug's ``Headers.update``)."""
    items = headers.items() if isinstance(headers, Mapping | Headers) else headers
    seen: set[str] = set()
    for key, value in items:
        if key.lower() not in seen:
            del target[key]
            seen.add(key.lower())
        for item in value if isinstance(value, list | tuple) else [value]:
            target.append(key, str(item))


# -- the planner and the plan ------------------------------------------------------------------------------


class ClassicPlanner:
    """Plans the routes ``app.route()`` / ``add_url_rule`` register (each names this planner in its options).

    When the app routes by host (a rule names a ``subdomain``/``host``, or ``host_matching``), every classic route
    is served by one :class:`~ketch._plan.classic_rules.HostDispatch`; otherwise each gets its own plan, and
    nothing about hosts is looked at.
    """

    def __init__(self, app: ClassicFace) -> None:
        self.app = app
        self._context: PlanContext | None = None
        self._dispatch: HostDispatch | None = None

    def plan_http(self, route: Route, method: str, context: PlanContext) -> ASGIApp:
        # Planned here even when dispatching by host, so a route's errors (a missing SECRET_KEY) stop the start-up.
        plan = ClassicPlan(self.app, route, method, context)
        if not self.app.routes_by_host():
            return plan
        # Every (re)planning resets the dispatch: it plans again, with this context, on its next request.
        self._context = context
        if self._dispatch is None:
            self._dispatch = HostDispatch(self.app, self._is_mine, self._plan_for, context.handlers)
        else:
            self._dispatch.reset(context.handlers)
        return self._dispatch

    def _is_mine(self, route: Any) -> bool:
        return route.options.get("planner") is self

    def _plan_for(self, route: Route, method: str) -> ASGIApp:
        assert self._context is not None
        return ClassicPlan(self.app, route, method, self._context)

    def plan_websocket(self, route: WebSocketRoute, context: PlanContext) -> ASGIApp:
        raise TypeError("Classic routes are HTTP only; register WebSocket endpoints with app.websocket()")


def _view_is_async(view: Callable[..., Any], method: str) -> bool:
    """Whether the view (or, for a class-based view, the method that will handle ``method``) is async."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(view_class, "get", None)
        if handler is None or not getattr(view_class, "dispatches_by_method", False):
            handler = view_class.dispatch_request
        return inspect.iscoroutinefunction(handler)
    return is_async_callable(view)


def _without_view_args(func: Callable[[], Any]) -> Callable[..., Any]:
    """Flask's automatic OPTIONS answer in place of the view (after the before_request functions, as in Flask)."""

    def options(**view_args: Any) -> Any:
        return func()

    return options


def _awaiting(view: Callable[..., Any]) -> Callable[..., Any]:
    async def call(**kwargs: Any) -> Any:
        rv = view(**kwargs)
        if inspect.isawaitable(rv):
            rv = await rv
        return rv

    return call


class ClassicPlan:
    """Serve one classic route and method: read the body, then run Flask's request sequence."""

    __slots__ = (
        "app",
        "rule",
        "endpoint",
        "view",
        "defaults",
        "limits",
        "handlers",
        "body_limit",
        "is_async",
        "on_loop",
        "lean",
        "preprocessors",
        "before",
        "after",
        "teardown",
        "teardown_app",
        "kinds",
        "csrf",
        "blueprints",
        "name",
    )

    def __init__(self, app: ClassicFace, route: Route, method: str, context: PlanContext) -> None:
        self.app = app
        self.rule = route.options["rule"]
        self.endpoint: str = self.rule.endpoint
        view = app.view_functions.get(self.endpoint, route.endpoint) if self.endpoint else route.endpoint
        if method == "OPTIONS" and "OPTIONS" not in self.rule.methods:
            view = _without_view_args(app.refuse_options)  # automatic OPTIONS turned off: 405, as in Flask
        elif method == "OPTIONS" and self.rule.provide_automatic_options:
            view = _without_view_args(app.make_default_options_response)
        self.is_async = _view_is_async(view, method)
        self.view = _awaiting(view) if self.is_async and not is_async_callable(view) else view
        self.on_loop = not self.is_async and not self.rule.sync_to_thread
        self.defaults: dict[str, Any] = dict(self.rule.defaults or {})
        self.limits = _limits_from_config(context.limits, app.config, route.options)
        self.handlers = context.handlers
        self.body_limit = self.limits.max_body_size
        self._hooks(_blueprint_names(self.endpoint))
        self.kinds[self.view] = self.is_async
        unsafe = method not in ("GET", "HEAD", "OPTIONS", "TRACE")
        self.csrf = app.csrf_check(self.endpoint, view) if unsafe else None
        self.name = getattr(view, "__qualname__", repr(view))
        # A route with no hooks and no CSRF check whose sequence runs on the loop takes the direct path.
        hooked = self.preprocessors or self.before or self.after or self.teardown or self.teardown_app
        self.lean = (self.is_async or self.on_loop) and not hooked and self.csrf is None

    def _hooks(self, blueprints: list[str]) -> None:
        app = self.app
        self.blueprints = blueprints
        self.preprocessors = app.hooks_for("url_value_preprocessor", blueprints)
        self.before = app.hooks_for("before_request", blueprints)
        self.after = app.hooks_for("after_request", blueprints)
        self.teardown = app.hooks_for("teardown_request", blueprints)
        self.teardown_app = app.hooks_for("teardown_appcontext", [])
        known = [*self.preprocessors, *self.before, *self.after, *self.teardown, *self.teardown_app]
        self.kinds = {func: is_async_callable(func) for func in known}

    @classmethod
    def for_errors(cls, app: ClassicFace, limits: Limits) -> ClassicPlan:
        """The plan that answers errors raised before any route matched (404, 405): app hooks only."""
        plan = cls.__new__(cls)
        plan.app = app
        plan.rule = None
        plan.endpoint = ""
        plan.view = None  # type: ignore[assignment]
        plan.is_async = False
        plan.on_loop = False
        plan.defaults = {}
        plan.limits = limits
        plan.handlers = ExceptionHandlers([app.exception_handlers])
        plan.body_limit = None
        plan._hooks([])
        plan.csrf = None
        plan.lean = False
        plan.name = "routing error"
        return plan

    def _new_request(self, scope: Scope, receive: Receive) -> Any:
        request = self.app.request_class(scope, receive, self.limits)
        rule = self.rule
        if rule is not None and rule.redirect_to is None:
            request.url_rule = rule
            params = scope.get("path_params")
            request.view_args = {**self.defaults, **params} if params else dict(self.defaults)
        return request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = self._new_request(scope, receive)
        try:
            if self.rule.redirect_to is not None:
                pending: HTTPException | None = self._slash_redirect(request)
            else:
                pending = await self._read_body(request, scope)
        except ClientDisconnect:
            return
        try:
            response = await self._run(request, pending)
            await response(scope, receive, send)
        finally:
            if request._form is not None:
                await request.close()

    async def respond(self, scope: Scope, receive: Receive, exc: HTTPException) -> Response:
        """Run the request sequence for an error raised before routing finished, and return the response."""
        request = self._new_request(scope, receive)
        request.routing_exception = exc
        return await self._run(request, exc)

    async def _run(self, request: Any, pending: HTTPException | None) -> Response:
        ctx = self.app.request_context(request)
        if self.lean:
            response = await self._lean_lifecycle(ctx, pending)
        elif self.is_async:
            response = await _drive_async(self._lifecycle(ctx, pending), self.kinds)
        elif self.on_loop:
            response = await _drive_async(self._lifecycle(ctx, pending), self.kinds, sync_on_loop=True)
        else:
            loop = asyncio.get_running_loop()
            response = await run_in_threadpool(_drive_sync, self._lifecycle(ctx, pending), loop)
        preserve = request.scope.get("ketch.preserve_context")
        if preserve is not None:
            preserve(ctx)
        return response

    def _slash_redirect(self, request: Any) -> HTTPException:
        """Strict slashes: ``/projects`` for the rule ``/projects/`` is a 308 to the URL with the slash."""
        location = request.base_url + "/"
        if request.query_string:
            location += "?" + request.query_string.decode("latin-1")
        return RoutingRedirect(self.app.redirect(location, 308))

    async def _read_body(self, request: Any, scope: Scope) -> HTTPException | None:
        """Read the body ahead of the view. A body over the limit, or one that stopped arriving (408), is returned
        (to raise before any hook runs); a malformed one is kept on the request and raised when the view touches
        ``form``/``data``."""
        headers = scope["headers"]
        has_body = False
        for key, value in headers:
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return HTTPException(400, "Invalid Content-Length header")
                if self.body_limit is not None and declared > self.body_limit:
                    return RequestTooLarge()
                has_body = declared > 0
                break
            if key == b"transfer-encoding":
                has_body = True
        if not has_body:
            return None
        try:
            await request.load_body()
        except (RequestTooLarge, RequestTimeout) as exc:  # no view sees half a body
            return exc
        except HTTPException as exc:
            request.body_error = exc
        return None

    # -- the request sequence (a generator of calls; see the module docstring) -------------------------------

    def _lifecycle(self, ctx: Any, pending: HTTPException | None) -> _Lifecycle:
        error: BaseException | None = None
        ctx.push()
        try:
            try:
                response = yield from self._full_dispatch(ctx, pending)
            except Exception as exc:
                error = exc
                response = yield from self._handle_exception(ctx, exc)
            return response
        finally:
            try:
                if ctx.streams == 0:  # else the last stream_with_context generator tears down when it ends
                    yield from self._teardown(ctx, error)
            finally:
                ctx.pop(error, teardown=False)

    async def _lean_lifecycle(self, ctx: Any, pending: HTTPException | None) -> Response:
        """:meth:`_lifecycle` for a route with no hooks and no CSRF check, on the loop: the same steps in the same
        order, without a generator per step. The rare branches (an error, an ``after_this_request`` function) are
        the general steps, driven as :meth:`_run` drives them."""
        app = self.app
        on_loop = self.on_loop
        error: BaseException | None = None
        ctx.push()
        try:
            try:
                try:
                    app.send_signal("request_started")
                    if pending is not None:
                        raise pending  # a routing error or a body over the limit: in place of the view
                    if self.is_async:
                        rv = await self.view(**ctx.request.view_args)
                    else:
                        rv = self.view(**ctx.request.view_args)
                        if type(rv) not in _NEVER_AWAITABLE and inspect.isawaitable(rv):
                            rv = await rv
                except Exception as exc:
                    rv = await _drive_async(self._handle_user_exception(ctx, exc), self.kinds, on_loop)
                if ctx._after_request_functions:
                    response = await _drive_async(self._finalize(ctx, rv), self.kinds, on_loop)
                else:
                    response = app.make_response(rv)
                    app.save_request_session(ctx, response)
                    app.send_signal("request_finished", response=response)
            except Exception as exc:
                error = exc
                response = await _drive_async(self._handle_exception(ctx, exc), self.kinds, on_loop)
            return response
        finally:
            try:
                if ctx.streams == 0:  # else the last stream_with_context generator tears down when it ends
                    app.send_signal("request_tearing_down", exc=error)
                    if ctx.owns_app_context:
                        app.send_signal("appcontext_tearing_down", exc=error)
            finally:
                ctx.pop(error, teardown=False)

    def _full_dispatch(self, ctx: Any, pending: HTTPException | None) -> _Lifecycle:
        app = self.app
        request = ctx.request
        try:
            app.send_signal("request_started")
            for func in self.preprocessors:
                yield func, (self.endpoint or None, request.view_args), _NO_ARGS
            if self.csrf is not None and pending is None:
                self.csrf(ctx)
            rv = None
            for func in self.before:
                rv = yield func, (), _NO_ARGS
                if rv is not None:
                    break
            if rv is None:
                if pending is not None:
                    raise pending  # a routing error or a body over the limit: in place of the view, as in Flask
                rv = yield self.view, (), request.view_args
        except Exception as exc:
            rv = yield from self._handle_user_exception(ctx, exc)
        return (yield from self._finalize(ctx, rv))

    def _handle_user_exception(self, ctx: Any, exc: Exception) -> Generator[_Call, Any, Any]:
        app = self.app
        exc = app.map_http_exception(exc)
        if _is_http_exception(exc) and not app.trap_http_exception(exc):
            response = getattr(exc, "response", None)
            if response is not None:
                return response  # abort(response)
            if http_status_of(exc) is None:
                return exc
        handler = app.find_error_handler(exc, self.blueprints)
        if handler is not None:
            return (yield handler, (exc,), _NO_ARGS)
        core = self.handlers.lookup(exc)
        if core is not None and core not in _DEFAULT_HANDLERS and not getattr(core, "classic_adapter", False):
            return (yield core, (ctx.request, exc), _NO_ARGS)
        if _is_http_exception(exc) and not app.trap_http_exception(exc):
            return exc
        raise exc

    def _handle_exception(self, ctx: Any, exc: Exception) -> _Lifecycle:
        app = self.app
        app.send_signal("got_request_exception", exception=exc)
        propagate = app.config.get("PROPAGATE_EXCEPTIONS")
        if propagate is None:
            # In debug, the error goes up to the debug page, which only loopback clients get: anyone else gets the
            # app's usual 500 (its handler for 500, or the generic page), never a traceback.
            propagate = app.testing or (app.debug and app.shows_tracebacks_to(ctx.request))
        if propagate:
            raise exc
        app.log_exception(ctx.request, exc)
        server_error: Any = InternalServerError(original_exception=exc)
        handler = app.find_error_handler(server_error, self.blueprints)
        if handler is not None:
            server_error = yield handler, (server_error,), _NO_ARGS
        return (yield from self._finalize(ctx, server_error, from_error_handler=True))

    def _finalize(self, ctx: Any, rv: Any, from_error_handler: bool = False) -> _Lifecycle:
        app = self.app
        response = app.make_response(rv)
        try:
            for func in ctx._after_request_functions:
                response = yield func, (response,), _NO_ARGS
            for func in self.after:
                response = yield func, (response,), _NO_ARGS
            app.save_request_session(ctx, response)
            app.send_signal("request_finished", response=response)
        except Exception as exc:
            if not from_error_handler:
                raise
            app.logger.error("Request finalizing failed with an error while handling an error", exc_info=exc)
        return response

    def _teardown(self, ctx: Any, error: BaseException | None) -> Generator[_Call, Any, None]:
        app = self.app
        for func in self.teardown:
            yield func, (error,), _NO_ARGS
        app.send_signal("request_tearing_down", exc=error)
        if ctx.owns_app_context:
            for func in self.teardown_app:
                yield func, (error,), _NO_ARGS
            app.send_signal("appcontext_tearing_down", exc=error)


def _blueprint_names(endpoint: str) -> list[str]:
    """``"a.b.view"`` -> ``["a.b", "a"]``: the blueprints a route belongs to, innermost first."""
    parts = endpoint.split(".")[:-1]
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def _limits_from_config(limits: Limits, config: Any, options: dict[str, Any]) -> Limits:
    """Flask's MAX_CONTENT_LENGTH, MAX_FORM_MEMORY_SIZE and MAX_FORM_PARTS, unless the route sets its own."""
    changes: dict[str, Any] = {}
    if "max_body_size" not in options and not options.get("limits"):
        value = config.get("MAX_CONTENT_LENGTH")
        if value is not None:
            changes["max_body_size"] = int(value)
    if config.get("MAX_FORM_MEMORY_SIZE") is not None:
        changes["max_part_size"] = int(config["MAX_FORM_MEMORY_SIZE"])
    if config.get("MAX_FORM_PARTS") is not None:
        changes["max_form_fields"] = int(config["MAX_FORM_PARTS"])
    return limits.with_changes(**changes) if changes else limits
