"""ketch's typed face with the ``deps_sync`` chain on the thread pool: plain ``def`` providers and the default
``Depends`` (FastAPI's semantics: every sync provider runs off the event loop; ketch runs the whole chain in one
thread hop). ``ketch_typed`` declares the same providers non-blocking instead."""

from __future__ import annotations

from typing import Annotated, Any

from ketch import Depends, Ketch

from ._shared import Db, Repo, Settings

__all__ = ["app"]

LABEL = "ketch (typed, sync providers on the thread pool)"
KIND = "asgi"
ROLE = "ketch"
DISTRIBUTION = "ketch"
SCENARIOS = ("deps_sync",)
MISSING = {
    "plaintext": "same code as ketch",
    "json": "same code as ketch",
    "items": "same code as ketch (typed)",
    "users": "same code as ketch (typed)",
    "deps": "same code as ketch (typed)",
    "classic": "the classic face is a separate app (ketch_classic)",
}
SERVERS = ("uvicorn",)

app = Ketch()


def get_settings_sync() -> Settings:
    return Settings()


def get_db_sync(settings: Annotated[Settings, Depends(get_settings_sync)]) -> Db:
    return Db(settings)


def get_repo_sync(db: Annotated[Db, Depends(get_db_sync)]) -> Repo:
    return Repo(db)


@app.get("/deps-sync")
async def deps_sync(repo: Annotated[Repo, Depends(get_repo_sync)]) -> dict[str, Any]:
    return repo.get_user(1)
