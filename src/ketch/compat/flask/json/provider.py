"""``flask.json.provider``."""

from ketch.helpers import DefaultJSONProvider, JSONProvider

__all__ = ["DefaultJSONProvider", "JSONProvider"]
