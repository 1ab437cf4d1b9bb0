"""``fastapi.middleware.wsgi``."""

from ketch.wsgi import WSGIMiddleware

__all__ = ["WSGIMiddleware"]
