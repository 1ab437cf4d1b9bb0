"""Every exception ketch raises on purpose.

```
Exception
 ├── HTTPException            an HTTP error response: status, detail, headers
 │    └── RequestTooLarge     413, raised while reading a body past its limit
 ├── WebSocketException       closes a WebSocket with a code and reason
 ├── ValidationException      a list of validation errors, FastAPI-shaped ({"type", "loc", "msg", "input", "ctx"?})
 │    ├── RequestValidationError           422: the request's path, query, headers, cookies or body are invalid
 │    ├── WebSocketRequestValidationError  a WebSocket's parameters are invalid: closed with 1008
 │    └── ResponseValidationError          500: the endpoint returned something its response model rejects
 ├── ClientDisconnect         the client went away while the body was being read
 └── ImproperlyConfigured     the app was set up wrongly (raised at start-up, never per request)
```
"""

from __future__ import annotations

import http
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "ClientDisconnect",
    "HTTPException",
    "ImproperlyConfigured",
    "RequestTimeout",
    "RequestTooLarge",
    "RequestValidationError",
    "ResponseValidationError",
    "ValidationException",
    "WebSocketException",
    "WebSocketRequestValidationError",
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


class RequestTimeout(HTTPException):
    """The request body stopped arriving: no data for ``timeout`` seconds (``Limits.body_timeout``). The
    connection is not reused: the rest of the body may still follow."""

    def __init__(self, timeout: float) -> None:
        detail = f"Timed out waiting for the request body: no data for {timeout:g} s"
        super().__init__(408, detail, headers={"Connection": "close"})


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


class ValidationException(Exception):
    """Validation failed; ``errors()`` lists what failed, in pydantic's shape with FastAPI's ``loc`` prefixes.

    Args:
        errors: dicts with ``type``, ``loc``, ``msg``, ``input`` and sometimes ``ctx``.
        endpoint_ctx: where the endpoint is (``function``, ``path``, ``file``, ``line``), for the message.
    """

    def __init__(self, errors: Sequence[Any], *, endpoint_ctx: Mapping[str, Any] | None = None) -> None:
        self._errors = errors
        self.endpoint_ctx = endpoint_ctx
        ctx = endpoint_ctx or {}
        self.endpoint_function = ctx.get("function")
        self.endpoint_path = ctx.get("path")
        self.endpoint_file = ctx.get("file")
        self.endpoint_line = ctx.get("line")
        super().__init__(errors)

    def errors(self) -> Sequence[Any]:
        """The validation errors."""
        return self._errors

    def __str__(self) -> str:
        count = len(self._errors)
        lines = [f"{count} validation error{'s' if count != 1 else ''}:"]
        lines += [f"  {error}" for error in self._errors]
        # A blank line, then where the endpoint is (FastAPI's layout).
        if self.endpoint_file and self.endpoint_line and self.endpoint_function:
            lines.append(f'\n  File "{self.endpoint_file}", line {self.endpoint_line}, in {self.endpoint_function}')
            if self.endpoint_path:
                lines.append(f"    {self.endpoint_path}")
        elif self.endpoint_path:
            lines.append(f"\n  Endpoint: {self.endpoint_path}")
        return "\n".join(lines)


class RequestValidationError(ValidationException):
    """The request does not match the endpoint's declared parameters; answered with 422 by default.

    ``body`` is the request body as parsed when the error happened (None when there was none).
    """

    def __init__(
        self, errors: Sequence[Any], *, body: Any = None, endpoint_ctx: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(errors, endpoint_ctx=endpoint_ctx)
        self.body = body


class WebSocketRequestValidationError(ValidationException):
    """A WebSocket's declared parameters are invalid; the connection is closed with 1008 by default."""


class ResponseValidationError(ValidationException):
    """The endpoint's return value does not match its response model: a bug in the app, so a 500.

    ``body`` is the value the endpoint returned.
    """

    def __init__(
        self, errors: Sequence[Any], *, body: Any = None, endpoint_ctx: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(errors, endpoint_ctx=endpoint_ctx)
        self.body = body
