"""``starlette.middleware``."""

from ketch.routing import Middleware

__all__ = ["Middleware"]
