"""``flask.views``."""

from ketch.views import MethodView, View, http_method_funcs

__all__ = ["MethodView", "View", "http_method_funcs"]
