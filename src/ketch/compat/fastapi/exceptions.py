"""``fastapi.exceptions``. ``HTTPException`` is also ``ketch.compat.starlette.exceptions.HTTPException``."""

from ketch.exceptions import (
    HTTPException,
    RequestValidationError,
    ResponseValidationError,
    ValidationException,
    WebSocketException,
    WebSocketRequestValidationError,
)
from ketch.exceptions import ImproperlyConfigured as FastAPIError

__all__ = [
    "FastAPIError",
    "HTTPException",
    "RequestValidationError",
    "ResponseValidationError",
    "ValidationException",
    "WebSocketException",
    "WebSocketRequestValidationError",
]
