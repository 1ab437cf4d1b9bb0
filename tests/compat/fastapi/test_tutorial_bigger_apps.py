"""FastAPI's "Bigger Applications - Multiple Files" (``APIRouter`` with prefixes, tags, dependencies and responses,
included at several levels) and "Lifespan Events"."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

from contextlib import asynccontextmanager
from typing import Annotated, Any

from ._diff import Req, clients, compare

fake_items_db = {"plumbus": {"name": "Plumbus"}, "gun": {"name": "Portal Gun"}}


def build(fastapi: Any, starlette: Any) -> Any:
    Depends, Header, HTTPException, APIRouter = (
        fastapi.Depends,
        fastapi.Header,
        fastapi.HTTPException,
        fastapi.APIRouter,
    )
    events: list[str] = []

    async def get_token_header(x_token: Annotated[str, Header()]):
        if x_token != "fake-super-secret-token":
            raise HTTPException(status_code=400, detail="X-Token header invalid")

    async def get_query_token(token: str):
        if token != "jessica":
            raise HTTPException(status_code=400, detail="No Jessica token provided")

    users = APIRouter()

    @users.get("/users/", tags=["users"])
    async def read_users():
        return [{"username": "Rick"}, {"username": "Morty"}]

    @users.get("/users/me", tags=["users"])
    async def read_user_me():
        return {"username": "fakecurrentuser"}

    @users.get("/users/{username}", tags=["users"])
    async def read_user(username: str):
        return {"username": username}

    items = APIRouter(
        prefix="/items",
        tags=["items"],
        dependencies=[Depends(get_token_header)],
        responses={404: {"description": "Not found"}},
    )

    @items.get("/")
    async def read_items():
        return fake_items_db

    @items.get("/{item_id}")
    async def read_item(item_id: str):
        if item_id not in fake_items_db:
            raise HTTPException(status_code=404, detail="Item not found")
        return {"name": fake_items_db[item_id]["name"], "item_id": item_id}

    @items.put("/{item_id}", tags=["custom"], responses={403: {"description": "Operation forbidden"}})
    async def update_item(item_id: str):
        if item_id != "plumbus":
            raise HTTPException(status_code=403, detail="You can only update the item: plumbus")
        return {"item_id": item_id, "name": "The great Plumbus"}

    admin = APIRouter()

    @admin.post("/")
    async def update_admin():
        return {"message": "Admin getting schwifty"}

    nested = APIRouter(prefix="/nested")
    leaf = APIRouter(prefix="/leaf")

    @leaf.get("/hello")
    def hello():
        return {"hello": "leaf"}

    nested.include_router(leaf)

    @asynccontextmanager
    async def lifespan(app: Any):
        events.append("startup")
        yield
        events.append("shutdown")

    app = fastapi.FastAPI(dependencies=[Depends(get_query_token)], lifespan=lifespan)
    app.state.events = events
    app.include_router(users)
    app.include_router(items)
    app.include_router(
        admin,
        prefix="/admin",
        tags=["admin"],
        dependencies=[Depends(get_token_header)],
        responses={418: {"description": "I'm a teapot"}},
    )
    app.include_router(nested, prefix="/api")

    @app.get("/")
    async def root():
        return {"message": "Hello Bigger Applications!"}

    @app.get("/events")
    def read_events():
        return events

    return app


TOKEN = {"x-token": "fake-super-secret-token"}


def test_routers_prefixes_and_dependencies() -> None:
    compare(
        build,
        [
            Req("GET", "/users/?token=jessica"),
            Req("GET", "/users/"),
            Req("GET", "/users/?token=monica"),
            Req("GET", "/users/me?token=jessica"),
            Req("GET", "/users/foo?token=jessica"),
            Req("GET", "/items?token=jessica", headers=TOKEN),
            Req("GET", "/items/?token=jessica", headers=TOKEN),
            Req("GET", "/items/?token=jessica"),
            Req("GET", "/items/plumbus?token=jessica", headers=TOKEN),
            Req("GET", "/items/bar?token=jessica", headers=TOKEN),
            Req("PUT", "/items/plumbus?token=jessica", headers=TOKEN),
            Req("PUT", "/items/bar?token=jessica", headers=TOKEN),
            Req("POST", "/admin/?token=jessica", headers=TOKEN),
            Req("POST", "/admin/?token=jessica", headers={"x-token": "invalid"}),
            Req("GET", "/admin/?token=jessica", headers=TOKEN),
            Req("GET", "/api/nested/leaf/hello?token=jessica"),
            Req("GET", "/?token=jessica"),
            Req("GET", "/"),
        ],
    )


def test_lifespan_events() -> None:
    apps = []
    with clients(build) as (expected_client, actual_client):
        for client in (expected_client, actual_client):
            assert client.get("/events?token=jessica").json() == ["startup"]
            apps.append(client.app)
    assert [app.state.events for app in apps] == [["startup", "shutdown"]] * 2


def test_url_path_for_sees_the_prefixes() -> None:
    names = [
        ("read_item", {"item_id": "plumbus"}),
        ("hello", {}),
        ("update_admin", {}),
        ("read_user", {"username": "x"}),
    ]
    with clients(build) as (expected_client, actual_client):
        paths = [
            [client.app.url_path_for(name, **params) for name, params in names]
            for client in (expected_client, actual_client)
        ]
    assert paths[1] == paths[0]
