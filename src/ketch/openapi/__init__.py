"""OpenAPI 3.1 documents and the interactive docs (Swagger UI, ReDoc, Scalar) that read them, all offline.

An app serves its document at ``/openapi.json`` and the docs at ``/docs``, ``/redoc`` and ``/scalar`` unless told
otherwise (see :class:`~ketch.Ketch`); ``app.openapi()`` returns the document. ``get_openapi`` builds a document
from any routes, with FastAPI's arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ketch.openapi.routes import OperationRoute, WebhookRouter
from ketch.routing.route import BaseRoute
from ketch.routing.router import RouteList, Router

__all__ = ["OperationRoute", "WebhookRouter", "get_openapi"]


def get_openapi(
    *,
    title: str,
    version: str,
    routes: Router | Sequence[BaseRoute | OperationRoute],
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    webhooks: Router | Sequence[BaseRoute] | None = None,
    tags: list[dict[str, Any]] | None = None,
    servers: list[dict[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: dict[str, Any] | None = None,
    license_info: dict[str, Any] | None = None,
    separate_input_output_schemas: bool = True,
    external_docs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The OpenAPI document of ``routes``, as FastAPI's ``fastapi.openapi.utils.get_openapi`` builds it.

    Args:
        title: the API's title.
        version: the API's version (not the OpenAPI version).
        routes: an app or router, or ``app.routes`` as read (either way its routes with their prefixes, tags
            and settings from ``include_router``), or other routes, taken as they were registered.
        openapi_version: the ``openapi`` field.
        summary: a one-line summary.
        description: a longer description (Markdown).
        webhooks: the webhooks the API sends (``app.webhooks``).
        tags: tag metadata: ``[{"name": ..., "description": ...}]``.
        servers: ``[{"url": ..., "description": ...}]``.
        terms_of_service: a URL.
        contact: ``{"name": ..., "url": ..., "email": ...}``.
        license_info: ``{"name": ..., "identifier" or "url": ...}``.
        separate_input_output_schemas: describe a model used both ways as ``-Input`` and ``-Output`` schemas.
        external_docs: ``{"url": ..., "description": ...}``.
    """
    from ketch.openapi import generate

    return generate.get_openapi(
        title=title,
        version=version,
        routes=_routes(routes),
        openapi_version=openapi_version,
        summary=summary,
        description=description,
        webhooks=generate.webhook_routes(webhooks),
        tags=tags,
        servers=servers,
        terms_of_service=terms_of_service,
        contact=contact,
        license_info=license_info,
        separate_input_output_schemas=separate_input_output_schemas,
        external_docs=external_docs,
    )


def _routes(routes: Router | Sequence[BaseRoute | OperationRoute]) -> list[OperationRoute]:
    from ketch.openapi.routes import callback_routes, document_routes

    if isinstance(routes, RouteList) and [id(r) for r in routes] == [id(r) for r in routes.root.routes]:
        routes = routes.root  # ``app.routes`` as read: document the routes as the app reaches them
    if isinstance(routes, Router):
        is_typed = getattr(routes, "_is_typed", None) or _typed_by_default
        return list(document_routes(routes, is_typed))
    found: list[OperationRoute] = []
    for route in routes:
        if isinstance(route, OperationRoute):
            found.append(route)
        else:
            found.extend(callback_routes([route], typed=_typed_by_default(route)))
    return found


def _typed_by_default(route: Any) -> bool:
    from ketch._plan.typed import TypedPlanner

    planner = getattr(route, "options", {}).get("planner")
    return planner is None or isinstance(planner, TypedPlanner)
