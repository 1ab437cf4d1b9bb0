"""``fastapi.applications``: ``FastAPI`` is a ketch app with FastAPI's constructor and defaults.

Only defaults live here: a GET route does not answer HEAD and an ``OPTIONS`` request to a path that does not define
it gets 405 (as in FastAPI); responses set cookies without ``HttpOnly`` unless asked (Starlette's ``set_cookie``).
The OpenAPI document lists only what FastAPI's lists (not the statuses ketch itself may answer with), and there is
no Scalar page; the docs pages load their assets from the app, not from a CDN. WebSocket handshakes from other sites
are accepted, cookies or not, as in FastAPI (``websocket_origins=["*"]``; a list of origins turns ketch's check on).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from ketch.app import Ketch
from ketch.compat.fastapi.routing import APIRouter, _given
from ketch.routing.route import BaseRoute
from ketch.routing.router import Middleware

__all__ = ["FastAPI"]


class FastAPI(Ketch):
    """A FastAPI application: ``app = FastAPI()``, then ``@app.get("/")``..., served by ketch."""

    automatic_head = False
    openapi_framework_responses = False

    def __init__(
        self,
        *,
        debug: bool = False,
        routes: list[BaseRoute] | None = None,
        title: str = "FastAPI",
        summary: str | None = None,
        description: str = "",
        version: str = "0.1.0",
        openapi_url: str | None = "/openapi.json",
        openapi_tags: list[dict[str, Any]] | None = None,
        servers: list[dict[str, Any]] | None = None,
        dependencies: Sequence[Any] | None = None,
        default_response_class: type[Any] | None = None,
        redirect_slashes: bool = True,
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect",
        swagger_ui_init_oauth: dict[str, Any] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: dict[Any, Callable[..., Any]] | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Callable[[Any], AbstractAsyncContextManager[Any]] | None = None,
        terms_of_service: str | None = None,
        contact: dict[str, Any] | None = None,
        license_info: dict[str, Any] | None = None,
        openapi_prefix: str = "",
        root_path: str = "",
        root_path_in_servers: bool = True,
        responses: dict[int | str, dict[str, Any]] | None = None,
        callbacks: list[BaseRoute] | None = None,
        webhooks: APIRouter | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        swagger_ui_parameters: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[Any], str] | None = None,
        separate_input_output_schemas: bool = True,
        openapi_external_docs: dict[str, Any] | None = None,
        strict_content_type: bool = True,
        telemetry: Any = None,
        websocket_origins: Sequence[str] = ("*",),
        startup_timeout: float | None = None,
        **extra: Any,
    ) -> None:
        root_path = root_path or openapi_prefix
        super().__init__(
            debug=debug,
            routes=routes,
            middleware=middleware,
            exception_handlers=exception_handlers,
            lifespan=lifespan,
            on_startup=on_startup,
            on_shutdown=on_shutdown,
            redirect_slashes=redirect_slashes,
            automatic_options=False,
            root_path=root_path,
            websocket_origins=websocket_origins,
            startup_timeout=startup_timeout,
            title=title,
            version=version,
            summary=summary,
            description=description,
            openapi_url=openapi_url,
            docs_url=docs_url,
            redoc_url=redoc_url,
            scalar_url=None,
            swagger_ui_oauth2_redirect_url=swagger_ui_oauth2_redirect_url,
            swagger_ui_init_oauth=swagger_ui_init_oauth,
            swagger_ui_parameters=swagger_ui_parameters,
            openapi_tags=openapi_tags,
            servers=servers,
            terms_of_service=terms_of_service,
            contact=contact,
            license_info=license_info,
            root_path_in_servers=root_path_in_servers,
            webhooks=webhooks,
            separate_input_output_schemas=separate_input_output_schemas,
            openapi_external_docs=openapi_external_docs,
            **_given(
                dependencies=dependencies,
                default_response_class=default_response_class,
                responses=responses,
                callbacks=callbacks,
                deprecated=deprecated,
                include_in_schema=None if include_in_schema else False,
                generate_unique_id_function=generate_unique_id_function,
                strict_content_type=None if strict_content_type else False,
            ),
        )
        # NOTE: for a Flask-style app ``root_path`` names its folder; FastAPI's is the ASGI root path.
        self.root_path = root_path
        self.extra = extra
        # FastAPI apps delegate to ``app.router``; a ketch app is its own router.
        self.router = self
