"""``fastapi.requests``."""

from ketch.requests import HTTPConnection, Request

__all__ = ["HTTPConnection", "Request"]
