"""``fastapi.staticfiles``."""

from ketch.staticfiles import StaticFiles

__all__ = ["StaticFiles"]
