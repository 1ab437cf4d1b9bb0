"""``Depends(..., sync_to_thread=False)``: a plain ``def`` dependency run on the event loop instead of the pool."""

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest

from ketch import HTTPException, ImproperlyConfigured, Ketch, Request, Response
from ketch.params import Depends
from ketch.testclient import TestClient


def _thread() -> int:
    return threading.get_ident()


def on_loop() -> int:
    return _thread()


def pooled() -> int:
    return _thread()


def _app() -> Ketch:
    app = Ketch()

    @app.get("/flat")
    async def flat(
        loop_ident: Annotated[int, Depends(on_loop, sync_to_thread=False)],
        pool_ident: Annotated[int, Depends(pooled)],
    ) -> dict[str, bool]:
        here = _thread()
        return {"loop": loop_ident == here, "pool": pool_ident == here}

    async def cleanup() -> AsyncIterator[str]:
        yield "ok"

    @app.get("/general")
    async def general(
        response: Response,
        extra: Annotated[str, Depends(cleanup)],
        loop_ident: Annotated[int, Depends(on_loop, sync_to_thread=False)],
        pool_ident: Annotated[int, Depends(pooled)],
    ) -> dict[str, bool]:
        here = _thread()
        response.headers["x-extra"] = extra
        return {"loop": loop_ident == here, "pool": pool_ident == here}

    @app.get("/limited")
    async def limited(
        loop_ident: Annotated[int, Depends(on_loop, sync_to_thread=False, max_concurrency=1)],
    ) -> bool:
        return loop_ident == _thread()

    return app


@pytest.mark.parametrize("path", ["/flat", "/general"])
def test_on_loop_dependency_runs_on_the_loop_and_default_on_the_pool(path: str) -> None:
    response = TestClient(_app()).get(path)
    assert response.status_code == 200
    assert response.json() == {"loop": True, "pool": False}


def test_on_loop_dependency_with_a_concurrency_limit() -> None:
    assert TestClient(_app()).get("/limited").json() is True


def test_on_loop_chain_validates_and_fails_like_any_dependency() -> None:
    app = Ketch()

    def settings() -> dict[str, int]:
        return {"max": 5}

    def check(limit: int, settings: Annotated[dict[str, int], Depends(settings, sync_to_thread=False)]) -> int:
        if limit > settings["max"]:
            raise HTTPException(400, "limit too high")
        return limit

    calls = []

    def counted() -> None:
        calls.append(1)

    @app.get("/items")
    async def items(
        limit: Annotated[int, Depends(check, sync_to_thread=False)],
        _a: Annotated[None, Depends(counted, sync_to_thread=False)],
        _b: Annotated[None, Depends(counted, sync_to_thread=False)],
    ) -> int:
        return limit

    client = TestClient(app)
    assert client.get("/items?limit=3").json() == 3
    assert calls == [1]  # use_cache holds on the loop too
    assert client.get("/items?limit=9").json() == {"detail": "limit too high"}
    missing = client.get("/items")
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["query", "limit"]


def test_app_lifetime_dependency_on_the_loop() -> None:
    app = Ketch()
    created = []

    def client_factory() -> str:
        created.append(_thread())
        return "client"

    @app.get("/")
    async def index(value: Annotated[str, Depends(client_factory, scope="app", sync_to_thread=False)]) -> list[Any]:
        return [value, created[0] == _thread()]

    with TestClient(app) as client:
        assert client.get("/").json() == ["client", True]
        assert client.get("/").json() == ["client", True]
    assert len(created) == 1


def test_yield_dependency_cannot_run_on_the_loop() -> None:
    app = Ketch()

    def session() -> Iterator[str]:
        yield "s"

    @app.get("/")
    async def index(value: Annotated[str, Depends(session, sync_to_thread=False)]) -> str:
        return value

    with pytest.raises(ImproperlyConfigured, match="cannot use sync_to_thread=False"):
        TestClient(app).get("/")


def test_async_dependency_ignores_the_flag() -> None:
    app = Ketch()

    async def token() -> str:
        return "t"

    @app.get("/")
    async def index(value: Annotated[str, Depends(token, sync_to_thread=False)]) -> str:
        return value

    assert TestClient(app).get("/").json() == "t"


def test_sync_endpoint_on_the_loop_in_every_plan_shape() -> None:
    app = Ketch()
    loop_ident: list[int] = []

    @app.get("/bare", sync_to_thread=False)
    def bare() -> bool:
        return _thread() == loop_ident[0]

    @app.get("/flat/{n}", sync_to_thread=False)
    def flat(n: int, dep: Annotated[int, Depends(pooled)]) -> list[bool]:
        return [n == 1, _thread() == loop_ident[0], dep != loop_ident[0]]

    @app.get("/general", sync_to_thread=False)
    def general(response: Response) -> bool:
        response.headers["x-general"] = "yes"
        return _thread() == loop_ident[0]

    @app.get("/pooled")
    def pooled_endpoint() -> bool:
        return _thread() == loop_ident[0]

    @app.get("/loop")
    async def where() -> None:
        loop_ident.append(_thread())

    client = TestClient(app)
    client.get("/loop")
    assert client.get("/bare").json() is True
    assert client.get("/flat/1").json() == [True, True, True]
    general_response = client.get("/general")
    assert (general_response.json(), general_response.headers["x-general"]) == (True, "yes")
    assert client.get("/pooled").json() is False
    assert client.get("/flat/x").status_code == 422


def test_router_default_and_core_planner() -> None:
    from ketch import Router
    from ketch._plan import CorePlanner

    app = Ketch()
    router = Router(sync_to_thread=False)
    idents: dict[str, int] = {}

    @router.get("/typed")
    def typed() -> None:
        idents["typed"] = _thread()

    app.include_router(router)
    core = Ketch(planner=CorePlanner())

    @core.get("/core", sync_to_thread=False)
    def core_endpoint(request: Request) -> None:
        idents["core"] = _thread()

    @app.get("/loop")
    @core.get("/loop")
    async def where() -> None:
        idents["loop"] = _thread()

    client, core_client = TestClient(app), TestClient(core)
    client.get("/typed")
    client.get("/loop")
    assert idents["typed"] == idents["loop"]
    core_client.get("/core")
    core_client.get("/loop")
    assert idents["core"] == idents["loop"]


def test_streaming_sync_generator_endpoint_refuses_the_loop() -> None:
    app = Ketch()

    @app.get("/stream", sync_to_thread=False)
    def stream() -> Iterator[str]:
        yield "a"

    with pytest.raises(ImproperlyConfigured, match="cannot use sync_to_thread=False"):
        TestClient(app).get("/stream")
