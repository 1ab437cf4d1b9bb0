"""The two test clients: :class:`TestClient` (sync, the app on a loop thread) and :class:`AsyncTestClient` (the
app in the caller's own event loop). Both are httpx clients with the fake server's transport underneath.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import httpx

from ketch.testclient.lifespan import _Lifespan
from ketch.testclient.loop_thread import _LoopThread
from ketch.testclient.server import _Server
from ketch.testclient.transport import _AsyncTransport, _SyncTransport
from ketch.testclient.websockets import (
    AsyncWebSocketTestSession,
    WebSocketTestSession,
    _upgrade_headers,
    _WebSocketExchange,
)
from ketch.types import ASGIApp

__all__ = ["AsyncTestClient", "TestClient"]


class TestClient(httpx.Client):
    """A synchronous ``httpx.Client`` that calls an ASGI app in-process.

    Use it as ``client = TestClient(app)`` (no lifespan; ketch plans its routes on the first request) or as
    ``with TestClient(app) as client:`` to run the lifespan protocol: start-up on enter (a failure raises
    ``RuntimeError`` there), shutdown on exit, and the lifespan state in every request's ``request.state``.

    Args:
        app: the ASGI app.
        base_url: the URL relative request paths are joined to.
        raise_server_exceptions: re-raise an exception from the app in the test instead of returning a 500.
        root_path: the ASGI ``root_path``, as a server started with ``--root-path`` sets it.
        backend: only ``"asyncio"`` (ketch runs on asyncio).
        cookies: cookies to start with; cookies the app sets persist across requests.
        headers: default request headers (``user-agent: testclient`` unless given).
        follow_redirects: follow redirects (default True, as Starlette's TestClient).
        client: the ``(host, port)`` the app sees as ``request.client``.
    """

    __test__ = False

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        backend: str = "asyncio",
        cookies: httpx.Cookies | dict[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.app = app
        self._server = _Server(app, root_path, client, raise_server_exceptions, backend)
        self._loop = _LoopThread()
        self._lifespan: _Lifespan | None = None
        transport = _SyncTransport(self._server, self._loop)
        super().__init__(**_client_options(base_url, cookies, headers, follow_redirects), transport=transport)

    def __enter__(self) -> Self:
        if self._lifespan is not None:
            raise RuntimeError("This TestClient is already inside a `with` block")
        lifespan = _Lifespan(self.app)
        try:
            self._loop.call(lifespan.startup)
        except BaseException:
            self._loop.stop()
            raise
        self._lifespan = lifespan
        self._server.state = lifespan.state
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        self._server.state = None
        try:
            if lifespan is not None:
                self._loop.call(lifespan.shutdown, exc_type is None)
        finally:
            self._loop.stop()

    def close(self) -> None:
        """Close the client and stop its event loop thread."""
        self._loop.stop()
        super().close()

    def websocket_connect(
        self, url: str, subprotocols: Sequence[str] | None = None, headers: Mapping[str, str] | None = None
    ) -> WebSocketTestSession:
        """A WebSocket session with the app at ``url``; use it with ``with``.

        The handshake carries the client's default headers and cookies plus ``headers``; ``subprotocols`` is
        offered in ``Sec-WebSocket-Protocol`` and appears in ``scope["subprotocols"]``.
        """
        request = self.build_request("GET", url, headers=_upgrade_headers(subprotocols, headers))
        exchange = _WebSocketExchange(self._server, self._server.websocket_scope(request, subprotocols))
        return WebSocketTestSession(exchange, self._loop)


class AsyncTestClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that calls an ASGI app in the caller's event loop.

    ``async with AsyncTestClient(app) as client:`` runs the lifespan protocol around the block; the arguments
    are those of :class:`TestClient`.
    """

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        backend: str = "asyncio",
        cookies: httpx.Cookies | dict[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.app = app
        self._server = _Server(app, root_path, client, raise_server_exceptions, backend)
        self._lifespan: _Lifespan | None = None
        transport = _AsyncTransport(self._server)
        super().__init__(**_client_options(base_url, cookies, headers, follow_redirects), transport=transport)

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        lifespan = _Lifespan(self.app)
        try:
            await lifespan.startup()
        except BaseException:
            await self.aclose()
            raise
        self._lifespan = lifespan
        self._server.state = lifespan.state
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        self._server.state = None
        try:
            if lifespan is not None:
                await lifespan.shutdown(exc_type is None)
        finally:
            await super().__aexit__(exc_type, exc_value, traceback)

    def websocket_connect(
        self, url: str, subprotocols: Sequence[str] | None = None, headers: Mapping[str, str] | None = None
    ) -> AsyncWebSocketTestSession:
        """An async WebSocket session with the app at ``url``; use it with ``async with``."""
        request = self.build_request("GET", url, headers=_upgrade_headers(subprotocols, headers))
        return AsyncWebSocketTestSession(
            _WebSocketExchange(self._server, self._server.websocket_scope(request, subprotocols))
        )


def _client_options(
    base_url: str, cookies: httpx.Cookies | dict[str, str] | None, headers: Mapping[str, str] | None, follow: bool
) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "cookies": cookies,
        "headers": {"user-agent": "testclient", **(headers or {})},
        "follow_redirects": follow,
    }
