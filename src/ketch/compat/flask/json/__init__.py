"""``flask.json``."""

from ketch.helpers import json_dumps as dumps
from ketch.helpers import json_loads as loads
from ketch.helpers import jsonify

__all__ = ["dumps", "jsonify", "loads"]
