"""The OpenAPI side of the app: its document settings, ``app.openapi()``, and the routes that serve the docs.

``Ketch`` mixes this in. The settings are attributes with FastAPI's names (``app.title``, ``app.openapi_url``,
``app.docs_url``...), read when the document is first built and when the docs routes are added, at start-up. The
docs routes come first in the route table (as in FastAPI), so a catch-all route cannot hide them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ketch.openapi.docs import (
    DEFAULT_ASSETS_URL,
    NO_FAVICON,
    get_redoc_html,
    get_scalar_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from ketch.openapi.routes import WebhookRouter
from ketch.requests import Request
from ketch.responses import JSONResponse, Response
from ketch.routing.route import BaseRoute, Route
from ketch.routing.router import Router, WalkedRoute, walk
from ketch.routing.urls import NoMatchFound, url_path_for

if TYPE_CHECKING:
    from ketch.openapi.routes import OperationRoute

__all__ = ["DOCS_CONTENT_SECURITY_POLICY", "DocumentedApp"]

# The docs pages load scripts, styles, images and fonts from the app only: what a UI would fetch from elsewhere
# (ReDoc's attribution logo, a web font) is refused by the browser before any request leaves. Calls to the API
# itself ("Try it out") may go to any server the document lists.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; connect-src *"
)


class DocumentedApp:
    """The OpenAPI face of :class:`~ketch.Ketch` (a mixin: ``Ketch`` calls :meth:`_init_openapi`)."""

    # A ketch app's document lists, for every operation, the statuses ketch itself may answer with (400, 401, 413),
    # and stays valid OpenAPI 3.1 for streams. False generates exactly FastAPI's document (``ketch.compat.fastapi``).
    openapi_framework_responses = True
    # The docs pages' icon (``app.docs_favicon_url = "/static/favicon.png"``); None: no icon, and no request for one.
    docs_favicon_url: str | None = None

    entries: list[Any]
    planner: Any
    limits: Any
    route_defaults: dict[str, Any]

    def _init_openapi(
        self,
        *,
        title: str,
        version: str,
        summary: str | None,
        description: str,
        openapi_url: str | None,
        openapi_tags: list[dict[str, Any]] | None,
        servers: list[dict[str, Any]] | None,
        docs_url: str | None,
        redoc_url: str | None,
        scalar_url: str | None,
        docs_assets_url: str | None,
        swagger_ui_oauth2_redirect_url: str | None,
        swagger_ui_init_oauth: dict[str, Any] | None,
        swagger_ui_parameters: dict[str, Any] | None,
        scalar_configuration: dict[str, Any] | None,
        terms_of_service: str | None,
        contact: dict[str, Any] | None,
        license_info: dict[str, Any] | None,
        root_path_in_servers: bool,
        webhooks: Router | None,
        separate_input_output_schemas: bool,
        openapi_external_docs: dict[str, Any] | None,
    ) -> None:
        self.title = title
        self.version = version
        self.summary = summary
        self.description = description
        self.openapi_url = openapi_url
        self.openapi_tags = openapi_tags
        self.openapi_version = "3.1.0"
        self.servers = servers or []
        self.docs_url = docs_url
        self.redoc_url = redoc_url
        self.scalar_url = scalar_url
        self.docs_assets_url = docs_assets_url
        self.swagger_ui_oauth2_redirect_url = swagger_ui_oauth2_redirect_url
        self.swagger_ui_init_oauth = swagger_ui_init_oauth
        self.swagger_ui_parameters = swagger_ui_parameters
        self.scalar_configuration = scalar_configuration
        self.terms_of_service = terms_of_service
        self.contact = contact
        self.license_info = license_info
        self.root_path_in_servers = root_path_in_servers
        self.webhooks: Router = webhooks if webhooks is not None else WebhookRouter()
        self.separate_input_output_schemas = separate_input_output_schemas
        self.openapi_external_docs = openapi_external_docs
        self.openapi_schema: dict[str, Any] | None = None
        self._openapi_routes: tuple[int, ...] | None = None

    # -- the document --------------------------------------------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        """The app's OpenAPI document, built on first use and kept in ``app.openapi_schema``.

        It is built again only if routes were added since. Replace this method (``app.openapi = custom``) to
        change the document, as with FastAPI.
        """
        version = self._routes_version()
        if not self.openapi_schema or self._openapi_routes != version:
            from ketch.openapi.generate import get_openapi, webhook_routes

            self.openapi_schema = get_openapi(
                title=self.title,
                version=self.version,
                openapi_version=self.openapi_version,
                summary=self.summary,
                description=self.description,
                terms_of_service=self.terms_of_service,
                contact=self.contact,
                license_info=self.license_info,
                routes=self.openapi_routes(),
                webhooks=webhook_routes(self.webhooks),
                tags=self.openapi_tags,
                servers=self.servers,
                separate_input_output_schemas=self.separate_input_output_schemas,
                external_docs=self.openapi_external_docs,
                fastapi_compatible=not self.openapi_framework_responses,
                max_body_size=getattr(self.limits, "max_body_size", None),
            )
            self._openapi_routes = version
        return self.openapi_schema

    def openapi_routes(self) -> list[OperationRoute]:
        """The app's routes as the document sees them (see ``openapi/routes.py``)."""
        from ketch.openapi.routes import document_routes

        assert isinstance(self, Router)
        return list(document_routes(self, self._is_typed))

    def _is_typed(self, route: Route) -> bool:
        from ketch._plan.typed import TypedPlanner

        planner = route.options.get("planner") or self.planner
        return isinstance(planner, TypedPlanner)

    def _routes_version(self) -> tuple[int, ...]:
        assert isinstance(self, Router)
        routes = [walked.route for walked in walk(self)]
        webhooks = self.webhooks.routes if isinstance(self.webhooks, Router) else []
        return tuple(id(route) for route in [*routes, *webhooks])

    # -- the docs routes -------------------------------------------------------------------------------------------

    @contextmanager
    def docs_routes_in_table(self) -> Iterator[None]:
        """Put the document and docs routes first in the route table while it is compiled (at start-up).

        They are served, but not listed in ``app.routes``: those are the routes the app registered.
        """
        routes = self.docs_routes()
        if not routes:
            yield
            return
        registered = self.entries
        self.entries = [*routes, *registered]
        try:
            yield
        finally:
            self.entries = registered

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        """The path of the route called ``name``; the docs routes count too (``"swagger_ui_html"``, ``"openapi"``,
        ``"redoc_html"``, ``"scalar_html"``), as in FastAPI, though ``app.routes`` does not list them."""
        assert isinstance(self, Router)
        try:
            return Router.url_path_for(self, name, **path_params)
        except NoMatchFound:
            docs = [
                WalkedRoute(route, route.path, (self,), ()) for route in self.docs_routes() if isinstance(route, Route)
            ]
            return url_path_for(docs, name, path_params)

    def docs_routes(self) -> list[BaseRoute]:
        """The routes serving the document, the docs pages and their assets, as the settings say."""
        if not self.openapi_url:
            return []
        routes: list[BaseRoute] = [self._route(self.openapi_url, self._serve_openapi, "openapi")]
        if self.docs_url:
            routes.append(self._route(self.docs_url, self._serve_swagger_ui, "swagger_ui_html"))
            if self.swagger_ui_oauth2_redirect_url:
                redirect = self._route(self.swagger_ui_oauth2_redirect_url, self._serve_oauth2_redirect, None)
                routes.append(redirect)
        if self.redoc_url:
            routes.append(self._route(self.redoc_url, self._serve_redoc, "redoc_html"))
        if self.scalar_url:
            routes.append(self._route(self.scalar_url, self._serve_scalar, "scalar_html"))
        if self.docs_assets_url:
            assets_path = self.docs_assets_url.rstrip("/") + "/{name}"
            routes.append(self._route(assets_path, self._serve_asset, "docs_asset"))
        return routes

    def _route(self, path: str, endpoint: Any, name: str | None) -> Route:
        # Each endpoint takes only the request: every planner can plan it.
        return Route(path, endpoint, methods=["GET"], name=name, include_in_schema=False)

    def _urls(self, request: Request) -> tuple[str, str, str]:
        """(root path, the document's URL, the assets' URL) as the browser must ask for them."""
        root_path = str(request.scope.get("root_path", "")).rstrip("/")
        assets = root_path + (self.docs_assets_url or DEFAULT_ASSETS_URL).rstrip("/")
        return root_path, root_path + str(self.openapi_url), assets

    def _favicon(self, request: Request) -> str:
        url = self.docs_favicon_url
        if not url:
            return NO_FAVICON
        if url.startswith("/"):
            return str(request.scope.get("root_path", "")).rstrip("/") + url
        return url

    async def _serve_openapi(self, request: Request) -> Response:
        root_path = str(request.scope.get("root_path", "")).rstrip("/")
        schema = self.openapi()
        if root_path and self.root_path_in_servers:
            server_urls = {server.get("url") for server in schema.get("servers", [])}
            if root_path not in server_urls:
                schema = {**schema, "servers": [{"url": root_path}, *schema.get("servers", [])]}
        return JSONResponse(schema)

    async def _serve_swagger_ui(self, request: Request) -> Response:
        root_path, openapi_url, assets = self._urls(request)
        redirect = self.swagger_ui_oauth2_redirect_url
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{self.title} - Swagger UI",
            swagger_js_url=assets + "/swagger-ui-bundle.js",
            swagger_css_url=assets + "/swagger-ui.css",
            swagger_favicon_url=self._favicon(request),
            oauth2_redirect_url=root_path + redirect if redirect else None,
            init_oauth=self.swagger_ui_init_oauth,
            swagger_ui_parameters=self.swagger_ui_parameters,
        )
        return _offline(page)

    async def _serve_oauth2_redirect(self, request: Request) -> Response:
        return get_swagger_ui_oauth2_redirect_html()

    async def _serve_redoc(self, request: Request) -> Response:
        _, openapi_url, assets = self._urls(request)
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{self.title} - ReDoc",
            redoc_js_url=assets + "/redoc.standalone.mjs",
            redoc_favicon_url=self._favicon(request),
        )
        return _offline(page)

    async def _serve_scalar(self, request: Request) -> Response:
        _, openapi_url, assets = self._urls(request)
        page = get_scalar_html(
            openapi_url=openapi_url,
            title=f"{self.title} - Scalar",
            scalar_js_url=assets + "/scalar-api-reference.js",
            scalar_favicon_url=self._favicon(request),
            configuration=self.scalar_configuration,
        )
        return _offline(page)

    async def _serve_asset(self, request: Request) -> Response:
        from ketch.openapi.assets import asset_response

        return asset_response(str(request.path_params["name"]), request.headers.get("if-none-match"))


def _offline(page: Response) -> Response:
    page.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
    return page
