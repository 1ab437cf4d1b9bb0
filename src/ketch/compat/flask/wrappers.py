"""``flask.wrappers``."""

from ketch.compat.flask.app import Request
from ketch.wrappers import Response

__all__ = ["Request", "Response"]
