"""``starlette.requests``."""

from ketch.exceptions import ClientDisconnect
from ketch.requests import HTTPConnection, Request

__all__ = ["ClientDisconnect", "HTTPConnection", "Request"]
