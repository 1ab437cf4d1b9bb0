"""``fastapi.openapi.constants``."""

from ketch.openapi.fields import REF_PREFIX, REF_TEMPLATE
from ketch.openapi.generate import METHODS_WITH_BODY

__all__ = ["METHODS_WITH_BODY", "REF_PREFIX", "REF_TEMPLATE"]
