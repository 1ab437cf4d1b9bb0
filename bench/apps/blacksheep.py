"""BlackSheep, as its docs show: ``@get``/``@post`` handlers on an ``Application``, query parameters bound by name
and type, a pydantic model through ``FromJSON``, and constructor injection from ``app.services`` (rodi) for the
dependency chain; its providers are sync by design, so only ``deps_sync`` applies."""

from __future__ import annotations

from typing import Any, cast

from blacksheep import Application, FromJSON, Response, Router, json, text
from blacksheep.exceptions import HTTPException
from pydantic import BaseModel, Field
from rodi import Container

from ._shared import Db, Repo, Settings

__all__ = ["app", "many_routes"]

LABEL = "BlackSheep"
KIND = "asgi"
ROLE = "peer"
DISTRIBUTION = "blacksheep"
SCENARIOS = ("plaintext", "json", "items", "users", "deps_sync")
MISSING = {
    "deps": "its DI container (rodi) has no async providers",
    "classic": "not written: no Flask-style request/session globals",
}
SERVERS = ("uvicorn",)

app = Application(router=Router())
get, post = app.router.get, app.router.post


@get("/plaintext")
async def plaintext() -> Response:
    return text("Hello, world!")


@get("/json")
async def json_hello() -> Response:
    return json({"message": "Hello, world!"})


@get("/items/{item_id}")
async def items(item_id: int, q: str | None = None, limit: int = 10) -> Response:
    if q is not None and len(q) > 50:
        raise HTTPException(422, "q: at most 50 characters")
    if not 1 <= limit <= 100:
        raise HTTPException(422, "limit: must be between 1 and 100")
    return json({"id": item_id, "q": q, "limit": limit})


class User(BaseModel):
    name: str
    email: str
    age: int = Field(ge=0)
    tags: list[str]


@post("/users")
async def users(data: FromJSON[User]) -> Response:
    return json(data.value.model_dump(), status=201)


services = cast(Container, app.services)  # rodi's container, typed as a protocol
services.add_scoped(Settings)
services.add_scoped(Db)
services.add_scoped(Repo)


@get("/deps-sync")
async def deps_sync(repo: Repo) -> Response:
    return json(repo.get_user(1))


def many_routes(n: int) -> Any:
    many = Application(router=Router())
    for i in range(n):
        many.router.add_get(f"/r{i}/{{item_id}}", _numbered(i))
    return many


def _numbered(i: int) -> Any:
    async def route(item_id: int) -> Response:
        return json({"route": i, "id": item_id})

    return route
