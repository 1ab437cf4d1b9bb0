"""``fastapi.testclient``."""

from ketch.testclient import TestClient

__all__ = ["TestClient"]
