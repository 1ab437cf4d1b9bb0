"""FastAPI's "Async Tests": the app called through ``httpx.AsyncClient(transport=ASGITransport(app))`` from an
async test, on both surfaces; and ``async with`` lifespan handling with ketch's own ``AsyncTestClient``."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from ketch.testclient import AsyncTestClient

from ._diff import FASTAPI, KETCH, Req, check


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def build(fastapi: Any, starlette: Any) -> Any:
    @asynccontextmanager
    async def lifespan(app: Any):
        yield {"greeting": "Tomato"}

    app = fastapi.FastAPI(lifespan=lifespan)

    @app.get("/")
    async def root():
        return {"message": "Tomato"}

    @app.get("/state")
    async def state(request: fastapi.Request):
        return {"greeting": getattr(request.state, "greeting", None)}

    @app.post("/items/")
    async def create(item: dict[str, int]):
        return item

    return app


@pytest.mark.anyio
async def test_root_through_asgi_transport() -> None:
    requests = [Req("GET", "/"), Req("POST", "/items/", json={"a": 1}), Req("POST", "/items/", json={"a": "b"})]
    responses: dict[str, list[httpx.Response]] = {}
    for surface in (FASTAPI, KETCH):
        transport = httpx.ASGITransport(app=surface.build(build))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as ac:
            responses[surface.name] = [await ac.request(r.method, r.url, **r.kwargs) for r in requests]
    for req, expected, actual in zip(requests, responses["fastapi"], responses["ketch"], strict=True):
        check(req, expected, actual)


@pytest.mark.anyio
async def test_lifespan_state_with_the_async_client() -> None:
    async with AsyncTestClient(KETCH.build(build)) as client:
        response = await client.get("/state")
    assert response.json() == {"greeting": "Tomato"}
    with FASTAPI.fastapi.testclient.TestClient(FASTAPI.build(build)) as client:
        assert client.get("/state").json() == response.json()
