"""``flask.json.tag``."""

from ketch.sessions import TaggedJSONSerializer

__all__ = ["TaggedJSONSerializer"]
