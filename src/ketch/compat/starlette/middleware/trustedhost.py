"""``starlette.middleware.trustedhost``."""

from ketch.middleware.trustedhost import ENFORCE_DOMAIN_WILDCARD, TrustedHostMiddleware

__all__ = ["ENFORCE_DOMAIN_WILDCARD", "TrustedHostMiddleware"]
