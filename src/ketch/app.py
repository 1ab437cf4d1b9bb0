"""The Ketch application: registration for both faces, planning at start-up, and the ASGI entry point."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from ketch._classic_app import ClassicApp
from ketch._plan.dependencies import AppDependencies
from ketch._plan.typed import TypedPlanner
from ketch.concurrency import configure_thread_pool
from ketch.datastructures import State
from ketch.exception_handlers import ExceptionHandlers, default_handlers
from ketch.lifespan import LifespanRunner
from ketch.limits import DEFAULT_LIMITS, Limits
from ketch.middleware.errors import ServerErrorMiddleware
from ketch.openapi.documented import DocumentedApp
from ketch.routing.matcher import CompiledRouter, Planner, compile_router
from ketch.routing.route import BaseRoute
from ketch.routing.router import Middleware, Router
from ketch.types import ASGIApp, Receive, Scope, Send
from ketch.websockets import allowed_origins

__all__ = ["Ketch"]


class Ketch(ClassicApp, DocumentedApp, Router):
    """A ketch application: an ASGI 3 app for HTTP, WebSocket and lifespan.

    Routes, middleware and handlers are recorded as they are registered; at start-up (lifespan, or the first
    request when the server sends no lifespan) every route is planned and the middleware stack is built, once.

    Args:
        import_name: the app's module (``Ketch(__name__)``, as in Flask): turns on Flask's defaults (HTML error
            pages for unmatched URLs, strict slashes, a ``/static`` folder, an instance folder).
        debug: show tracebacks in 500 responses, to loopback clients only. Never on in production.
        routes: routes to start with.
        middleware: app-wide middleware, outermost first.
        exception_handlers: ``{status code or exception class: handler(request, exc)}``.
        lifespan: an async context manager factory ``lifespan(app)``; a mapping it yields becomes lifespan
            state, visible as ``request.state`` in every request.
        on_startup: callables run at start-up, before ``lifespan`` is entered.
        on_shutdown: callables run at shutdown, after ``lifespan`` is left.
        startup_timeout: seconds start-up (planning, ``on_startup``, entering ``lifespan``) may take; past that it is
            cancelled and reported to the server as failed, so the app never serves. ``None``: wait forever.
        limits: request limits for the whole app (see :class:`~ketch.limits.Limits`).
        max_body_size: shortcut for ``limits=Limits(max_body_size=...)``; ``None`` means no limit.
        thread_pool_size: how many threads sync endpoints may use at once (default 40).
        redirect_slashes: redirect ``/path/`` to ``/path`` (and back) when only the other one exists.
        automatic_options: answer ``OPTIONS`` with ``Allow`` on every path that does not define it.
        root_path: the path prefix the app is served under behind a proxy, when the server does not set it.
        websocket_origins: the other sites whose pages may open the app's WebSockets with the user's cookies
            (``["https://app.example.com"]``; ``["*"]``: any site). By default a handshake that carries a
            ``Cookie`` from another site's page is refused with 403 (cross-site WebSocket hijacking).
        planner: how routes are planned; faces supply their own.
        title, version, summary, description, terms_of_service, contact, license_info, openapi_tags, servers,
            openapi_external_docs: the OpenAPI document's metadata (FastAPI's arguments of the same names).
        openapi_url: where the document is served (``None``: no document and no docs pages).
        docs_url, redoc_url, scalar_url: where Swagger UI, ReDoc and Scalar are served (``None`` switches one off);
            they load only assets served by the app itself, from ``docs_assets_url``.
        swagger_ui_oauth2_redirect_url, swagger_ui_init_oauth, swagger_ui_parameters, scalar_configuration: the
            docs UIs' settings.
        root_path_in_servers: list the request's root path as the document's first server.
        webhooks: a router of the webhooks the app sends (default: an empty ``app.webhooks``).
        separate_input_output_schemas: describe a model used both ways as ``-Input`` and ``-Output`` schemas.
        **route_defaults: route options applied to every route (``dependencies``, ``responses``, ...).
    """

    def __init__(
        self,
        import_name: str | None = None,
        *,
        debug: bool = False,
        routes: Sequence[BaseRoute] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: dict[Any, Callable[..., Any]] | None = None,
        lifespan: Callable[[Any], AbstractAsyncContextManager[Any]] | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        startup_timeout: float | None = None,
        limits: Limits | None = None,
        max_body_size: int | None | Any = ...,
        thread_pool_size: int | None = None,
        redirect_slashes: bool = True,
        automatic_options: bool = True,
        root_path: str = "",
        websocket_origins: Sequence[str] = (),
        planner: Planner | None = None,
        title: str = "Ketch",
        version: str = "0.1.0",
        summary: str | None = None,
        description: str = "",
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        scalar_url: str | None = "/scalar",
        docs_assets_url: str | None = "/docs-assets",
        swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect",
        swagger_ui_init_oauth: dict[str, Any] | None = None,
        swagger_ui_parameters: dict[str, Any] | None = None,
        scalar_configuration: dict[str, Any] | None = None,
        openapi_tags: list[dict[str, Any]] | None = None,
        servers: list[dict[str, Any]] | None = None,
        terms_of_service: str | None = None,
        contact: dict[str, Any] | None = None,
        license_info: dict[str, Any] | None = None,
        root_path_in_servers: bool = True,
        webhooks: Router | None = None,
        separate_input_output_schemas: bool = True,
        openapi_external_docs: dict[str, Any] | None = None,
        **route_defaults: Any,
    ) -> None:
        super().__init__(routes=routes, exception_handlers=exception_handlers, **route_defaults)
        self._init_openapi(
            title=title,
            version=version,
            summary=summary,
            description=description,
            openapi_url=openapi_url,
            docs_url=docs_url,
            redoc_url=redoc_url,
            scalar_url=scalar_url,
            docs_assets_url=docs_assets_url,
            swagger_ui_oauth2_redirect_url=swagger_ui_oauth2_redirect_url,
            swagger_ui_init_oauth=swagger_ui_init_oauth,
            swagger_ui_parameters=swagger_ui_parameters,
            scalar_configuration=scalar_configuration,
            openapi_tags=openapi_tags,
            servers=servers,
            terms_of_service=terms_of_service,
            contact=contact,
            license_info=license_info,
            root_path_in_servers=root_path_in_servers,
            webhooks=webhooks,
            separate_input_output_schemas=separate_input_output_schemas,
            openapi_external_docs=openapi_external_docs,
        )
        self.user_middleware = list(middleware or [])
        self.debug = debug
        self.state = State()
        self.limits = limits or DEFAULT_LIMITS
        if max_body_size is not ...:
            self.limits = self.limits.with_changes(max_body_size=max_body_size)
        self.lifespan_context = lifespan
        self.on_startup: list[Callable[[], Any]] = list(on_startup or [])
        self.on_shutdown: list[Callable[[], Any]] = list(on_shutdown or [])
        if startup_timeout is not None and not startup_timeout > 0:
            raise ValueError("startup_timeout must be a positive number of seconds, or None")
        self.startup_timeout = startup_timeout
        self.redirect_slashes = redirect_slashes
        self.automatic_options = automatic_options
        # NOTE: not ``self.root_path``: for a Flask-style app that names the app's folder (``app.root_path``).
        self.asgi_root_path = root_path
        allowed_origins(websocket_origins)  # a malformed origin fails here, not when the routes are planned
        self.websocket_origins = list(websocket_origins)
        self.planner: Planner = planner or TypedPlanner()
        # {dependency: replacement}, read per request by typed routes (tests swap dependencies here).
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        # Values of Depends(..., scope="app"): created at start-up, torn down at shutdown.
        self.app_dependencies = AppDependencies()
        if thread_pool_size is not None:
            configure_thread_pool(thread_pool_size)
        self.started = False
        self._router: CompiledRouter | None = None
        self._stack: ASGIApp | None = None
        self._direct: CompiledRouter | None = None
        self._errors: ServerErrorMiddleware | None = None
        self._on_change = self._invalidate
        self._init_classic(import_name)

    # -- start-up ----------------------------------------------------------------------------------------------

    def _invalidate(self) -> None:
        self._router = None
        self._stack = None
        self._direct = None

    def add_middleware(self, cls: Callable[..., ASGIApp], *args: Any, **kwargs: Any) -> None:
        """Add app-wide middleware ``cls(app, *args, **kwargs)``; the last added runs first. Not after start-up."""
        if self.started:
            raise RuntimeError("Cannot add middleware after an application has started")
        super().add_middleware(cls, *args, **kwargs)

    def prepare(self) -> None:
        """Plan every route and build the middleware stack. Runs once at start-up; safe to call again."""
        if self._stack is not None:
            return
        user_handlers = dict(self.exception_handlers)
        # Both keys mean "the 500 handler"; neither may stay behind as an ordinary handler.
        status_handler, class_handler = user_handlers.pop(500, None), user_handlers.pop(Exception, None)
        server_error_handler = status_handler or class_handler
        with self.docs_routes_in_table():
            self._router = compile_router(
                self,
                self.planner,
                base_limits=self.limits,
                app_handlers=[user_handlers, default_handlers()],
                make_handlers=ExceptionHandlers,
                redirect_slashes=self.redirect_slashes,
                automatic_options=self.automatic_options,
                app=self,
            )
        app: ASGIApp = self._router
        for spec in reversed(self.user_middleware):
            app = spec.build(app)
        self._errors = ServerErrorMiddleware(app, handler=server_error_handler, debug=self.debug)
        # PERF: with no app-wide middleware, HTTP requests go straight to the router and the error layer is a
        # try/except in __call__ (every ketch response records its start in the scope, so nothing wraps send).
        self._direct = None if self.user_middleware else self._router
        self._stack = self._errors
        self.started = True

    # -- the ASGI entry point ----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if self.asgi_root_path and not scope.get("root_path"):
            self._apply_root_path(scope)
        direct = self._direct
        if direct is None or scope["type"] != "http":
            await self._call_other(scope, receive, send)
            return
        try:
            # PERF: a static path (and no root path) is two dict lookups away from its plan: no router call.
            if not scope.get("root_path"):
                methods = direct.static_methods.get(scope["path"])
                if methods is not None:
                    served = methods.get(scope["method"])
                    if served is not None:
                        scope["route"] = served[1]
                        await served[0](scope, receive, send)
                        return
            await direct(scope, receive, send)
        except Exception as exc:
            errors = self._errors
            assert errors is not None
            await errors.handle(exc, scope, receive, send)

    def _apply_root_path(self, scope: Scope) -> None:
        # Servers always send a root_path (often ""), so an empty one is replaced, not kept. As the ASGI spec has
        # it, the full path includes the root path: a proxy that stripped the prefix gets it back in URLs.
        root_path = self.asgi_root_path
        scope["root_path"] = root_path
        if "path" in scope and not scope["path"].startswith(root_path + "/"):
            scope["path"] = root_path + scope["path"]
            if scope.get("raw_path"):
                scope["raw_path"] = root_path.encode() + scope["raw_path"]

    async def _call_other(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Lifespan, WebSockets, the first request (which plans the app), and apps with app-wide middleware."""
        if scope["type"] == "lifespan":
            # prepare() runs inside the runner, so a planning error is reported as a failed start-up.
            startup = [self.app_dependencies.start, *self.on_startup]
            shutdown = [*self.on_shutdown, self.app_dependencies.stop]
            runner = LifespanRunner(self, self.prepare, self.lifespan_context, startup, shutdown, self.startup_timeout)
            await runner(scope, receive, send)
            return
        if self._stack is None:
            self.prepare()
            if self._direct is not None and scope["type"] == "http":
                await self(scope, receive, send)
                return
        stack = self._stack
        assert stack is not None
        await stack(scope, receive, send)

    # -- hooks ---------------------------------------------------------------------------------------------------

    def on_event(self, event: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
        """Register a ``"startup"`` or ``"shutdown"`` hook (prefer ``lifespan=``)."""
        if event not in ("startup", "shutdown"):
            raise ValueError('event must be "startup" or "shutdown"')

        def decorator(func: Callable[[], Any]) -> Callable[[], Any]:
            (self.on_startup if event == "startup" else self.on_shutdown).append(func)
            return func

        return decorator
