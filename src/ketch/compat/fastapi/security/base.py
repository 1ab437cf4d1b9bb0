"""``fastapi.security.base``."""

from ketch.security.base import SecurityBase

__all__ = ["SecurityBase"]
