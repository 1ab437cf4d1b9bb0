"""``fastapi.security.api_key``."""

from ketch.security.api_key import APIKeyBase, APIKeyCookie, APIKeyHeader, APIKeyQuery

__all__ = ["APIKeyBase", "APIKeyCookie", "APIKeyHeader", "APIKeyQuery"]
