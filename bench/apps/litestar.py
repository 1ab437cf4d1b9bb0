"""Litestar, as its docs show: handler decorators with typed parameters, ``Parameter`` constraints, a
``msgspec.Struct`` body, and ``Provide`` dependencies (sync providers with ``sync_to_thread=False``, as the docs
advise for non-blocking code)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Litestar, get, post
from litestar.di import Provide
from litestar.params import Parameter

from ._shared import Db, Repo, Settings

__all__ = ["app", "many_routes"]

LABEL = "Litestar"
KIND = "asgi"
ROLE = "peer"
DISTRIBUTION = "litestar"
SCENARIOS = ("plaintext", "json", "items", "users", "deps", "deps_sync")
MISSING = {"classic": "no Flask-style request/session globals; sessions need an extra backend"}
SERVERS = ("uvicorn",)


@get("/plaintext")
async def plaintext() -> str:
    return "Hello, world!"


@get("/json")
async def json_hello() -> dict[str, str]:
    return {"message": "Hello, world!"}


@get("/items/{item_id:int}")
async def items(
    item_id: int,
    q: Annotated[str | None, Parameter(max_length=50)] = None,
    limit: Annotated[int, Parameter(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    return {"id": item_id, "q": q, "limit": limit}


class User(msgspec.Struct):
    name: str
    email: str
    age: Annotated[int, msgspec.Meta(ge=0)]
    tags: list[str]


@post("/users")
async def users(data: User) -> User:
    return data


async def provide_settings() -> Settings:
    return Settings()


async def provide_db(settings: Settings) -> Db:
    return Db(settings)


async def provide_repo(db: Db) -> Repo:
    return Repo(db)


@get(
    "/deps",
    dependencies={
        "settings": Provide(provide_settings),
        "db": Provide(provide_db),
        "repo": Provide(provide_repo),
    },
)
async def deps(repo: Repo) -> dict[str, Any]:
    return repo.get_user(1)


def provide_settings_sync() -> Settings:
    return Settings()


def provide_db_sync(settings: Settings) -> Db:
    return Db(settings)


def provide_repo_sync(db: Db) -> Repo:
    return Repo(db)


@get(
    "/deps-sync",
    dependencies={
        "settings": Provide(provide_settings_sync, sync_to_thread=False),
        "db": Provide(provide_db_sync, sync_to_thread=False),
        "repo": Provide(provide_repo_sync, sync_to_thread=False),
    },
)
async def deps_sync(repo: Repo) -> dict[str, Any]:
    return repo.get_user(1)


app = Litestar(route_handlers=[plaintext, json_hello, items, users, deps, deps_sync])


def many_routes(n: int) -> Any:
    return Litestar(route_handlers=[_numbered(i) for i in range(n)])


def _numbered(i: int) -> Any:
    async def route(item_id: int) -> dict[str, int]:
        return {"route": i, "id": item_id}

    return get(f"/r{i}/{{item_id:int}}", name=f"r{i}")(route)
