"""ketch's typed face, written as FastAPI's tutorial would be: typed parameters, ``Query`` constraints, a pydantic
model, ``Depends``. The same code as ``fastapi.py`` with ``ketch`` imports, except that the sync providers of
``deps_sync`` never block and say so (``sync_to_thread=False``, as ketch's docs advise and as the Litestar app
does): they run on the event loop. ``ketch_typed_pool`` measures the same chain on the thread pool (the default)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from ketch import Depends, Ketch, Query

from ._shared import Db, Repo, Settings

__all__ = ["app"]

LABEL = "ketch (typed)"
KIND = "asgi"
ROLE = "ketch"
DISTRIBUTION = "ketch"
SCENARIOS = ("items", "users", "deps", "deps_sync")
MISSING = {
    "plaintext": "same code as ketch",
    "json": "same code as ketch",
    "classic": "the classic face is a separate app (ketch_classic)",
}
SERVERS = ("uvicorn", "granian")

app = Ketch()


@app.get("/items/{item_id}")
async def items(
    item_id: int,
    q: Annotated[str | None, Query(max_length=50)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    return {"id": item_id, "q": q, "limit": limit}


class User(BaseModel):
    name: str
    email: str
    age: int = Field(ge=0)
    tags: list[str]


@app.post("/users", status_code=201)
async def users(user: User) -> User:
    return user


async def get_settings() -> Settings:
    return Settings()


async def get_db(settings: Annotated[Settings, Depends(get_settings)]) -> Db:
    return Db(settings)


async def get_repo(db: Annotated[Db, Depends(get_db)]) -> Repo:
    return Repo(db)


@app.get("/deps")
async def deps(repo: Annotated[Repo, Depends(get_repo)]) -> dict[str, Any]:
    return repo.get_user(1)


def get_settings_sync() -> Settings:
    return Settings()


def get_db_sync(settings: Annotated[Settings, Depends(get_settings_sync, sync_to_thread=False)]) -> Db:
    return Db(settings)


def get_repo_sync(db: Annotated[Db, Depends(get_db_sync, sync_to_thread=False)]) -> Repo:
    return Repo(db)


@app.get("/deps-sync")
async def deps_sync(repo: Annotated[Repo, Depends(get_repo_sync, sync_to_thread=False)]) -> dict[str, Any]:
    return repo.get_user(1)
