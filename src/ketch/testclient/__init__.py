"""Test clients: drive an ASGI app in-process through httpx, with lifespan and WebSockets.

``TestClient`` is an ``httpx.Client`` for ordinary (sync) tests: the app runs on a private event loop in a
background thread, started on the first request and stopped on ``close()`` or when the ``with`` block ends.
``AsyncTestClient`` is an ``httpx.AsyncClient`` that runs the app in the caller's own event loop.

Both act like a small ASGI server: the request body reaches the app in chunks, ``receive()`` answers
``http.disconnect`` once the response is complete (or the client stopped reading), response bodies stream back
as the app sends them, and a response the app leaves unfinished is an error in the test, never a silently
truncated body. ``with client:`` runs the lifespan protocol; its state reaches every request as ``request.state``.

The clients are :mod:`ketch.testclient.clients`; underneath them, :mod:`~ketch.testclient.server` (scopes, the app
task), :mod:`~ketch.testclient.transport` (HTTP), :mod:`~ketch.testclient.lifespan`,
:mod:`~ketch.testclient.websockets` and :mod:`~ketch.testclient.loop_thread` (the sync client's event loop).
"""

from ketch.testclient.clients import AsyncTestClient, TestClient
from ketch.testclient.websockets import AsyncWebSocketTestSession, WebSocketDenialResponse, WebSocketTestSession

__all__ = [
    "AsyncTestClient",
    "AsyncWebSocketTestSession",
    "TestClient",
    "WebSocketDenialResponse",
    "WebSocketTestSession",
]

# After the test stops listening, how long the app gets to notice the disconnect before it is cancelled. It lives
# here and is read at each stop, so a test can shorten it: monkeypatch.setattr("ketch.testclient._STOP_GRACE", 0.1).
_STOP_GRACE = 2.0
