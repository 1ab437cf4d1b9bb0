"""FastAPI, written as its tutorial does: typed parameters, ``Query`` constraints, a pydantic model, ``Depends``;
the classic scenario uses Starlette's ``SessionMiddleware`` and ``Jinja2Templates`` on a separate app."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware

from ._shared import SECRET, TEMPLATES, Db, Repo, Settings

__all__ = ["app", "classic_app", "many_routes", "session_cookie"]

LABEL = "FastAPI"
KIND = "asgi"
ROLE = "peer"
DISTRIBUTION = "fastapi"
SCENARIOS = ("plaintext", "json", "items", "users", "deps", "deps_sync", "classic")
SERVERS = ("uvicorn", "granian")
APPS = {"classic": "classic_app"}

app = FastAPI()


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return "Hello, world!"


@app.get("/json")
async def json_hello() -> dict[str, str]:
    return {"message": "Hello, world!"}


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


def get_db_sync(settings: Annotated[Settings, Depends(get_settings_sync)]) -> Db:
    return Db(settings)


def get_repo_sync(db: Annotated[Db, Depends(get_db_sync)]) -> Repo:
    return Repo(db)


@app.get("/deps-sync")
async def deps_sync(repo: Annotated[Repo, Depends(get_repo_sync)]) -> dict[str, Any]:
    return repo.get_user(1)


classic_app = FastAPI(middleware=[Middleware(SessionMiddleware, secret_key=SECRET)])
templates = Jinja2Templates(directory=TEMPLATES)


@classic_app.get("/classic", response_class=HTMLResponse)
async def classic(request: Request, name: str = "stranger") -> HTMLResponse:
    return templates.TemplateResponse(request, "hello.html", {"name": name, "user": request.session.get("user")})


def session_cookie() -> str:
    import base64
    import json

    from itsdangerous import TimestampSigner

    data = base64.b64encode(json.dumps({"user": "ada"}).encode())
    return "session=" + TimestampSigner(SECRET).sign(data).decode()


def many_routes(n: int) -> Any:
    many = FastAPI()
    for i in range(n):
        many.add_api_route(f"/r{i}/{{item_id}}", _numbered(i), methods=["GET"], name=f"r{i}")
    return many


def _numbered(i: int) -> Any:
    async def route(item_id: int) -> dict[str, int]:
        return {"route": i, "id": item_id}

    return route
