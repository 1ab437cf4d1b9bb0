"""``flask.testing``."""

from ketch.cli import AppCliRunner as FlaskCliRunner
from ketch.testing import FlaskClient

__all__ = ["FlaskCliRunner", "FlaskClient"]
