"""Differential tests: typed WebSocket endpoints (path, query, header, cookie params and Depends)."""

# The app is built twice, from two import surfaces held in a namespace: its annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, attr-defined, misc, assignment"

from types import SimpleNamespace
from typing import Annotated, Any

import fastapi
import pytest

import ketch
from ketch.testclient import TestClient
from ketch.websockets import WebSocketDisconnect

from ._diff import FASTAPI, KETCH


def build(api: SimpleNamespace) -> Any:
    WebSocket = fastapi.WebSocket if api.name == "fastapi" else ketch.WebSocket
    WebSocketException = fastapi.WebSocketException if api.name == "fastapi" else ketch.WebSocketException

    async def get_token(token: Annotated[str | None, api.Query()] = None) -> str:
        if token == "bad":
            raise WebSocketException(code=1008, reason="bad token")
        return token or "anonymous"

    app = api.App()

    @app.websocket("/items/{item_id}/ws")
    async def ws(
        websocket: WebSocket,
        item_id: int,
        token: Annotated[str, api.Depends(get_token)],
        q: int | None = None,
        session: Annotated[str | None, api.Cookie()] = None,
        x_client: Annotated[str | None, api.Header()] = None,
    ) -> None:
        await websocket.accept()
        data = await websocket.receive_text()
        await websocket.send_json(
            {"item_id": item_id, "q": q, "session": session, "token": token, "client": x_client, "data": data}
        )
        await websocket.close()

    return app


def run(app: Any, url: str, **kwargs: Any) -> Any:
    client = TestClient(app)
    try:
        with client.websocket_connect(url, **kwargs) as session:
            session.send_text("hi")
            return session.receive_json()
    except WebSocketDisconnect as exc:
        return ("closed", exc.code)


@pytest.mark.parametrize(
    ("url", "kwargs"),
    [
        ("/items/3/ws?q=1&token=t", {"headers": {"x-client": "c", "cookie": "session=s"}}),
        ("/items/3/ws", {}),
        ("/items/x/ws", {}),
        ("/items/3/ws?q=nope", {}),
        ("/items/3/ws?token=bad", {}),
    ],
)
def test_websocket_params(url: str, kwargs: dict[str, Any]) -> None:
    expected = run(build(FASTAPI), url, **kwargs)
    actual = run(build(KETCH), url, **kwargs)
    assert actual == expected
