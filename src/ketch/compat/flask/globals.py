"""``flask.globals``."""

from ketch.globals import app_ctx, current_app, g, request, request_ctx, session

__all__ = ["app_ctx", "current_app", "g", "request", "request_ctx", "session"]
