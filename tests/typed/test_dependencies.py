"""Dependency injection beyond the differential tests: cleanup timing, app-lifetime values, overrides, limits."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest

from ketch import ImproperlyConfigured, Ketch, StreamingResponse
from ketch._plan.typed import TypedPlanner
from ketch.params import Depends
from ketch.testclient import TestClient


def make_app() -> Ketch:
    return Ketch(planner=TypedPlanner())


def test_request_scope_cleanup_runs_after_a_streamed_response_ends() -> None:
    events: list[str] = []

    async def resource() -> AsyncIterator[str]:
        events.append("open")
        yield "r"
        events.append("close")

    app = make_app()

    @app.get("/stream")
    async def stream(value: Annotated[str, Depends(resource)]) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for part in (b"a", b"b"):
                events.append(f"chunk:{part.decode()}")
                yield part

        return StreamingResponse(body())

    assert TestClient(app).get("/stream").content == b"ab"
    assert events == ["open", "chunk:a", "chunk:b", "close"]


def test_function_scope_cleanup_runs_before_the_response_is_sent() -> None:
    events: list[str] = []

    def resource() -> Iterator[str]:
        events.append("open")
        yield "r"
        events.append("close")

    app = make_app()

    @app.get("/stream")
    def stream(value: Annotated[str, Depends(resource, scope="function")]) -> StreamingResponse:
        def body() -> Iterator[bytes]:
            events.append("chunk")
            yield b"x"

        return StreamingResponse(body())

    TestClient(app).get("/stream")
    assert events == ["open", "close", "chunk"]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("where", ["endpoint", "dependency"])
def test_cleanup_runs_exactly_once_when_something_raises(where: str) -> None:
    closed: list[str] = []

    def outer() -> Iterator[str]:
        try:
            yield "outer"
        finally:
            closed.append("outer")

    def failing(o: Annotated[str, Depends(outer)]) -> str:
        if where == "dependency":
            raise LookupError("dependency")
        return o

    app = make_app()

    @app.get("/x")
    def endpoint(value: Annotated[str, Depends(failing)]) -> str:
        raise LookupError("endpoint")

    response = TestClient(app, raise_server_exceptions=False).get("/x")
    assert response.status_code == 500
    assert closed == ["outer"]


def test_request_scope_cannot_depend_on_function_scope() -> None:
    def inner() -> Iterator[int]:
        yield 1

    def outer(i: Annotated[int, Depends(inner, scope="function")]) -> Iterator[int]:
        yield i

    app = make_app()

    @app.get("/x")
    def endpoint(o: Annotated[int, Depends(outer)]) -> int:
        return o

    with pytest.raises(ImproperlyConfigured, match='cannot depend on dependencies with scope "function"'):
        app.prepare()


class Pool:
    created = 0

    def __init__(self) -> None:
        Pool.created += 1
        self.closed = False


def test_app_lifetime_dependencies_live_from_start_up_to_shutdown() -> None:
    Pool.created = 0
    pools: list[Pool] = []

    async def get_pool() -> AsyncIterator[Pool]:
        pool = Pool()
        pools.append(pool)
        yield pool
        pool.closed = True

    def get_repo(pool: Annotated[Pool, Depends(get_pool, scope="app")]) -> dict[str, int]:
        return {"pool": id(pool)}

    app = make_app()

    @app.get("/a")
    async def a(pool: Annotated[Pool, Depends(get_pool, scope="app")]) -> int:
        return id(pool)

    @app.get("/b")
    def b(repo: Annotated[dict[str, int], Depends(get_repo)]) -> int:
        return repo["pool"]

    with TestClient(app) as client:
        assert Pool.created == 1  # created at start-up, before any request
        first, second = client.get("/a").json(), client.get("/b").json()
        assert first == second == id(pools[0])
        assert not pools[0].closed
    assert pools[0].closed
    assert Pool.created == 1


def test_app_lifetime_dependencies_without_lifespan_and_overridden() -> None:
    def real() -> str:
        return "real"

    def fake() -> str:
        return "fake"

    app = make_app()

    @app.get("/v")
    async def v(value: Annotated[str, Depends(real, scope="app")]) -> str:
        return value

    client = TestClient(app)
    assert client.get("/v").json() == "real"  # created on first use
    app.dependency_overrides[real] = fake
    assert client.get("/v").json() == "fake"
    app.dependency_overrides.clear()
    assert client.get("/v").json() == "real"
    assert asyncio.run(app.app_dependencies.get(real)) == "real"


def test_app_lifetime_dependencies_cannot_read_the_request() -> None:
    def per_request(q: int) -> int:
        return q

    app = make_app()

    @app.get("/x")
    def endpoint(value: Annotated[int, Depends(per_request, scope="app")]) -> int:
        return value

    with pytest.raises(ImproperlyConfigured, match="cannot read the request"):
        app.prepare()


def test_overrides_apply_to_yield_dependencies_and_their_sub_dependencies() -> None:
    events: list[str] = []

    def real() -> Iterator[str]:
        events.append("real")
        yield "real"

    async def fake(q: str = "none") -> AsyncIterator[str]:
        events.append("fake:open")
        yield f"fake:{q}"
        events.append("fake:close")

    app = make_app()

    @app.get("/x")
    def endpoint(value: Annotated[str, Depends(real)]) -> str:
        return value

    client = TestClient(app)
    app.dependency_overrides[real] = fake
    assert client.get("/x?q=1").json() == "fake:1"
    app.dependency_overrides = {}
    assert client.get("/x").json() == "real"
    assert events == ["fake:open", "fake:close", "real"]


def test_max_concurrency_limits_parallel_calls() -> None:
    running = 0
    peak = 0

    async def limited() -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return 1

    app = make_app()

    @app.get("/x")
    async def endpoint(value: Annotated[int, Depends(limited, max_concurrency=2)]) -> int:
        return value

    async def main() -> list[Any]:
        from ketch.testclient import AsyncTestClient

        async with AsyncTestClient(app) as client:
            return await asyncio.gather(*(client.get("/x") for _ in range(8)))

    responses = asyncio.run(main())
    assert all(r.status_code == 200 for r in responses)
    assert peak == 2
