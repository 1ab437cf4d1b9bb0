"""``flask.app``: ``Flask`` is a ketch app with Flask's defaults.

Only defaults live here: no CSRF check (Flask has none), Flask's cookie and form settings, ``FLASK_`` as the
environment prefix, ``app.get``/``app.post``... as Flask's route shortcuts (over the classic ``route``), Flask's
constructor arguments, and Werkzeug's exception classes from ``abort`` and in error handlers (Werkzeug is the
``ketch[flask]`` extra).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from werkzeug import exceptions as _werkzeug

from ketch.app import Ketch
from ketch.config import Config as _Config
from ketch.wrappers import Request as _Request

__all__ = ["Config", "Flask", "Request"]

_F = TypeVar("_F", bound=Callable[..., Any])


class Config(_Config):
    """``app.config``, reading ``FLASK_*`` variables in ``from_prefixed_env()``."""

    env_prefix = "FLASK"


class Request(_Request):
    """The request, with Werkzeug's ``BadRequestKeyError`` for ``request.form["missing"]``."""

    key_error_class = _werkzeug.BadRequestKeyError


class Flask(Ketch):
    """A Flask application: ``Flask(__name__)``, with Flask's defaults."""

    default_config = {
        **Ketch.default_config,
        "CSRF_ENABLED": False,
        "SESSION_COOKIE_SAMESITE": None,
        "MAX_FORM_MEMORY_SIZE": 500_000,
        "MAX_FORM_PARTS": 1_000,
    }
    config_class = Config
    request_class = Request
    aborter = _werkzeug.Aborter()
    http_exception_classes = _werkzeug.default_exceptions
    bad_request_key_error_class = _werkzeug.BadRequestKeyError

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(
            import_name,
            static_url_path=static_url_path,
            static_folder=static_folder,
            template_folder=template_folder,
            instance_path=instance_path,
            instance_relative_config=instance_relative_config,
            root_folder=root_path,
            static_host=static_host,
            host_matching=host_matching,
            subdomain_matching=subdomain_matching,
        )

    def get(self, rule: str, **options: Any) -> Callable[[_F], _F]:  # type: ignore[override]
        """``route(rule, methods=["GET"])``."""
        return self._method_route("GET", rule, options)

    def post(self, rule: str, **options: Any) -> Callable[[_F], _F]:  # type: ignore[override]
        """``route(rule, methods=["POST"])``."""
        return self._method_route("POST", rule, options)

    def put(self, rule: str, **options: Any) -> Callable[[_F], _F]:  # type: ignore[override]
        """``route(rule, methods=["PUT"])``."""
        return self._method_route("PUT", rule, options)

    def delete(self, rule: str, **options: Any) -> Callable[[_F], _F]:  # type: ignore[override]
        """``route(rule, methods=["DELETE"])``."""
        return self._method_route("DELETE", rule, options)

    def patch(self, rule: str, **options: Any) -> Callable[[_F], _F]:  # type: ignore[override]
        """``route(rule, methods=["PATCH"])``."""
        return self._method_route("PATCH", rule, options)
