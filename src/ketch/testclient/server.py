"""The test client's fake server: the scope of each connection, the app run as a task, and how it is stopped.

This is what HTTP, lifespan and WebSocket connections share; none of it knows which client (sync or async) drives it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from ketch.responses import RAISE_SERVER_EXCEPTIONS
from ketch.types import ASGIApp, Message, Scope

__all__: list[str] = []


class _Exit:
    """Put in an outbox when the app returns or raises."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


async def _run_app(
    app: ASGIApp, scope: Scope, receive: Any, send: Any, outbox: asyncio.Queue[Message | _Exit]
) -> BaseException | None:
    """Call the app; post an ``_Exit`` when it is done, and return what it raised (cancellation propagates)."""
    try:
        await app(scope, receive, send)
    except BaseException as exc:
        outbox.put_nowait(_Exit(exc))
        if isinstance(exc, asyncio.CancelledError):
            raise
        return exc
    outbox.put_nowait(_Exit(None))
    return None


async def _stop_task(task: asyncio.Task[Any] | None) -> None:
    """Give an app task that has been told the client left a moment to finish, then cancel it."""
    if task is None or task.done():
        return
    from ketch import testclient  # the grace is the package's setting, read at each stop (a test may shorten it)

    try:
        await asyncio.wait_for(asyncio.shield(task), testclient._STOP_GRACE)
    except TimeoutError:
        task.cancel()
        await asyncio.wait({task})


class _Server:
    """What a server would tell the app: the scope of each connection, and the lifespan state."""

    __slots__ = ("app", "root_path", "client", "raise_server_exceptions", "state")

    def __init__(
        self, app: ASGIApp, root_path: str, client: tuple[str, int], raise_server_exceptions: bool, backend: str
    ) -> None:
        if backend != "asyncio":
            raise ValueError(f"Unsupported backend {backend!r}: ketch runs on asyncio")
        self.app = app
        self.root_path = root_path
        self.client = client
        self.raise_server_exceptions = raise_server_exceptions
        self.state: dict[str, Any] | None = None  # set while a lifespan is running

    def scope(self, request: httpx.Request, kind: str) -> Scope:
        url = request.url
        scheme = url.scheme
        if kind == "websocket":
            scheme = {"http": "ws", "https": "wss"}.get(scheme, scheme)
        default_port = 443 if scheme in ("https", "wss") else 80
        raw_path = url.raw_path.split(b"?", 1)[0]
        # NOTE: like uvicorn --root-path, the root path is prepended to both path and raw_path (ASGI spec).
        scope: Scope = {
            "type": kind,
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": scheme,
            "path": self.root_path + url.path,
            "raw_path": quote(self.root_path).encode("ascii") + raw_path,
            "query_string": url.query,
            "root_path": self.root_path,
            "headers": [(key.lower(), value) for key, value in request.headers.raw],
            "client": self.client,
            "server": (url.host, url.port or default_port),
            "extensions": {},
        }
        if kind == "http":
            scope["method"] = request.method
        if self.state is not None:
            scope["state"] = dict(self.state)
        if self.raise_server_exceptions:
            scope[RAISE_SERVER_EXCEPTIONS] = True  # ketch re-raises after its 500 / close 1011
        return scope

    def websocket_scope(self, request: httpx.Request, subprotocols: Sequence[str] | None) -> Scope:
        scope = self.scope(request, "websocket")
        scope["subprotocols"] = list(subprotocols or [])
        scope["extensions"]["websocket.http.response"] = {}  # the app may deny the handshake with a response
        return scope
