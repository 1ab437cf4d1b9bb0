"""Every exception ketch raises on purpose.

```
Exception
 ├── HTTPException            an HTTP error response: status, detail, headers
 │    └── RequestTooLarge     413, raised while reading a body past its limit
 ├── WebSocketException       closes a WebSocket with a code and reason
 ├── ClientDisconnect         the client went away while the body was being read
 └── ImproperlyConfigured     the app was set up wrongly (raised at start-up, never per request)
```
"""

from __future__ import annotations

import http
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ClientDisconnect",
    "HTTPException",
    "ImproperlyConfigured",
    "RequestTooLarge",
    "WebSocketException",
]


class HTTPException(Exception):
    """An exception that becomes an HTTP error response.

    Args:
        status_code: the HTTP status to send.
        detail: what the body says; defaults to the status phrase. Any JSON-able value.
        headers: extra response headers, e.g. ``WWW-Authenticate``.
    """

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            detail = http.HTTPStatus(status_code).phrase
        self.status_code = status_code
        self.detail = detail
        self.headers = headers
        super().__init__(status_code, detail)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class RequestTooLarge(HTTPException):
    """The request body (or a part of it) is larger than the configured limit."""

    def __init__(self, detail: Any = "Request body is too large") -> None:
        super().__init__(413, detail)


class WebSocketException(Exception):
    """Close the WebSocket with ``code`` and ``reason`` (1008 policy violation by default)."""

    def __init__(self, code: int = 1008, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(code={self.code!r}, reason={self.reason!r})"


class ClientDisconnect(Exception):
    """The client disconnected before the request body was fully received."""


class ImproperlyConfigured(Exception):
    """The application was configured in a way that cannot work; raised at start-up."""
