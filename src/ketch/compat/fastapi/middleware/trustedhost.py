"""``fastapi.middleware.trustedhost``."""

from ketch.middleware.trustedhost import TrustedHostMiddleware

__all__ = ["TrustedHostMiddleware"]
