"""WebSockets through the test client: the conversation with the app (:class:`_WebSocketExchange`), the
sessions a test holds (:class:`WebSocketTestSession`, :class:`AsyncWebSocketTestSession`), and the
:class:`WebSocketDenialResponse` raised when the app refuses the handshake with an HTTP response.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import httpx

from ketch.json import dumps, loads
from ketch.testclient.loop_thread import _LoopThread
from ketch.testclient.server import _Exit, _run_app, _Server, _stop_task
from ketch.types import Message, Scope
from ketch.websockets import WebSocketDisconnect

__all__ = ["AsyncWebSocketTestSession", "WebSocketDenialResponse", "WebSocketTestSession"]


class WebSocketDenialResponse(httpx.Response, WebSocketDisconnect):  # type: ignore[misc]
    """The app refused the WebSocket handshake with an HTTP response (the ``websocket.http.response`` extension).

    It is both the ``httpx.Response`` the client got (``status_code``, ``headers``, ``content``) and a
    ``WebSocketDisconnect`` (code 1006, as a browser reports a failed handshake).
    """

    def __init__(self, status_code: int, headers: list[tuple[bytes, bytes]], content: bytes) -> None:
        httpx.Response.__init__(self, status_code, headers=headers, content=content)
        WebSocketDisconnect.__init__(self, 1006, f"Handshake denied with HTTP {status_code}")


class _ClientDisconnected(OSError):
    """Raised by ``send()`` once the test closed the WebSocket (ASGI WebSocket spec 2.4)."""


def _upgrade_headers(subprotocols: Sequence[str] | None, headers: Mapping[str, str] | None) -> dict[str, str]:
    upgrade = {
        "connection": "upgrade",
        "upgrade": "websocket",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
    }
    if subprotocols:
        upgrade["sec-websocket-protocol"] = ", ".join(subprotocols)
    return {**upgrade, **(headers or {})}


class _WebSocketExchange:
    """One WebSocket conversation with the app, which runs as a task. Every method runs on the app's loop."""

    def __init__(self, server: _Server, scope: Scope) -> None:
        self.app = server.app
        self.scope = scope
        self.raise_errors = server.raise_server_exceptions
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] = []
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message | _Exit] = asyncio.Queue()
        self._task: asyncio.Task[BaseException | None] | None = None
        self._exit: _Exit | None = None
        self._app_close: Message | None = None
        self._accepted = self._client_closed = self._error_raised = False

    async def _app_send(self, message: Message) -> None:
        if self._client_closed and message["type"] == "websocket.send":
            raise _ClientDisconnected("The test client closed the WebSocket")
        if message["type"] == "websocket.close":
            self._app_close = message
        self._outbox.put_nowait(message)

    async def connect(self) -> None:
        """Run the handshake: return once accepted, raise WebSocketDisconnect if refused."""
        app_call = _run_app(self.app, self.scope, self._to_app.get, self._app_send, self._outbox)
        self._task = asyncio.ensure_future(app_call)
        self._to_app.put_nowait({"type": "websocket.connect"})
        try:
            message = await self.receive()
            if message["type"] == "websocket.close":
                raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
            if message["type"] == "websocket.http.response.start":
                raise await self._denial(message)
            if message["type"] != "websocket.accept":
                raise RuntimeError(f"Unexpected ASGI message {message['type']!r} before the handshake")
        except BaseException:
            await _stop_task(self._task)
            raise
        self._accepted = True
        self.accepted_subprotocol = message.get("subprotocol")
        self.extra_headers = list(message.get("headers") or [])

    async def _denial(self, start: Message) -> WebSocketDenialResponse:
        body = []
        while True:
            message = await self.receive()
            if message["type"] != "websocket.http.response.body":
                raise RuntimeError(f"Expected 'websocket.http.response.body', got {message['type']!r}")
            body.append(message.get("body", b""))
            if not message.get("more_body", False):
                return WebSocketDenialResponse(start["status"], list(start.get("headers", [])), b"".join(body))

    async def send(self, message: Message) -> None:
        self._to_app.put_nowait(message)

    async def receive(self) -> Message:
        """The next message the app sent; once the app has returned, raise as a client would see it."""
        if self._exit is None:
            item = await self._outbox.get()
            if not isinstance(item, _Exit):
                return item
            self._exit = item
        raise self._exit_error(self._exit)

    def _exit_error(self, exit: _Exit) -> BaseException:
        if exit.error is not None and self.raise_errors:
            self._error_raised = True
            return exit.error
        if self._app_close is not None:  # receiving again after the app's close: the same close again
            return WebSocketDisconnect(self._app_close.get("code", 1000), self._app_close.get("reason"))
        if not self._accepted:
            return WebSocketDenialResponse(500, [], b"")  # as uvicorn answers a handshake the app never completed
        return WebSocketDisconnect(1011 if exit.error is not None else 1000)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        if not self._client_closed:
            self._client_closed = True
            self._to_app.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason or ""})

    async def finish(self, raise_app_error: bool) -> None:
        """The session ends: close if still open, let the app finish, re-raise an error it has not yet shown."""
        await self.close(1000)
        task = self._task
        await _stop_task(task)
        error = task.result() if task is not None and not task.cancelled() else None
        if error is not None and raise_app_error and self.raise_errors and not self._error_raised:
            self._error_raised = True
            raise error


def _data_message(data: str | bytes) -> Message:
    if isinstance(data, str):
        return {"type": "websocket.receive", "text": data}
    return {"type": "websocket.receive", "bytes": data}


def _json_message(data: Any, mode: str) -> Message:
    encoded = dumps(data)
    return _data_message(encoded.decode("utf-8") if mode == "text" else encoded)


def _payload(message: Message, key: str) -> Any:
    if message["type"] == "websocket.close":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    value = message.get(key)
    if value is None:
        other = "bytes" if key == "text" else "text"
        raise RuntimeError(f"Expected a {key} message, got {other}")
    return value


def _json_payload(message: Message, mode: str) -> Any:
    return loads(_payload(message, "text" if mode == "text" else "bytes"))


class WebSocketTestSession:
    """A WebSocket conversation from a synchronous test: ``with client.websocket_connect("/ws") as ws:``.

    Entering runs the handshake (``WebSocketDisconnect`` or ``WebSocketDenialResponse`` if the app refuses);
    ``receive_*`` raise ``WebSocketDisconnect`` (with ``code`` and ``reason``) once the app closes; leaving closes
    the connection with 1000 and re-raises an exception the app raised (with ``raise_server_exceptions``).
    """

    def __init__(self, exchange: _WebSocketExchange, loop: _LoopThread) -> None:
        self._exchange = exchange
        self._loop = loop

    def __enter__(self) -> Self:
        self._loop.call(self._exchange.connect)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._loop.call(self._exchange.finish, exc_type is None)

    @property
    def accepted_subprotocol(self) -> str | None:
        return self._exchange.accepted_subprotocol

    @property
    def extra_headers(self) -> list[tuple[bytes, bytes]]:
        return self._exchange.extra_headers

    def send(self, message: Message) -> None:
        self._loop.call(self._exchange.send, message)

    def send_text(self, data: str) -> None:
        self.send(_data_message(data))

    def send_bytes(self, data: bytes) -> None:
        self.send(_data_message(data))

    def send_json(self, data: Any, mode: str = "text") -> None:
        self.send(_json_message(data, mode))

    def receive(self) -> Message:
        return self._loop.call(self._exchange.receive)

    def receive_text(self) -> str:
        return _payload(self.receive(), "text")  # type: ignore[no-any-return]

    def receive_bytes(self) -> bytes:
        return _payload(self.receive(), "bytes")  # type: ignore[no-any-return]

    def receive_json(self, mode: str = "text") -> Any:
        return _json_payload(self.receive(), mode)

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        self._loop.call(self._exchange.close, code, reason)


class AsyncWebSocketTestSession:
    """The async twin of :class:`WebSocketTestSession`: ``async with client.websocket_connect("/ws") as ws:``."""

    def __init__(self, exchange: _WebSocketExchange) -> None:
        self._exchange = exchange

    async def __aenter__(self) -> Self:
        await self._exchange.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._exchange.finish(exc_type is None)

    @property
    def accepted_subprotocol(self) -> str | None:
        return self._exchange.accepted_subprotocol

    @property
    def extra_headers(self) -> list[tuple[bytes, bytes]]:
        return self._exchange.extra_headers

    async def send(self, message: Message) -> None:
        await self._exchange.send(message)

    async def send_text(self, data: str) -> None:
        await self.send(_data_message(data))

    async def send_bytes(self, data: bytes) -> None:
        await self.send(_data_message(data))

    async def send_json(self, data: Any, mode: str = "text") -> None:
        await self.send(_json_message(data, mode))

    async def receive(self) -> Message:
        return await self._exchange.receive()

    async def receive_text(self) -> str:
        return _payload(await self.receive(), "text")  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        return _payload(await self.receive(), "bytes")  # type: ignore[no-any-return]

    async def receive_json(self, mode: str = "text") -> Any:
        return _json_payload(await self.receive(), mode)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        await self._exchange.close(code, reason)
