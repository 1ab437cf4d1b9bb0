"""``flask.cli``."""

from ketch._classic_app import with_appcontext

__all__ = ["with_appcontext"]
