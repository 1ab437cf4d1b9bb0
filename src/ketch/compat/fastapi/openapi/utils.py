"""``fastapi.openapi.utils``."""

from ketch.openapi import get_openapi

__all__ = ["get_openapi"]
