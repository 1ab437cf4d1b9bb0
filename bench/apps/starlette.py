"""Starlette, as its docs show: ``Route`` tables, request handlers returning ``Response`` objects; no validator
ships with it, so items and users are validated by hand; the classic scenario uses ``SessionMiddleware`` and
``Jinja2Templates`` on a separate app."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from ._shared import SECRET, TEMPLATES, validate_item_query, validate_user

__all__ = ["app", "classic_app", "many_routes", "session_cookie"]

LABEL = "Starlette"
KIND = "asgi"
ROLE = "peer"
DISTRIBUTION = "starlette"
SCENARIOS = ("plaintext", "json", "items", "users", "classic")
MISSING = {"deps": "no dependency injection", "deps_sync": "no dependency injection"}
SERVERS = ("uvicorn",)
APPS = {"classic": "classic_app"}


async def plaintext(request: Request) -> Response:
    return PlainTextResponse("Hello, world!")


async def json_hello(request: Request) -> Response:
    return JSONResponse({"message": "Hello, world!"})


async def items(request: Request) -> Response:
    try:
        q, limit = validate_item_query(request.query_params.get("q"), request.query_params.get("limit"))
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return JSONResponse({"id": request.path_params["item_id"], "q": q, "limit": limit})


async def users(request: Request) -> Response:
    try:
        user = validate_user(await request.json())
    except ValueError as exc:  # invalid JSON is a ValueError too
        raise HTTPException(422, str(exc)) from None
    return JSONResponse(user, status_code=201)


app = Starlette(
    routes=[
        Route("/plaintext", plaintext),
        Route("/json", json_hello),
        Route("/items/{item_id:int}", items),
        Route("/users", users, methods=["POST"]),
    ]
)

templates = Jinja2Templates(directory=TEMPLATES)


async def classic(request: Request) -> Response:
    context = {"name": request.query_params.get("name", "stranger"), "user": request.session.get("user")}
    return templates.TemplateResponse(request, "hello.html", context)


classic_app = Starlette(
    routes=[Route("/classic", classic)], middleware=[Middleware(SessionMiddleware, secret_key=SECRET)]
)


def session_cookie() -> str:
    import base64
    import json

    from itsdangerous import TimestampSigner

    data = base64.b64encode(json.dumps({"user": "ada"}).encode())
    return "session=" + TimestampSigner(SECRET).sign(data).decode()


def many_routes(n: int) -> Any:
    return Starlette(routes=[Route(f"/r{i}/{{item_id:int}}", _numbered(i)) for i in range(n)])


def _numbered(i: int) -> Any:
    async def route(request: Request) -> Response:
        return JSONResponse({"route": i, "id": request.path_params["item_id"]})

    return route
