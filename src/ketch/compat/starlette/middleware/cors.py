"""``starlette.middleware.cors``."""

from ketch.middleware.cors import ALL_METHODS, SAFELISTED_HEADERS, CORSMiddleware

__all__ = ["ALL_METHODS", "SAFELISTED_HEADERS", "CORSMiddleware"]
