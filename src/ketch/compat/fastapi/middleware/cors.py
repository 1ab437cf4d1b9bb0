"""``fastapi.middleware.cors``."""

from ketch.middleware.cors import CORSMiddleware

__all__ = ["CORSMiddleware"]
