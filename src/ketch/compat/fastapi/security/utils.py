"""``fastapi.security.utils``."""

from ketch.security.utils import get_authorization_scheme_param

__all__ = ["get_authorization_scheme_param"]
