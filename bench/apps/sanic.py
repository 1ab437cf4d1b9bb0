"""Sanic, as its docs show: ``@app.get`` handlers taking the request, typed path parameters, ``text``/``json``
responses. Sanic ships no validator without sanic-ext, so items and users are validated by hand. Run here as an
ASGI app (uvicorn), not on Sanic's own server."""

from __future__ import annotations

from typing import Any

from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse, json, text

from ._shared import validate_item_query, validate_user

__all__ = ["app", "many_routes"]

LABEL = "Sanic"
KIND = "asgi"
ROLE = "peer"
DISTRIBUTION = "sanic"
SCENARIOS = ("plaintext", "json", "items", "users")
MISSING = {
    "deps": "dependency injection needs sanic-ext",
    "deps_sync": "dependency injection needs sanic-ext",
    "classic": "no sessions; templates need sanic-ext",
}
SERVERS = ("uvicorn",)

app = Sanic("bench")


@app.get("/plaintext")
async def plaintext(request: Request) -> HTTPResponse:
    return text("Hello, world!")


@app.get("/json")
async def json_hello(request: Request) -> HTTPResponse:
    return json({"message": "Hello, world!"})


@app.get("/items/<item_id:int>")
async def items(request: Request, item_id: int) -> HTTPResponse:
    try:
        q, limit = validate_item_query(request.args.get("q"), request.args.get("limit"))
    except ValueError as exc:
        raise SanicException(str(exc), status_code=422, quiet=True) from None
    return json({"id": item_id, "q": q, "limit": limit})


@app.post("/users")
async def users(request: Request) -> HTTPResponse:
    try:
        user = validate_user(request.json)  # a 400 already if the body is not JSON
    except ValueError as exc:
        raise SanicException(str(exc), status_code=422, quiet=True) from None
    return json(user, status=201)


def many_routes(n: int) -> Any:
    many = Sanic("many")
    for i in range(n):
        many.add_route(_numbered(i), f"/r{i}/<item_id:int>", name=f"r{i}")
    return many


def _numbered(i: int) -> Any:
    async def route(request: Request, item_id: int) -> HTTPResponse:
        return json({"route": i, "id": item_id})

    return route
