"""TrustedHost: refuse requests whose ``Host`` header names a host the app does not serve.

Same options and behaviour as Starlette's ``TrustedHostMiddleware`` (FastAPI re-exports it), with these
differences:

- Matching is plain string comparison, never a regex: a pattern is an exact host name or ``*.`` plus a domain,
  which matches any subdomain (not the domain itself). Names compare case-insensitively and a trailing dot is
  ignored, so ``EXAMPLE.COM.`` is ``example.com``; ``exampleXcom`` and ``evil.com.example.com.attacker`` match
  nothing.
- A ``Host`` that is not a plain host name or IP literal with an optional port (``x/docs?``, ``a@b``, empty),
  a missing ``Host``, and two ``Host`` headers are all refused with 400 ``Invalid host header``. Two ``Host``
  headers are refused even with ``allowed_hosts=["*"]`` (RFC 9112 requires it).
- Bad patterns raise ``ValueError`` (Starlette uses ``assert``, which ``python -O`` removes).
- A refused WebSocket handshake gets the 400 as a denial response where the server supports it, else close 1008.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from ketch.requests import valid_host
from ketch.responses import PlainTextResponse, RedirectResponse, Response
from ketch.types import ASGIApp, Receive, Scope, Send
from ketch.websockets import WebSocket

__all__ = ["ENFORCE_DOMAIN_WILDCARD", "TrustedHostMiddleware"]

ENFORCE_DOMAIN_WILDCARD = "Domain wildcard patterns must be like '*.example.com'."


class TrustedHostMiddleware:
    """Serve only the hosts in ``allowed_hosts`` (HTTP and WebSocket; other scopes pass through).

    Args:
        app: the ASGI app to wrap.
        allowed_hosts: host names (``"example.com"``), subdomain wildcards (``"*.example.com"``), or ``"*"`` for any.
        www_redirect: redirect ``example.com`` to ``www.example.com`` when only the latter is allowed.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str] | None = None, www_redirect: bool = True) -> None:
        if allowed_hosts is None:
            allowed_hosts = ["*"]
        if isinstance(allowed_hosts, str):
            raise TypeError("allowed_hosts must be a list of host names, not a string")
        for pattern in allowed_hosts:
            if "*" in pattern[1:] or (pattern.startswith("*") and pattern != "*" and not pattern.startswith("*.")):
                raise ValueError(ENFORCE_DOMAIN_WILDCARD)
        self.app = app
        self.allowed_hosts = [_normalize(p) for p in allowed_hosts]
        self.allow_any = "*" in allowed_hosts
        self.www_redirect = www_redirect
        self._exact = frozenset(p for p in self.allowed_hosts if not p.startswith("*"))
        self._suffixes = tuple(p[1:] for p in self.allowed_hosts if p.startswith("*."))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hosts = [value for key, value in scope["headers"] if key == b"host"]
        if self.allow_any and len(hosts) < 2:
            await self.app(scope, receive, send)
            return
        host = hosts[0].decode("latin-1") if len(hosts) == 1 else ""
        if valid_host(host):
            name, port = _split_host(host)
            if self.is_allowed(name):
                await self.app(scope, receive, send)
                return
            if self.www_redirect and "www." + name in self._exact:
                await _respond(RedirectResponse(_www_url(scope, name, port)), scope, receive, send)
                return
        await _respond(PlainTextResponse("Invalid host header", status_code=400), scope, receive, send)

    def is_allowed(self, name: str) -> bool:
        """Whether the normalised host ``name`` (no port) is an allowed host."""
        return self.allow_any or name in self._exact or name.endswith(self._suffixes)


def _normalize(name: str) -> str:
    name = name.lower()
    return name[:-1] if name.endswith(".") else name


def _split_host(host: str) -> tuple[str, str | None]:
    """(lower-case name without a trailing dot, port or None) of a ``Host`` that passed ``valid_host``."""
    if host.startswith("["):
        end = host.index("]") + 1
        return host[:end].lower(), host[end + 1 :] or None
    name, _, port = host.partition(":")
    return _normalize(name), port or None


def _www_url(scope: Scope, name: str, port: str | None) -> str:
    path = scope.get("raw_path") or quote(scope["path"]).encode("latin-1")
    target = path.decode("latin-1")
    if not target.startswith("/"):
        target = "/" + target  # never let the path run into the authority (``www.example.com@evil.com``)
    query = scope.get("query_string", b"")
    if query:
        target += "?" + query.decode("latin-1")
    authority = f"www.{name}:{port}" if port else f"www.{name}"
    return f"{scope.get('scheme', 'http')}://{authority}{target}"


async def _respond(response: Response, scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await WebSocket(scope, receive, send).send_denial_response(response)
    else:
        await response(scope, receive, send)
