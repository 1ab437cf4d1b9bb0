"""FastAPI tutorial: "Dependencies" in all their forms (functions, classes, sub-dependencies, in path operation
decorators, global, with yield, parametrised instances, ``use_cache``), and "Testing Dependencies with Overrides"."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

from typing import Annotated, Any

from ._diff import Req, check, clients, compare

fake_items_db = [{"item_name": "Foo"}, {"item_name": "Bar"}, {"item_name": "Baz"}]


class OwnerError(Exception):
    pass


def build(fastapi: Any, starlette: Any) -> Any:
    Depends, Header, Cookie, HTTPException = fastapi.Depends, fastapi.Header, fastapi.Cookie, fastapi.HTTPException
    events: list[str] = []

    async def verify_key(x_key: Annotated[str, Header()]):
        if x_key != "fake-super-secret-key":
            raise HTTPException(status_code=400, detail="X-Key header invalid")
        return x_key

    app = fastapi.FastAPI(dependencies=[Depends(verify_key)])
    app.state.events = events

    async def common_parameters(q: str | None = None, skip: int = 0, limit: int = 100):
        return {"q": q, "skip": skip, "limit": limit}

    CommonsDep = Annotated[dict[str, Any], Depends(common_parameters)]

    @app.get("/items/")
    async def read_items(commons: CommonsDep):
        return commons

    @app.get("/users/")
    def read_users(commons: CommonsDep):
        return {"users": commons}

    class CommonQueryParams:
        def __init__(self, q: str | None = None, skip: int = 0, limit: int = 100):
            self.q = q
            self.skip = skip
            self.limit = limit

    @app.get("/class-items/")
    async def class_items(commons: Annotated[CommonQueryParams, Depends()]):
        response: dict[str, Any] = {}
        if commons.q:
            response.update({"q": commons.q})
        response.update({"items": fake_items_db[commons.skip : commons.skip + commons.limit]})
        return response

    def query_extractor(q: str | None = None):
        return q

    def query_or_cookie_extractor(
        q: Annotated[str, Depends(query_extractor)], last_query: Annotated[str | None, Cookie()] = None
    ):
        return q or last_query

    @app.get("/sub/")
    async def sub(query_or_default: Annotated[str, Depends(query_or_cookie_extractor)]):
        return {"q_or_cookie": query_or_default}

    calls = {"n": 0}

    def counted():
        calls["n"] += 1
        return calls["n"]

    def needs_counted(value: Annotated[int, Depends(counted)]):
        return value

    @app.get("/cached/")
    def cached(a: Annotated[int, Depends(counted)], b: Annotated[int, Depends(needs_counted)]):
        return {"a": a, "b": b, "same": a == b}

    @app.get("/uncached/")
    def uncached(a: Annotated[int, Depends(counted)], b: Annotated[int, Depends(counted, use_cache=False)]):
        return {"different": a != b}

    async def verify_token(x_token: Annotated[str, Header()]):
        if x_token != "fake-super-secret-token":
            raise HTTPException(status_code=400, detail="X-Token header invalid")

    @app.get("/decorated/", dependencies=[Depends(verify_token)])
    async def decorated():
        return [{"item": "Foo"}, {"item": "Bar"}]

    async def get_db():
        db = {"open": True}
        events.append("db opened")
        try:
            yield db
        finally:
            db["open"] = False
            events.append("db closed")

    @app.get("/yield/")
    async def with_db(db: Annotated[dict[str, bool], Depends(get_db)]):
        return {"db_open": db["open"]}

    data = {"plumbus": {"description": "Freshly pickled plumbus", "owner": "Morty"}}

    def get_username():
        try:
            yield "Rick"
        except OwnerError as e:
            events.append("owner error")
            raise HTTPException(status_code=400, detail=f"Owner error: {e}") from e

    @app.get("/owned/{item_id}")
    def owned(item_id: str, username: Annotated[str, Depends(get_username)]):
        if item_id not in data:
            raise HTTPException(status_code=404, detail="Item not found")
        item = data[item_id]
        if item["owner"] != username:
            raise OwnerError(username)
        return item

    def sync_gen_dep():
        events.append("sync gen enter")
        yield "sync"
        events.append("sync gen exit")

    @app.get("/sync-gen/")
    def sync_gen(value: Annotated[str, Depends(sync_gen_dep)]):
        return {"value": value}

    class FixedContentQueryChecker:
        def __init__(self, fixed_content: str):
            self.fixed_content = fixed_content

        def __call__(self, q: str = ""):
            return self.fixed_content in q if q else False

    checker = FixedContentQueryChecker("bar")

    @app.get("/query-checker/")
    async def query_checker(fixed_content_included: Annotated[bool, Depends(checker)]):
        return {"fixed_content_in_query": fixed_content_included}

    @app.get("/events/")
    def read_events():
        return events

    # What a test overrides: the dependency callables themselves.
    app.state.dependencies = {"common_parameters": common_parameters, "verify_key": verify_key}
    return app


KEY = {"x-key": "fake-super-secret-key"}


def test_function_dependencies_and_global_dependency() -> None:
    compare(
        build,
        [
            Req("GET", "/items/", headers=KEY),
            Req("GET", "/items/?q=foo&skip=5&limit=30", headers=KEY),
            Req("GET", "/users/?skip=x", headers=KEY),
            Req("GET", "/items/"),
            Req("GET", "/items/", headers={"x-key": "wrong"}),
            Req("GET", "/items/?limit=x", headers={"x-key": "wrong"}),
        ],
    )


def test_classes_as_dependencies_and_sub_dependencies() -> None:
    compare(
        build,
        [
            Req("GET", "/class-items/?q=foo&skip=1&limit=1", headers=KEY),
            Req("GET", "/class-items/?skip=bad", headers=KEY),
            Req("GET", "/sub/?q=x", headers=KEY),
            Req("GET", "/sub/", headers={**KEY, "cookie": "last_query=from-cookie"}),
            Req("GET", "/sub/", headers=KEY),
            Req("GET", "/query-checker/?q=foobar", headers=KEY),
            Req("GET", "/query-checker/?q=foo", headers=KEY),
            Req("GET", "/query-checker/", headers=KEY),
        ],
    )


def test_dependency_cache() -> None:
    compare(build, [Req("GET", "/cached/", headers=KEY), Req("GET", "/uncached/", headers=KEY)])
    with clients(build) as (expected_client, actual_client):
        for client in (expected_client, actual_client):
            assert client.get("/cached/", headers=KEY).json()["same"] is True


def test_dependencies_in_decorators() -> None:
    compare(
        build,
        [
            Req("GET", "/decorated/", headers={**KEY, "x-token": "fake-super-secret-token"}),
            Req("GET", "/decorated/", headers={**KEY, "x-token": "invalid"}),
            Req("GET", "/decorated/", headers=KEY),
            Req("GET", "/decorated/"),
        ],
    )


def test_dependencies_with_yield() -> None:
    with clients(build, raise_server_exceptions=False) as (expected_client, actual_client):
        script = [
            Req("GET", "/yield/", headers=KEY),
            Req("GET", "/sync-gen/", headers=KEY),
            Req("GET", "/owned/plumbus", headers=KEY),
            Req("GET", "/owned/portal-gun", headers=KEY),
            Req("GET", "/events/", headers=KEY),
        ]
        for req in script:
            check(
                req,
                expected_client.request(req.method, req.url, **req.kwargs),
                actual_client.request(req.method, req.url, **req.kwargs),
            )


def test_testing_dependencies_with_overrides() -> None:
    def build_overridden(fastapi: Any, starlette: Any) -> Any:
        app = build(fastapi, starlette)

        async def override_common_parameters(q: str | None = None):
            return {"q": q, "skip": 5, "limit": 10}

        async def no_key() -> None:
            return None

        dependencies = app.state.dependencies
        app.dependency_overrides[dependencies["common_parameters"]] = override_common_parameters
        app.dependency_overrides[dependencies["verify_key"]] = no_key
        return app

    compare(
        build_overridden,
        [
            Req("GET", "/items/"),
            Req("GET", "/items/?q=foo"),
            Req("GET", "/users/?q=bar&skip=100"),
            Req("GET", "/class-items/"),
        ],
    )


def test_overrides_can_be_cleared() -> None:
    with clients(build) as (expected_client, actual_client):
        for client in (expected_client, actual_client):
            app = client.app
            verify_key = app.state.dependencies["verify_key"]

            async def no_key() -> None:
                return None

            app.dependency_overrides[verify_key] = no_key
            assert client.get("/items/").status_code == 200
            app.dependency_overrides = {}
            assert client.get("/items/").status_code == 422
