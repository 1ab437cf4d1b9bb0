"""The WebSocket connection: accept, send and receive text, bytes or JSON, close.

Also the handshake's origin check. Browsers send cookies with a WebSocket handshake whatever site the page is on,
and CORS does not apply to it, so a page on another site could talk to the app as the logged-in user (cross-site
WebSocket hijacking). A handshake that carries both ``Cookie`` and an ``Origin`` other than the request's own
(and other than the app's ``websocket_origins``) is refused before the endpoint runs: see :func:`refused_origin`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import AsyncIterator, Iterable
from typing import Any

from ketch.json import dumps, loads
from ketch.limits import DEFAULT_LIMITS, Limits
from ketch.requests import HTTPConnection, valid_host
from ketch.types import Message, Receive, Scope, Send

__all__ = [
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketState",
    "allowed_origins",
    "normalize_origin",
    "refused_origin",
]


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3


class WebSocketDisconnect(Exception):
    """The peer closed the connection (``code`` 1000 normal, 1006 dropped, ...)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)


class WebSocket(HTTPConnection):
    """A WebSocket connection. Iterate it (``async for text in ws.iter_text()``) or call receive/send directly."""

    __slots__ = ("_receive", "_send", "client_state", "application_state")

    def __init__(self, scope: Scope, receive: Receive, send: Send, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(scope, limits)
        assert scope["type"] == "websocket"
        self._receive = receive
        self._send = send
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING

    async def receive(self) -> Message:
        """The next raw ASGI message from the client."""
        if self.client_state == WebSocketState.CONNECTING:
            message = await self._receive()
            if message["type"] != "websocket.connect":
                raise RuntimeError(f'Expected "websocket.connect", got {message["type"]!r}')
            self.client_state = WebSocketState.CONNECTED
            return message
        if self.client_state == WebSocketState.CONNECTED:
            message = await self._receive()
            if message["type"] not in ("websocket.receive", "websocket.disconnect"):
                raise RuntimeError(f"Unexpected ASGI message {message['type']!r}")
            if message["type"] == "websocket.disconnect":
                self.client_state = WebSocketState.DISCONNECTED
            return message
        raise RuntimeError('Cannot call "receive" once a disconnect message has been received.')

    async def send(self, message: Message) -> None:
        """Send a raw ASGI message to the client."""
        if self.application_state == WebSocketState.CONNECTING:
            kind = message["type"]
            if kind not in ("websocket.accept", "websocket.close", "websocket.http.response.start"):
                raise RuntimeError('Expected "websocket.accept", "websocket.close" or a denial response')
            if kind == "websocket.close":
                self.application_state = WebSocketState.DISCONNECTED
            elif kind == "websocket.http.response.start":
                self.application_state = WebSocketState.RESPONSE
            else:
                self.application_state = WebSocketState.CONNECTED
            await self._send(message)
        elif self.application_state == WebSocketState.CONNECTED:
            if message["type"] not in ("websocket.send", "websocket.close"):
                raise RuntimeError(f"Unexpected ASGI message {message['type']!r}")
            if message["type"] == "websocket.close":
                self.application_state = WebSocketState.DISCONNECTED
            try:
                await self._send(message)
            except OSError:
                self.application_state = WebSocketState.DISCONNECTED
                raise WebSocketDisconnect(code=1006) from None
        elif self.application_state == WebSocketState.RESPONSE:
            if message["type"] != "websocket.http.response.body":
                raise RuntimeError('Expected "websocket.http.response.body"')
            if not message.get("more_body", False):
                self.application_state = WebSocketState.DISCONNECTED
            await self._send(message)
        else:
            raise RuntimeError('Cannot call "send" once a close message has been sent.')

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Iterable[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """Accept the connection, optionally choosing a subprotocol and adding headers."""
        if self.client_state == WebSocketState.CONNECTING:
            await self.receive()
        await self.send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": list(headers or [])})

    def _raise_on_disconnect(self, message: Message) -> None:
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))

    async def receive_text(self) -> str:
        self._require_connected()
        message = await self.receive()
        self._raise_on_disconnect(message)
        text = message.get("text")
        if text is None:
            raise RuntimeError("Expected a text message, got bytes")
        return text  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        self._require_connected()
        message = await self.receive()
        self._raise_on_disconnect(message)
        data = message.get("bytes")
        if data is None:
            raise RuntimeError("Expected a bytes message, got text")
        return data  # type: ignore[no-any-return]

    async def receive_json(self, mode: str = "text") -> Any:
        self._require_connected()
        message = await self.receive()
        self._raise_on_disconnect(message)
        data = message.get("text") if mode == "text" else message.get("bytes")
        if data is None:
            data = message.get("bytes") or message.get("text") or ""
        return loads(data)

    def _require_connected(self) -> None:
        if self.application_state != WebSocketState.CONNECTED:
            raise RuntimeError('WebSocket is not connected. Need to call "accept" first.')

    async def iter_text(self) -> AsyncIterator[str]:
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    async def send_text(self, data: str) -> None:
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, mode: str = "text") -> None:
        encoded = dumps(data)
        if mode == "text":
            await self.send({"type": "websocket.send", "text": encoded.decode("utf-8")})
        else:
            await self.send({"type": "websocket.send", "bytes": encoded})

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        await self.send({"type": "websocket.close", "code": code, "reason": reason or ""})

    async def send_denial_response(self, response: Any) -> None:
        """Refuse the handshake with an HTTP response (servers with the denial extension), else close 1008."""
        if "websocket.http.response" in self.scope.get("extensions", {}):
            await response(self.scope, self.receive, self._send_denial)
        else:
            await self.close(code=1008)

    async def _send_denial(self, message: Message) -> None:
        await self.send({**message, "type": "websocket." + message["type"]})


# -- the handshake's origin check ----------------------------------------------------------------------------------

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def normalize_origin(origin: str) -> str | None:
    """``origin`` as ``scheme://host[:port]``, lower-cased, without the scheme's default port; None when it is not
    an origin (a path, credentials, ``null``...). The host is checked as the ``Host`` header is for URLs."""
    scheme, sep, host = origin.partition("://")
    if not sep or _SCHEME.fullmatch(scheme) is None or not valid_host(host):
        return None
    scheme, host = scheme.lower(), host.lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default is not None and host.endswith(default):
        host = host[: -len(default)]
    return f"{scheme}://{host}"


def allowed_origins(origins: Iterable[str]) -> frozenset[str] | None:
    """The app's ``websocket_origins``, normalised once; None when ``"*"`` turns the check off.

    Raises ``ValueError`` for an entry that is not an origin (``"https://app.example.com/"`` has a path).
    """
    if isinstance(origins, str):
        raise TypeError(f"websocket_origins takes a list of origins, not a string: [{origins!r}]")
    normal: set[str] = set()
    for origin in origins:
        if origin == "*":
            return None
        entry = normalize_origin(origin)
        if entry is None:
            raise ValueError(f"websocket_origins: {origin!r} is not an origin (scheme://host[:port], nothing after)")
        normal.add(entry)
    return frozenset(normal)


def refused_origin(scope: Scope, allowed: frozenset[str]) -> str | None:
    """The ``Origin`` of a handshake to refuse, else None.

    Refused: a handshake with a ``Cookie`` whose ``Origin`` is neither the request's own (the scope's scheme, the
    ``Host`` header) nor in ``allowed``. Let through: no ``Origin`` (not a browser), no ``Cookie`` (nothing to
    hijack: a token-authenticated socket needs the token). A malformed or repeated ``Origin``, or a ``Host``
    header that is missing, repeated or invalid, cannot be shown to be the same site: refused.
    """
    origin: bytes | None = None
    host: bytes | None = None
    cookie = False
    origins = hosts = 0
    for key, value in scope["headers"]:
        if key == b"origin":
            origin = value
            origins += 1
        elif key == b"cookie":
            cookie = True
        elif key == b"host":
            host = value
            hosts += 1
    if origin is None or not cookie:
        return None
    text = origin.decode("latin-1")
    normal = normalize_origin(text) if origins == 1 else None
    if normal is None:
        return text
    if normal in allowed:
        return None
    if host is not None and hosts == 1:
        scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
        if normalize_origin(f"{scheme}://{host.decode('latin-1')}") == normal:
            return None
    return text
