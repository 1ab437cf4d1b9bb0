"""``starlette.middleware.base``."""

from ketch.middleware.base import BaseHTTPMiddleware, DispatchFunction
from ketch.middleware.base import CallNext as RequestResponseEndpoint

__all__ = ["BaseHTTPMiddleware", "DispatchFunction", "RequestResponseEndpoint"]
