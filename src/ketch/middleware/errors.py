"""The outermost layer: an exception nobody handled becomes a generic 500, logged once with its route.

A traceback reaches the client only when the app runs with ``debug=True`` and the client is on loopback. If the
response had already started, nothing more is sent: the connection is left incomplete so the server closes it,
and the client sees a broken response rather than a silently truncated one.
"""

from __future__ import annotations

import html
import ipaddress
import linecache
import logging
import traceback
from collections.abc import Callable
from typing import Any

from ketch.concurrency import is_async_callable, run_in_threadpool
from ketch.requests import Request
from ketch.responses import RAISE_SERVER_EXCEPTIONS, RESPONSE_STARTED, HTMLResponse, PlainTextResponse, Response
from ketch.routing.router import Router, walk
from ketch.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RAISE_SERVER_EXCEPTIONS", "ServerErrorMiddleware", "is_loopback"]

logger = logging.getLogger("ketch.error")

# A scope key a test client sets to have unhandled errors re-raised to it once the 500 is sent.


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and the test client's ``testclient`` host."""
    if not host:
        return False
    if host in ("testclient", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ServerErrorMiddleware:
    """Turn an unhandled exception into a 500 (or the app's handler for 500/``Exception``)."""

    def __init__(self, app: ASGIApp, handler: Callable[..., Any] | None = None, debug: bool = False) -> None:
        self.app = app
        self.handler = handler
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_tracking(message: Message) -> None:
            # Middleware may send a response start of its own: record it like ketch's responses do.
            if message["type"] == "http.response.start":
                scope[RESPONSE_STARTED] = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            await self.handle(exc, scope, receive, send)

    async def handle(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        """Log ``exc`` once with its route and send a 500, unless the response has already started.

        ``scope[RESPONSE_STARTED]`` tells: every ketch response sets it when it sends its start, and the
        wrappers around anything else (app middleware, mounts) set it too.
        """
        route_path = _route_template(scope)
        logger.error("Exception in %s %s (route %s)", scope.get("method"), scope.get("path"), route_path, exc_info=exc)
        if not scope.get(RESPONSE_STARTED):
            response = await self._error_response(scope, receive, exc)
            await response(scope, receive, send)
        # Else the server sees an incomplete response and closes the connection.
        if scope.get(RAISE_SERVER_EXCEPTIONS):
            raise exc  # the test client asked to see the error itself (after the 500 went out)

    async def _error_response(self, scope: Scope, receive: Receive, exc: Exception) -> Response:
        request = Request(scope, receive)
        client = scope.get("client")
        if self.debug and is_loopback(client[0] if client else None):
            return debug_response(request, exc)
        if self.handler is not None:
            try:
                if is_async_callable(self.handler):
                    result = await self.handler(request, exc)
                else:
                    result = await run_in_threadpool(self.handler, request, exc)
                if isinstance(result, Response):
                    return result
            except Exception as handler_exc:  # a broken 500 handler must not take the server down
                logger.error("The 500 handler itself raised", exc_info=handler_exc)
        return PlainTextResponse("Internal Server Error", status_code=500)


def debug_response(request: Request, exc: BaseException) -> Response:
    """The debug page: the traceback with source context and locals, HTML-escaped (loopback clients only)."""
    accept = request.headers.get("accept", "")
    if "text/html" not in accept:
        text = "".join(traceback.format_exception(exc))
        return PlainTextResponse(text, status_code=500)
    frames = []
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        lines = []
        for number in range(max(1, lineno - 3), lineno + 3):
            line = linecache.getline(filename, number)
            if line:
                mark = ' class="current"' if number == lineno else ""
                lines.append(f"<tr{mark}><td>{number}</td><td><pre>{html.escape(line.rstrip())}</pre></td></tr>")
        local_rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td><pre>{html.escape(_short_repr(value))}</pre></td></tr>"
            for name, value in frame.f_locals.items()
        )
        frames.append(
            f"<details open><summary>{html.escape(filename)}, line {lineno}, in "
            f"{html.escape(frame.f_code.co_name)}</summary><table>{''.join(lines)}</table>"
            f"<table class=locals>{local_rows}</table></details>"
        )
    title = html.escape(f"{type(exc).__name__}: {exc}")
    page = (
        "<!doctype html><html><head><meta charset=utf-8><title>ketch debug</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em}pre{margin:0}tr.current{background:#fde68a}"
        "table{border-collapse:collapse;margin:.3em 0}td{padding:0 .6em;vertical-align:top}"
        ".locals td:first-child{font-weight:bold}</style></head><body>"
        f"<h1>500 Internal Server Error</h1><h2>{title}</h2>{''.join(frames)}</body></html>"
    )
    return HTMLResponse(page, status_code=500)


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        text = "<unrepresentable>"
    return text if len(text) <= 500 else text[:500] + "..."


def _route_template(scope: Scope) -> str:
    """The matched route's path as the app sees it, include prefixes and all (``/api/items/{id}``), or "-"."""
    route = scope.get("route")
    if route is None:
        return "-"
    app = scope.get("app")
    if isinstance(app, Router):
        for walked in walk(app):  # only when a 500 is logged: the route object knows only its own path
            if walked.route is route:
                return walked.path
    return getattr(route, "path", None) or "-"
