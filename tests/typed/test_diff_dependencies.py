"""Differential tests: dependency injection, on FastAPI and on ketch."""

# The app is built twice, from two import surfaces held in a namespace: its annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, attr-defined, misc, assignment"

from types import SimpleNamespace
from typing import Annotated, Any

from ._diff import Req, compare

CALLS: dict[str, list[str]] = {"fastapi": [], "ketch": []}


def build(api: SimpleNamespace) -> object:
    calls = CALLS[api.name]

    def common(q: str | None = None, skip: int = 0, limit: int = 100) -> dict[str, Any]:
        calls.append("common")
        return {"q": q, "skip": skip, "limit": limit}

    async def async_common(x_token: Annotated[str, api.Header()]) -> str:
        if x_token != "secret":
            raise api.HTTPException(status_code=401, detail="bad token")
        return x_token

    class Pager:
        def __init__(self, page: int = 1, size: Annotated[int, api.Query(le=50)] = 10) -> None:
            self.page = page
            self.size = size

    class Multiplier:
        def __init__(self, factor: int) -> None:
            self.factor = factor

        def __call__(self, value: int = 1) -> int:
            return value * self.factor

    def counted() -> int:
        calls.append("counted")
        return len(calls)

    def uses_counted(a: Annotated[int, api.Depends(counted)], b: Annotated[int, api.Depends(counted)]) -> int:
        return a + b

    def uncached(
        a: Annotated[int, api.Depends(counted)], b: Annotated[int, api.Depends(counted, use_cache=False)]
    ) -> list[int]:
        return [a, b]

    def verify_key(x_key: Annotated[str, api.Header()]) -> None:
        if x_key != "k":
            raise api.HTTPException(status_code=400, detail="X-Key header invalid")

    def needs_item_id(item_id: int) -> int:
        return item_id * 2

    app = api.App()
    router = api.Router(prefix="/r", dependencies=[api.Depends(verify_key)])

    @app.get("/common")
    async def read_common(commons: Annotated[dict[str, Any], api.Depends(common)]) -> dict[str, Any]:
        return commons

    @app.get("/token")
    async def read_token(token: Annotated[str, api.Depends(async_common)], n: int) -> dict[str, Any]:
        return {"token": token, "n": n}

    @app.get("/pager")
    def read_pager(pager: Annotated[Pager, api.Depends()]) -> dict[str, int]:
        return {"page": pager.page, "size": pager.size}

    @app.get("/multiply")
    def multiply(result: Annotated[int, api.Depends(Multiplier(3))]) -> int:
        return result

    @app.get("/cached")
    def cached(total: Annotated[int, api.Depends(uses_counted)]) -> int:
        return total

    @app.get("/uncached")
    def read_uncached(values: Annotated[list[int], api.Depends(uncached)]) -> list[int]:
        return values

    @app.get("/items/{item_id}")
    async def item(double: Annotated[int, api.Depends(needs_item_id)], q: int = 0) -> dict[str, int]:
        return {"double": double, "q": q}

    @router.get("/guarded")
    async def guarded(v: int = 0) -> dict[str, int]:
        return {"v": v}

    @router.get("/guarded-more", dependencies=[api.Depends(async_common)])
    def guarded_more() -> dict[str, bool]:
        return {"ok": True}

    app.include_router(router)
    return app


def test_dependencies() -> None:
    compare(
        build,
        [
            Req("GET", "/common?q=a&skip=1"),
            Req("GET", "/common?skip=x&limit=y"),
            Req("GET", "/token?n=1", headers={"x-token": "secret"}),
            Req("GET", "/token?n=1", headers={"x-token": "wrong"}),
            # the dependency raises before the endpoint's own invalid parameter is reported
            Req("GET", "/token?n=x", headers={"x-token": "wrong"}),
            Req("GET", "/token?n=x", headers={"x-token": "secret"}),
            Req("GET", "/token"),
            Req("GET", "/pager?page=2&size=20"),
            Req("GET", "/pager?page=x&size=99"),
            Req("GET", "/multiply?value=4"),
            Req("GET", "/multiply?value=four"),
            Req("GET", "/items/4?q=1"),
            Req("GET", "/items/x?q=y"),
            Req("GET", "/r/guarded?v=1", headers={"x-key": "k"}),
            Req("GET", "/r/guarded?v=1", headers={"x-key": "nope"}),
            Req("GET", "/r/guarded?v=x"),
            Req("GET", "/r/guarded-more", headers={"x-key": "k", "x-token": "secret"}),
            Req("GET", "/r/guarded-more", headers={"x-key": "k"}),
        ],
    )


def test_dependency_cache() -> None:
    for calls in CALLS.values():
        calls.clear()
    compare(build, [Req("GET", "/cached"), Req("GET", "/uncached")])
    # /cached calls `counted` once, /uncached twice.
    assert CALLS["ketch"] == CALLS["fastapi"] == ["counted"] * 3


def build_layers(api: SimpleNamespace) -> object:
    order = ORDER[api.name]

    def mark(name: str) -> Any:
        def dependency() -> None:
            order.append(name)

        return api.Depends(dependency)

    app = api.App(dependencies=[mark("app")], default_response_class=api.PlainTextResponse)
    outer = api.Router(dependencies=[mark("outer-router")])
    inner = api.Router(dependencies=[mark("inner-router")])

    @inner.get("/layered", dependencies=[mark("route")])
    def layered() -> str:
        return ",".join(order)

    outer.include_router(inner, prefix="/inner", dependencies=[mark("inner-include")])
    app.include_router(outer, prefix="/outer", dependencies=[mark("outer-include")])
    return app


ORDER: dict[str, list[str]] = {"fastapi": [], "ketch": []}


def test_dependencies_of_app_routers_and_includes_run_outermost_first() -> None:
    compare(build_layers, [Req("GET", "/outer/inner/layered")])
    assert ORDER["ketch"] == ORDER["fastapi"]
