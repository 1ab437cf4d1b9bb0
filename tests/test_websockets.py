"""WebSocket: the handshake, messages both ways, closing, and errors."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from ketch import HTTPException, Ketch, WebSocket, WebSocketDisconnect, WebSocketException
from ketch.testclient import TestClient, WebSocketDenialResponse
from ketch.types import Message
from ketch.websockets import WebSocketState


def make_app() -> Ketch:
    app = Ketch()

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(text[::-1])

    @app.websocket("/kinds")
    async def kinds(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_bytes(await websocket.receive_bytes() * 2)
        await websocket.send_json({"got": await websocket.receive_json()})
        await websocket.send_json({"mode": "binary"}, mode="binary")
        await websocket.close(code=4000, reason="bye")

    @app.websocket("/rooms/{room}")
    async def room(websocket: WebSocket, room: str) -> None:
        await websocket.accept(subprotocol="chat.v1", headers=[(b"x-room", room.encode())])
        await websocket.send_json(
            {
                "room": room,
                "q": websocket.query_params.get("q"),
                "header": websocket.headers.get("x-token"),
                "cookie": websocket.cookies.get("c"),
                "url": str(websocket.url),
                "protocols": websocket.headers.get("sec-websocket-protocol"),
            }
        )
        await websocket.close()

    return app


def test_echo_text() -> None:
    client = TestClient(make_app())
    with client.websocket_connect("/echo") as session:
        session.send_text("hello")
        assert session.receive_text() == "olleh"
        session.send_text("ü☃")
        assert session.receive_text() == "☃ü"


def test_bytes_json_and_close_code() -> None:
    client = TestClient(make_app())
    with client.websocket_connect("/kinds") as session:
        session.send_bytes(b"ab")
        assert session.receive_bytes() == b"abab"
        session.send_json([1, {"x": None}])
        assert session.receive_json() == {"got": [1, {"x": None}]}
        assert session.receive_json(mode="binary") == {"mode": "binary"}
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
        assert (info.value.code, info.value.reason) == (4000, "bye")


def test_path_params_query_headers_subprotocol() -> None:
    client = TestClient(make_app(), cookies={"c": "cookie"})
    with client.websocket_connect(
        "/rooms/lobby?q=1", headers={"x-token": "t"}, subprotocols=["chat.v1", "chat.v2"]
    ) as session:
        assert session.accepted_subprotocol == "chat.v1"
        assert (b"x-room", b"lobby") in session.extra_headers
        assert session.receive_json() == {
            "room": "lobby",
            "q": "1",
            "header": "t",
            "cookie": "cookie",
            "url": "ws://testserver/rooms/lobby?q=1",
            "protocols": "chat.v1, chat.v2",
        }


def test_unknown_path_closes_the_handshake() -> None:
    client = TestClient(make_app())
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/nowhere"):
            pass


def test_close_before_accept_and_websocket_exception() -> None:
    app = Ketch()

    @app.websocket("/refuse")
    async def refuse(websocket: WebSocket) -> None:
        await websocket.close(code=4403)

    @app.websocket("/policy")
    async def policy(websocket: WebSocket) -> None:
        raise WebSocketException(code=4001, reason="no token")

    @app.websocket("/policy-later")
    async def policy_later(websocket: WebSocket) -> None:
        await websocket.accept()
        raise WebSocketException(reason="later")

    client = TestClient(app)
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/refuse"):
            pass
    assert info.value.code == 4403
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/policy"):
            pass
    assert (info.value.code, info.value.reason) == (4001, "no token")
    with client.websocket_connect("/policy-later") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
        assert (info.value.code, info.value.reason) == (1008, "later")


def test_http_exception_before_accept_is_a_denial_response() -> None:
    app = Ketch()

    @app.websocket("/private")
    async def private(websocket: WebSocket) -> None:
        raise HTTPException(401, "login first", headers={"www-authenticate": "Bearer"})

    with pytest.raises(WebSocketDenialResponse) as info:
        with TestClient(app).websocket_connect("/private"):
            pass
    assert info.value.status_code == 401
    assert info.value.json() == {"detail": "login first"}
    assert info.value.headers["www-authenticate"] == "Bearer"


def test_send_denial_response_directly() -> None:
    from ketch import PlainTextResponse

    app = Ketch()

    @app.websocket("/deny")
    async def deny(websocket: WebSocket) -> None:
        await websocket.send_denial_response(PlainTextResponse("teapot", status_code=418))

    with pytest.raises(WebSocketDenialResponse) as info:
        with TestClient(app).websocket_connect("/deny"):
            pass
    assert (info.value.status_code, info.value.text) == (418, "teapot")


def test_errors_close_with_1011_and_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = Ketch()

    @app.websocket("/boom")
    async def boom(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        raise RuntimeError("secret detail")

    client = TestClient(app, raise_server_exceptions=False)
    with client.websocket_connect("/boom") as session:
        session.send_text("go")
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert info.value.code == 1011
    assert "secret" not in info.value.reason
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "/boom" in errors[0].getMessage()
    with pytest.raises(RuntimeError, match="secret detail"):
        with TestClient(app).websocket_connect("/boom") as session:
            session.send_text("go")
            session.receive_text()


def test_client_disconnect_is_silent(caplog: pytest.LogCaptureFixture) -> None:
    app = Ketch()
    finished: list[int] = []

    @app.websocket("/listen")
    async def listen(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.receive_text()
        finally:
            finished.append(1)

    with TestClient(app).websocket_connect("/listen") as session:
        session.send_text("a")
        session.close(code=1001)
    assert finished == [1]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


# -- the state machine, driven directly ---------------------------------------------------------------------------


def ws_scope(**extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "websocket",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
        "scheme": "ws",
        "server": ("example.com", 80),
    }
    scope.update(extra)
    return scope


class Peer:
    def __init__(self, *incoming: Message) -> None:
        self.incoming = list(incoming)
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        return self.incoming.pop(0)

    async def send(self, message: Message) -> None:
        self.sent.append(message)


def test_state_machine_rules() -> None:
    async def run() -> None:
        peer = Peer({"type": "websocket.connect"}, {"type": "websocket.receive", "text": "hi"})
        websocket = WebSocket(ws_scope(), peer.receive, peer.send)
        with pytest.raises(RuntimeError, match="accept"):
            await websocket.receive_text()
        with pytest.raises(RuntimeError):
            await websocket.send_text("too early")
        await websocket.accept()
        assert websocket.client_state == websocket.application_state == WebSocketState.CONNECTED
        with pytest.raises(RuntimeError, match="bytes"):
            await websocket.receive_bytes()
        with pytest.raises(RuntimeError):
            await websocket.send({"type": "websocket.accept"})
        await websocket.close(code=1000)
        assert websocket.application_state.name == "DISCONNECTED"
        with pytest.raises(RuntimeError, match="close message"):
            await websocket.send_text("after close")
        assert peer.sent[0]["type"] == "websocket.accept"
        assert peer.sent[-1] == {"type": "websocket.close", "code": 1000, "reason": ""}

    asyncio.run(run())


def test_receive_after_disconnect_is_an_error() -> None:
    async def run() -> None:
        peer = Peer({"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1006})
        websocket = WebSocket(ws_scope(), peer.receive, peer.send)
        await websocket.accept()
        with pytest.raises(WebSocketDisconnect) as info:
            await websocket.receive_text()
        assert info.value.code == 1006
        assert websocket.client_state == WebSocketState.DISCONNECTED
        with pytest.raises(RuntimeError, match="disconnect message"):
            await websocket.receive()

    asyncio.run(run())


def test_unexpected_first_message() -> None:
    async def run() -> None:
        peer = Peer({"type": "websocket.receive", "text": "x"})
        websocket = WebSocket(ws_scope(), peer.receive, peer.send)
        with pytest.raises(RuntimeError, match="websocket.connect"):
            await websocket.accept()

    asyncio.run(run())


def test_send_failure_becomes_a_disconnect() -> None:
    async def run() -> None:
        async def receive() -> Message:
            return {"type": "websocket.connect"}

        async def send(message: Message) -> None:
            if message["type"] == "websocket.send":
                raise OSError("connection reset")

        websocket = WebSocket(ws_scope(), receive, send)
        await websocket.accept()
        with pytest.raises(WebSocketDisconnect) as info:
            await websocket.send_text("x")
        assert info.value.code == 1006
        assert websocket.application_state == WebSocketState.DISCONNECTED

    asyncio.run(run())


def test_denial_without_the_extension_closes_1008() -> None:
    from ketch import PlainTextResponse

    async def run() -> list[Message]:
        peer = Peer({"type": "websocket.connect"})
        websocket = WebSocket(ws_scope(), peer.receive, peer.send)
        await websocket.send_denial_response(PlainTextResponse("no", status_code=403))
        return peer.sent

    assert asyncio.run(run()) == [{"type": "websocket.close", "code": 1008, "reason": ""}]


def test_iterators_stop_at_disconnect() -> None:
    async def run() -> tuple[list[bytes], list[Any]]:
        peer = Peer(
            {"type": "websocket.connect"},
            {"type": "websocket.receive", "bytes": b"1"},
            {"type": "websocket.receive", "bytes": b"2"},
            {"type": "websocket.disconnect", "code": 1000},
        )
        websocket = WebSocket(ws_scope(), peer.receive, peer.send)
        await websocket.accept()
        data = [chunk async for chunk in websocket.iter_bytes()]
        peer2 = Peer(
            {"type": "websocket.connect"},
            {"type": "websocket.receive", "text": "[1]"},
            {"type": "websocket.receive", "bytes": b'{"a":2}'},
            {"type": "websocket.disconnect", "code": 1000},
        )
        websocket2 = WebSocket(ws_scope(), peer2.receive, peer2.send)
        await websocket2.accept()
        items = [item async for item in websocket2.iter_json()]
        return data, items

    assert asyncio.run(run()) == ([b"1", b"2"], [[1], {"a": 2}])


def test_websocket_exception_after_close_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    app = Ketch()

    @app.websocket("/closed")
    async def closed(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close(code=4000)
        raise WebSocketException(code=4001)

    with TestClient(app).websocket_connect("/closed") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert info.value.code == 4000
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
