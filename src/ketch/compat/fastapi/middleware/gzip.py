"""``fastapi.middleware.gzip``."""

from ketch.middleware.gzip import GZipMiddleware

__all__ = ["GZipMiddleware"]
