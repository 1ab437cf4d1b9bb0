"""``starlette.middleware.httpsredirect``."""

from ketch.middleware.httpsredirect import HTTPSRedirectMiddleware

__all__ = ["HTTPSRedirectMiddleware"]
