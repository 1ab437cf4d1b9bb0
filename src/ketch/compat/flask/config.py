"""``flask.config``."""

from ketch.compat.flask.app import Config
from ketch.config import ConfigAttribute

__all__ = ["Config", "ConfigAttribute"]
