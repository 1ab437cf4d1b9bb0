"""``flask.testing``."""

from ketch.testing import FlaskClient

__all__ = ["FlaskClient"]
