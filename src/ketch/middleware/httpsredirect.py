"""HTTPSRedirect: send every plain ``http``/``ws`` request to the same URL on ``https``/``wss`` (307).

Same behaviour as Starlette's ``HTTPSRedirectMiddleware`` (FastAPI re-exports it): the default ports 80 and 443 are
dropped from the new URL, any other port is kept. The difference is where the host comes from: a ``Host`` header
is used only if there is exactly one and it is a plain host name or IP literal with an optional port (see
:func:`ketch.requests.valid_host`); otherwise the server's own address is used, and with neither the request is
refused with 400 ``Invalid host header``. The path always starts with ``/``, so the ``Location`` can only point at
that host: this middleware is never an open redirect.
"""

from __future__ import annotations

from urllib.parse import quote

from ketch.requests import valid_host
from ketch.responses import PlainTextResponse, RedirectResponse, Response
from ketch.types import ASGIApp, Receive, Scope, Send
from ketch.websockets import WebSocket

__all__ = ["HTTPSRedirectMiddleware"]

_SECURE = {"http": "https", "ws": "wss"}
_DEFAULT_PORTS = ("80", "443")


class HTTPSRedirectMiddleware:
    """Redirect insecure HTTP and WebSocket requests to their secure URL; secure ones and other scopes pass through.

    Args:
        app: the ASGI app to wrap.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scheme = scope.get("scheme", "http" if scope["type"] == "http" else "ws")
        if scope["type"] not in ("http", "websocket") or scheme not in _SECURE:
            await self.app(scope, receive, send)
            return
        authority = _authority(scope)
        response: Response
        if authority is None:
            response = PlainTextResponse("Invalid host header", status_code=400)
        else:
            response = RedirectResponse(f"{_SECURE[scheme]}://{authority}{_target(scope)}", status_code=307)
        if scope["type"] == "websocket":
            await WebSocket(scope, receive, send).send_denial_response(response)
        else:
            await response(scope, receive, send)


def _authority(scope: Scope) -> str | None:
    """Host and non-default port for the secure URL: from one valid ``Host`` header, else the server address."""
    hosts = [value for key, value in scope["headers"] if key == b"host"]
    if len(hosts) == 1:
        host = hosts[0].decode("latin-1")
        if valid_host(host):
            name, port = _split_port(host)
            return name if port in _DEFAULT_PORTS or port is None else host
    server = scope.get("server")
    if not server:
        return None
    name, port = server[0], str(server[1]) if server[1] is not None else None
    if ":" in name:
        name = f"[{name}]"
    return name if port in _DEFAULT_PORTS or port is None else f"{name}:{port}"


def _split_port(host: str) -> tuple[str, str | None]:
    end = host.rfind("]") + 1  # after an IPv6 literal's bracket, or 0
    name, sep, port = host[end:].rpartition(":")
    if not sep:
        return host, None
    return host[:end] + name, port


def _target(scope: Scope) -> str:
    path = scope.get("raw_path") or quote(scope["path"]).encode("latin-1")
    target: str = path.decode("latin-1")
    if not target.startswith("/"):
        target = "/" + target  # never let the path run into the authority (``example.com@evil.com``)
    query = scope.get("query_string", b"")
    if query:
        target += "?" + query.decode("latin-1")
    return target
