from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from ketch import JSONResponse, Ketch, RedirectResponse, Request, StreamingResponse, WebSocket
from ketch.testclient import AsyncTestClient, TestClient


@asynccontextmanager
async def lifespan(app: Ketch) -> AsyncIterator[dict[str, Any]]:
    yield {"greeting": "hello"}


app = Ketch(lifespan=lifespan)


@app.post("/items")
async def create_item(request: Request) -> JSONResponse:
    item = await request.json()
    return JSONResponse({"created": item["name"]}, status_code=201)


@app.post("/login")
async def login() -> JSONResponse:
    response = JSONResponse({"ok": True})
    response.set_cookie("session", "s3cr3t")
    return response


@app.get("/me")
async def me(request: Request) -> dict[str, Any]:
    return {"session": request.cookies.get("session")}


@app.get("/old")
async def old() -> RedirectResponse:
    return RedirectResponse("/me")


@app.get("/greeting")
async def greeting(request: Request) -> dict[str, str]:
    return {"greeting": request.state.greeting}  # lifespan state: needs `with TestClient(app)`


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("boom")


@app.get("/numbers")
async def numbers() -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        for i in range(3):
            yield f"{i}\n"

    return StreamingResponse(lines(), media_type="text/plain")


@app.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text.upper())


# The tests: run them with pytest.


def test_requests_and_cookies() -> None:
    client = TestClient(app)
    response = client.post("/items", json={"name": "ketch"}, headers={"X-Trace": "1"})
    assert response.status_code == 201
    assert response.json() == {"created": "ketch"}
    client.post("/login")  # the cookie the app sets is kept for the next requests
    assert client.get("/me").json() == {"session": "s3cr3t"}


def test_redirects() -> None:
    client = TestClient(app)
    assert client.get("/old").url == "http://testserver/me"  # followed by default
    response = client.get("/old", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (307, "/me")


def test_server_errors() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        TestClient(app).get("/boom")  # the app's exception is raised in the test
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500  # what a real client would see


def test_lifespan() -> None:
    with TestClient(app) as client:  # start-up on enter, shutdown on exit
        assert client.get("/greeting").json() == {"greeting": "hello"}


def test_streaming() -> None:
    client = TestClient(app)
    with client.stream("GET", "/numbers") as response:
        assert list(response.iter_lines()) == ["0", "1", "2"]


def test_websocket() -> None:
    client = TestClient(app)
    with client.websocket_connect("/ws") as websocket:
        websocket.send_text("hi")
        assert websocket.receive_text() == "HI"


@pytest.mark.anyio
async def test_async_client() -> None:
    async with AsyncTestClient(app) as client:  # runs in the test's own event loop
        response = await client.get("/greeting")
        assert response.json() == {"greeting": "hello"}
        async with client.websocket_connect("/ws") as websocket:
            await websocket.send_text("hey")
            assert await websocket.receive_text() == "HEY"
