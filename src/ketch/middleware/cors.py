"""CORS: answer preflight requests and add ``Access-Control-*`` headers for the origins an app allows.

Same options and behaviour as Starlette's ``CORSMiddleware`` (FastAPI re-exports it), with these differences, all
of them stricter:

- An origin is echoed only if it is a well-formed serialized origin, ``scheme://host[:port]`` and nothing else, so
  ``allow_origin_regex=r"https://.*\\.example\\.com"`` (matched with ``fullmatch``) still refuses
  ``https://evil.com?.example.com``. Entries of ``allow_origins`` are compared as exact strings.
- The opaque origin ``null`` (sandboxed frames, ``file:`` pages) is allowed only when ``"null"`` is listed in
  ``allow_origins``; neither ``*`` nor the regex covers it.
- With ``allow_credentials=True``, ``Access-Control-Allow-Origin: *`` is never sent: the origin is echoed instead.
- A rejected preflight (400 ``Disallowed CORS ...``) carries no ``Access-Control-Allow-Origin`` or
  ``-Credentials``; a response to a disallowed origin gets no CORS headers at all.
- Every response carries ``Vary: Origin`` (preflights also vary on the ``Access-Control-Request-*`` headers), since
  what it says depends on the origin; headers are set on a copy, so nothing leaks into the next request even when an
  endpoint returns a shared ``Response`` object.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from ketch.datastructures import Headers, MutableHeaders
from ketch.responses import PlainTextResponse, Response
from ketch.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ALL_METHODS", "SAFELISTED_HEADERS", "CORSMiddleware"]

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
SAFELISTED_HEADERS = frozenset({"Accept", "Accept-Language", "Content-Language", "Content-Type"})

_PREFLIGHT_VARY = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
)
# A serialized origin as browsers send it: no path, query, fragment, userinfo, whitespace or control characters.
_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://(?:[A-Za-z0-9\-._~]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_MAX_ORIGIN_LENGTH = 2048  # bounds the work a user's allow_origin_regex can be made to do
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class CORSMiddleware:
    """Cross-Origin Resource Sharing for the app or router it wraps (HTTP only; other scopes pass through).

    Args:
        app: the ASGI app to wrap.
        allow_origins: origins allowed to read responses, compared exactly (``"https://example.com"``); ``"*"``
            allows any origin except ``null``.
        allow_methods: methods a preflight may ask for; ``"*"`` means all of :data:`ALL_METHODS`.
        allow_headers: request headers a preflight may ask for, besides the CORS-safelisted ones; ``"*"`` allows
            any header.
        allow_credentials: let browsers send cookies and read the response (the origin is then always echoed).
        allow_origin_regex: a pattern an origin must match in full (``re.fullmatch``) to be allowed.
        allow_private_network: answer ``Access-Control-Request-Private-Network`` preflights with consent.
        expose_headers: response headers the browser may show to the page.
        max_age: how long, in seconds, a browser may cache a preflight answer.
    """

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("GET",),
        allow_headers: Collection[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        allow_private_network: bool = False,
        expose_headers: Collection[str] = (),
        max_age: int = 600,
    ) -> None:
        if "*" in allow_methods:
            allow_methods = ALL_METHODS
        self.app = app
        self.allow_origins = allow_origins
        self.allow_methods = tuple(allow_methods)
        self.allow_all_origins = "*" in allow_origins
        self.allow_all_headers = "*" in allow_headers
        self.allow_credentials = allow_credentials
        self.allow_origin_regex = re.compile(allow_origin_regex) if allow_origin_regex is not None else None
        self.allow_private_network = allow_private_network
        self._exact_origins = frozenset(allow_origins) - {"*"}
        # "*" cannot answer a credentialed request, so with credentials the origin is echoed instead.
        self._echo_origin = not self.allow_all_origins or allow_credentials

        spelled = {h.lower(): h for h in sorted(SAFELISTED_HEADERS)}
        for header in allow_headers:
            if header != "*":
                spelled.setdefault(header.lower(), header)
        self.allow_headers = frozenset(spelled)
        # Fixed headers are immutable tuples: each response gets its own copy, so none can leak between requests.
        simple = []
        if allow_credentials:
            simple.append(("Access-Control-Allow-Credentials", "true"))
        if expose_headers:
            simple.append(("Access-Control-Expose-Headers", ", ".join(expose_headers)))
        self._simple_headers = tuple(simple)
        preflight = [
            ("Vary", _PREFLIGHT_VARY),
            ("Access-Control-Allow-Methods", ", ".join(self.allow_methods)),
            ("Access-Control-Max-Age", str(max_age)),
        ]
        if not self.allow_all_headers:
            preflight.append(("Access-Control-Allow-Headers", ", ".join(sorted(spelled.values()))))
        self._preflight_headers = tuple(preflight)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = _single_origin(headers)
        if origin is not None and scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self.preflight_response(headers)(scope, receive, send)
            return
        await self.simple_response(scope, receive, send, origin)

    def is_allowed_origin(self, origin: str) -> bool:
        """Whether ``origin`` may read responses: listed exactly, or well-formed and covered by ``*`` or the regex."""
        if origin in self._exact_origins:
            return True
        if origin == "null" or len(origin) > _MAX_ORIGIN_LENGTH or _ORIGIN.fullmatch(origin) is None:
            return False
        if self.allow_all_origins:
            return True
        return self.allow_origin_regex is not None and self.allow_origin_regex.fullmatch(origin) is not None

    def preflight_response(self, request_headers: Headers) -> Response:
        """The answer to a preflight: 200 ``OK`` with the grants, or 400 naming what was refused."""
        origin = _single_origin(request_headers) or ""
        headers = dict(self._preflight_headers)
        failures: list[str] = []
        if self.is_allowed_origin(origin):
            headers["Access-Control-Allow-Origin"] = origin if self._echo_origin else "*"
        else:
            failures.append("origin")
        if request_headers["access-control-request-method"] not in self.allow_methods:
            failures.append("method")
        requested = request_headers.get("access-control-request-headers")
        if requested is not None:
            tokens = [t.strip() for t in requested.split(",") if t.strip()]
            if not all(_TOKEN.fullmatch(t) for t in tokens):
                failures.append("headers")
            elif self.allow_all_headers:
                if tokens:
                    headers["Access-Control-Allow-Headers"] = ", ".join(tokens)
            elif any(t.lower() not in self.allow_headers for t in tokens):
                failures.append("headers")
        if "access-control-request-private-network" in request_headers:
            if self.allow_private_network:
                headers["Access-Control-Allow-Private-Network"] = "true"
            else:
                failures.append("private-network")
        if failures:
            # NOTE: a refusal grants nothing; the 400 is for humans reading the network tab.
            for grant in ("Access-Control-Allow-Origin", "Access-Control-Allow-Private-Network"):
                headers.pop(grant, None)
            return PlainTextResponse("Disallowed CORS " + ", ".join(failures), status_code=400, headers=headers)
        if self.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return PlainTextResponse("OK", status_code=200, headers=headers)

    async def simple_response(self, scope: Scope, receive: Receive, send: Send, origin: str | None) -> None:
        """Run the app, adding the CORS headers for ``origin`` to its response."""
        allowed = origin is not None and self.is_allowed_origin(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = self._add_headers(message, origin if allowed else None)
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _add_headers(self, message: Message, allowed_origin: str | None) -> Message:
        # A copy: the app may send the header list of a Response object it reuses for every request.
        headers = MutableHeaders(raw=list(message.get("headers", ())))
        if allowed_origin is not None:
            headers["Access-Control-Allow-Origin"] = allowed_origin if self._echo_origin else "*"
            for name, value in self._simple_headers:
                headers[name] = value
        _add_vary(headers, "Origin")
        return {**message, "headers": headers.raw}


def _single_origin(headers: Headers) -> str | None:
    # Two Origin headers join into a value no origin check accepts.
    origins = headers.getlist("origin")
    return ", ".join(origins) if origins else None


def _add_vary(headers: MutableHeaders, token: str) -> None:
    # Merges every Vary line: MutableHeaders.add_vary_header reads only the first and drops the others.
    lines = [line for line in headers.getlist("vary") if line.strip()]
    present = {part.strip().lower() for line in lines for part in line.split(",")}
    if token.lower() not in present and "*" not in present:
        headers["Vary"] = ", ".join([*lines, token])
