"""FastAPI's "WebSockets" tutorial: echo, path/query/cookie parameters and dependencies, disconnects,
``WebSocketException`` and invalid parameters (closed with 1008), each driven through its framework's client."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

from typing import Annotated, Any

import pytest

from ._diff import FASTAPI, KETCH, Surface


def build(fastapi: Any, starlette: Any) -> Any:
    app = fastapi.FastAPI()
    WebSocket, Depends, Query, Cookie = fastapi.WebSocket, fastapi.Depends, fastapi.Query, fastapi.Cookie
    status = fastapi.status
    disconnects: list[str] = []
    app.state.disconnects = disconnects

    @app.websocket("/ws")
    async def echo(websocket: WebSocket):
        await websocket.accept()
        while True:
            data = await websocket.receive_text()
            await websocket.send_text(f"Message text was: {data}")

    async def get_cookie_or_token(
        websocket: WebSocket,
        session: Annotated[str | None, Cookie()] = None,
        token: Annotated[str | None, Query()] = None,
    ):
        if session is None and token is None:
            raise fastapi.WebSocketException(code=status.WS_1008_POLICY_VIOLATION)
        return session or token

    @app.websocket("/items/{item_id}/ws")
    async def items_ws(
        *,
        websocket: WebSocket,
        item_id: str,
        q: int | None = None,
        cookie_or_token: Annotated[str, Depends(get_cookie_or_token)],
    ):
        await websocket.accept()
        while True:
            data = await websocket.receive_text()
            await websocket.send_text(f"Session cookie or query token value is: {cookie_or_token}")
            if q is not None:
                await websocket.send_text(f"Query parameter q is: {q}")
            await websocket.send_text(f"Message text was: {data}, for item ID: {item_id}")

    @app.websocket("/clients/{client_id}")
    async def clients(websocket: WebSocket, client_id: int):
        await websocket.accept()
        try:
            while True:
                data = await websocket.receive_json()
                await websocket.send_json({"client": client_id, "echo": data})
        except fastapi.WebSocketDisconnect as exc:
            disconnects.append(f"Client #{client_id} left the chat ({exc.code})")

    @app.websocket("/bytes")
    async def raw_bytes(websocket: WebSocket):
        await websocket.accept(subprotocol="binary")
        data = await websocket.receive_bytes()
        await websocket.send_bytes(data[::-1])
        await websocket.close(code=1001, reason="done")

    @app.websocket("/reject")
    async def reject(websocket: WebSocket):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)

    @app.get("/disconnects")
    def read_disconnects():
        return disconnects

    return app


def converse(surface: Surface, url: str, script: list[tuple[str, Any]], **kwargs: Any) -> list[Any]:
    """Run ``script`` (("send_text" | "send_json" | "send_bytes", value) or ("receive_*", None)) against the app
    built on ``surface``, through that surface's own TestClient; the transcript ends with how it closed."""
    transcript: list[Any] = []
    disconnect = surface.starlette.websockets.WebSocketDisconnect
    with surface.fastapi.testclient.TestClient(surface.build(build)) as client:
        try:
            connection = client.websocket_connect(url, **kwargs)
            session = connection.__enter__()
        except disconnect as exc:
            transcript.append(closed(exc))
        else:
            transcript.append(("subprotocol", session.accepted_subprotocol))
            try:
                for action, value in script:
                    if action.startswith("send"):
                        getattr(session, action)(value)
                    else:
                        transcript.append((action, getattr(session, action)()))
            except disconnect as exc:
                transcript.append(closed(exc))
            try:
                connection.__exit__(None, None, None)
            except disconnect:
                # Starlette 1.x's client re-raises the WebSocketDisconnect its own close caused in the app; ketch's
                # does not (the FastAPI docs' tests expect a quiet exit).
                pass
        transcript.append(("disconnects", client.get("/disconnects").json()))
    return transcript


def closed(exc: Any) -> tuple[Any, ...]:
    # FastAPI closes an invalid WebSocket with the error list as the reason, which no server can send; ketch sends
    # it as JSON text (or the first message when that is too long for a close frame). Compare that it says why.
    if exc.code == 1008 and exc.reason:
        return ("closed", 1008, "<the validation errors>")
    return ("closed", exc.code, exc.reason or "")


CASES = [
    ("/ws", [("send_text", "hi"), ("receive_text", None), ("send_text", "again"), ("receive_text", None)], {}),
    (
        "/items/foo/ws?token=some-token&q=3",
        [("send_text", "hello"), ("receive_text", None), ("receive_text", None), ("receive_text", None)],
        {},
    ),
    (
        "/items/foo/ws",
        [("send_text", "hello"), ("receive_text", None), ("receive_text", None)],
        {"headers": {"cookie": "session=fakesession"}},
    ),
    ("/items/foo/ws", [("send_text", "hello")], {}),
    ("/items/foo/ws?token=t&q=notanint", [("send_text", "hello")], {}),
    ("/clients/7", [("send_json", {"a": [1, 2]}), ("receive_json", None)], {}),
    ("/clients/x", [("send_json", {})], {}),
    ("/bytes", [("send_bytes", b"\x00abc"), ("receive_bytes", None), ("receive", None)], {"subprotocols": ["binary"]}),
    ("/reject", [], {}),
    ("/nowhere", [], {}),
]


@pytest.mark.parametrize(("url", "script", "kwargs"), CASES, ids=[case[0] for case in CASES])
def test_websocket_conversations(url: str, script: list[tuple[str, Any]], kwargs: dict[str, Any]) -> None:
    assert converse(KETCH, url, script, **kwargs) == converse(FASTAPI, url, script, **kwargs)
