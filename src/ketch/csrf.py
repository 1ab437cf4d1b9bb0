"""CSRF protection for classic-face form posts: on by default in ketch apps (``CSRF_ENABLED``).

A POST, PUT, PATCH or DELETE to a classic route is refused with 403 when:

- the browser says it is cross-site (``Sec-Fetch-Site: cross-site``, or an ``Origin`` naming another host and
  not listed in ``CSRF_TRUSTED_ORIGINS``); or
- it carries a body a cross-site form could send (urlencoded, multipart, ``text/plain``, or none at all) without a
  valid token in the ``csrf_token`` field or an ``X-CSRFToken`` / ``X-CSRF-Token`` header.

A token is a signed copy of a secret kept in the session, so a token from another session, a forged one or one
older than ``CSRF_TIME_LIMIT`` seconds fails. Templates get it as ``{{ csrf_token() }}``. GET, HEAD, OPTIONS and
TRACE are never checked; a view decorated with :func:`csrf_exempt` is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ketch.ctx import _cv_request
from ketch.exceptions import HTTPException
from ketch.sessions import constant_time_equal, new_token, signing_serializer

__all__ = ["CSRFError", "csrf_exempt", "generate_csrf", "protect", "validate_csrf"]

_F = TypeVar("_F", bound=Callable[..., Any])
_SESSION_KEY = "_csrf_token"
_SALT = "ketch-csrf-token"
# Bodies a cross-site HTML form can send without a CORS preflight.
_SIMPLE_TYPES = frozenset({"", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})


class CSRFError(HTTPException):
    """A request failed the CSRF check (403)."""

    def __init__(self, description: str) -> None:
        super().__init__(403, description)


def csrf_exempt(view: _F) -> _F:
    """Skip the CSRF check for this view (a webhook that authenticates itself, for example)."""
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def _serializer(app: Any) -> Any:
    if not app.secret_key:
        raise RuntimeError("CSRF protection needs a SECRET_KEY (or set CSRF_ENABLED = False)")
    keys = [*(app.config.get("SECRET_KEY_FALLBACKS") or []), app.secret_key]
    return signing_serializer(keys, _SALT)


def generate_csrf() -> str:
    """The CSRF token for the current session (one per request; the session gets a secret if it had none)."""
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError("generate_csrf() needs an active request context")
    cached = getattr(ctx, "csrf_token", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    session = ctx.session
    secret = session.get(_SESSION_KEY)
    if not isinstance(secret, str):
        secret = session[_SESSION_KEY] = new_token()
    token: str = _serializer(ctx.app).dumps(secret)
    ctx.csrf_token = token  # type: ignore[attr-defined]
    return token


def validate_csrf(token: str | None, ctx: Any) -> None:
    """Raise :class:`CSRFError` unless ``token`` was made for this session and is not too old."""
    if not token:
        raise CSRFError("The CSRF token is missing.")
    secret = ctx.session.get(_SESSION_KEY)
    if not isinstance(secret, str):
        raise CSRFError("The CSRF session token is missing.")
    app = ctx.app
    try:
        signed = _serializer(app).loads(token, max_age=app.config.get("CSRF_TIME_LIMIT"))
    except Exception:  # bad signature, expired, garbage: all the same to the client
        raise CSRFError("The CSRF token is invalid.") from None
    if not isinstance(signed, str) or not constant_time_equal(signed, secret):
        raise CSRFError("The CSRF tokens do not match.")


def _cross_site(request: Any, trusted: list[str]) -> bool:
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    if origin == "null":
        return True
    if origin in trusted:
        return False
    return bool(urlsplit(origin).netloc.lower() != request.host.lower())


def protect(ctx: Any) -> None:
    """The check a classic plan runs before the before_request functions of an unsafe request."""
    request = ctx.request
    config = ctx.app.config
    if _cross_site(request, list(config.get("CSRF_TRUSTED_ORIGINS") or [])):
        raise CSRFError("Cross-site form posts are not allowed.")
    if request.mimetype not in _SIMPLE_TYPES:
        return  # a JSON (or other) body needs a CORS preflight to come from another site
    token = request.form.get(config.get("CSRF_FIELD_NAME", "csrf_token"))
    if not token:
        for header in config.get("CSRF_HEADERS") or ("X-CSRFToken", "X-CSRF-Token"):
            token = request.headers.get(header)
            if token:
                break
    validate_csrf(token, ctx)
