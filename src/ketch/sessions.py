"""Signed-cookie sessions for the classic face: ``session`` (owner of itsdangerous).

The session is a dict kept in a cookie signed with ``SECRET_KEY`` (HMAC-SHA1 through itsdangerous, salt
``"cookie-session"``) and serialised as tagged JSON, the format Flask writes, so a session made by a Flask app with
the same key reads back here. It is JSON, never pickle: a forged cookie can at worst carry data, never code.

Reading never fails a request: a tampered, foreign-key, expired, oversized or malformed cookie is an empty
session. A cookie signed with a key in ``SECRET_KEY_FALLBACKS`` is accepted, and any cookie written is signed with
the current ``SECRET_KEY``. Touching the session at all (even ``"x" in session`` or ``len(session)``) adds
``Vary: Cookie`` to the response.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import secrets
import time
from base64 import b64decode, b64encode
from binascii import a2b_base64
from collections.abc import Callable, Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ketch.json import loads as _loads

if TYPE_CHECKING:
    from ketch.responses import Response

__all__ = [
    "NullSession",
    "SecureCookieSession",
    "SecureCookieSessionInterface",
    "SessionInterface",
    "SessionMixin",
    "TaggedJSONSerializer",
    "session_json_serializer",
    "signing_serializer",
]


class SessionMixin(MutableMapping[str, Any]):
    """What every session has beyond a dict: ``permanent``, ``new``, ``modified`` and ``accessed``."""

    new = False
    modified = True
    accessed = True

    @property
    def permanent(self) -> bool:
        """Kept for ``PERMANENT_SESSION_LIFETIME`` instead of until the browser closes."""
        return bool(self.get("_permanent", False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)


class SecureCookieSession(dict[str, Any], SessionMixin):
    """The session dict; it notes when it is read (``accessed``) and changed (``modified``).

    Changing a mutable value in place (``session["cart"].append(x)``) is not seen: set ``session.modified = True``.
    """

    def __init__(self, initial: Any = None) -> None:
        super().__init__(initial or ())
        self.modified = False
        self.accessed = False

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        if key not in self:
            self.modified = True
        return super().setdefault(key, default)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return super().__contains__(key)

    def __len__(self) -> int:
        self.accessed = True
        return super().__len__()

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        return super().__iter__()

    def __setitem__(self, key: str, value: Any) -> None:
        self.accessed = self.modified = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.accessed = self.modified = True
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        self.accessed = self.modified = True
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        self.accessed = self.modified = True
        return super().popitem()

    def clear(self) -> None:
        self.accessed = self.modified = True
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.accessed = self.modified = True
        super().update(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"


class NullSession(SecureCookieSession):
    """The session when no ``SECRET_KEY`` is set: readable (empty), but writing to it raises."""

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "The session is unavailable because no secret key was set. Set the secret_key on the application to "
            "something unique and secret."
        )

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail


# -- the cookie format -------------------------------------------------------------------------------------


def _http_date(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return format_datetime(value.astimezone(UTC), usegmt=True)


def _markup(value: str) -> Any:
    try:
        from markupsafe import Markup
    except ImportError:  # pragma: no cover - markupsafe comes with jinja2
        return value
    return Markup(value)


# What untag looks inside (a tuple: ``dict | list`` would build a union object on every call).
_CONTAINERS = (dict, list)


class TaggedJSONSerializer:
    """JSON with tags for what JSON lacks (tuples, bytes, UUIDs, datetimes, markup): Flask's session format."""

    # (tag, check, to_json, to_python), tried in order; "" tags only recurse.
    def __init__(self) -> None:
        self.order: list[tuple[str, Callable[[Any], bool], Callable[[Any], Any], Callable[[Any], Any]]] = [
            (" di", self._is_tagged_dict, self._dict_to_json, lambda v: {next(iter(v))[:-2]: v[next(iter(v))]}),
            ("", lambda v: isinstance(v, dict), lambda v: {k: self.tag(x) for k, x in v.items()}, lambda v: v),
            (" t", lambda v: isinstance(v, tuple), lambda v: [self.tag(x) for x in v], tuple),
            ("", lambda v: isinstance(v, list), lambda v: [self.tag(x) for x in v], lambda v: v),
            (" b", lambda v: isinstance(v, bytes), lambda v: b64encode(v).decode("ascii"), b64decode),
            (" m", lambda v: callable(getattr(v, "__html__", None)), lambda v: str(v.__html__()), _markup),
            (" u", lambda v: isinstance(v, UUID), lambda v: v.hex, UUID),
            (" d", lambda v: isinstance(v, datetime), _http_date, parsedate_to_datetime),
        ]
        self.tags = {key: to_python for key, _, _, to_python in self.order if key}

    def _is_tagged_dict(self, value: Any) -> bool:
        return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in self.tags

    def _dict_to_json(self, value: dict[str, Any]) -> Any:
        key = next(iter(value))
        return {f"{key}__": self.tag(value[key])}

    def tag(self, value: Any) -> Any:
        for key, check, to_json, _ in self.order:
            if check(value):
                return {key: to_json(value)} if key else to_json(value)
        return value

    def untag(self, value: Any) -> Any:
        if type(value) is dict:
            # PERF: a dict of scalars (the usual session) has nothing below it to untag: no copy, no comprehension.
            for item in value.values():
                if isinstance(item, _CONTAINERS):
                    break
            else:
                if len(value) == 1:
                    for key in value:
                        if key in self.tags:
                            return self.tags[key](value[key])
                return value
        if isinstance(value, dict):
            value = {k: self.untag(v) if isinstance(v, _CONTAINERS) else v for k, v in value.items()}
            if len(value) == 1:
                key = next(iter(value))
                if key in self.tags:
                    return self.tags[key](value[key])
        elif isinstance(value, list):
            value = [self.untag(item) if isinstance(item, _CONTAINERS) else item for item in value]
        return value

    def dumps(self, value: Any) -> str:
        return json.dumps(self.tag(value), separators=(",", ":"), sort_keys=True, ensure_ascii=True)

    def loads(self, value: str | bytes) -> Any:
        return self.untag(_loads(value))


session_json_serializer = TaggedJSONSerializer()


def signing_serializer(keys: list[str | bytes], salt: str, serializer: Any = None) -> Any:
    """An itsdangerous ``URLSafeTimedSerializer`` over ``keys`` (the last one signs; all of them verify)."""
    return _cookie_signer(keys, salt, serializer).serializer


# PERF: signers are built once per (keys, salt, serializer), not per request: itsdangerous' serializer costs a
# trial ``dumps({})`` to build, and deriving a key is an HMAC. Bounded: keys only change when config changes.
_SIGNERS: dict[tuple[Any, ...], _CookieSigner] = {}
_MAX_SIGNERS = 64
_MISS: Any = object()
# PERF: the signer last found for a single key (no fallbacks): (key, salt, serializer, signer), compared by identity.
_last_single: tuple[Any, Any, Any, _CookieSigner] | None = None


def _cookie_signer(keys: list[str | bytes], salt: str, serializer: Any) -> _CookieSigner:
    try:
        cache_key = (tuple(keys), salt, serializer)
        signer = _SIGNERS.get(cache_key)
    except TypeError:  # an unhashable key or serializer: built every time
        return _CookieSigner(keys, salt, serializer)
    if signer is None:
        if len(_SIGNERS) >= _MAX_SIGNERS:
            _SIGNERS.clear()
        signer = _SIGNERS[cache_key] = _CookieSigner(keys, salt, serializer)
    return signer


def _single_key_signer(key: str | bytes, salt: str, serializer: Any) -> _CookieSigner:
    """``_cookie_signer([key], salt, serializer)``, found without building a cache key when it was the last one."""
    global _last_single
    last = _last_single
    if last is not None and last[0] is key and last[1] is salt and last[2] is serializer:
        return last[3]
    signer = _cookie_signer([key], salt, serializer)
    _last_single = (key, salt, serializer, signer)
    return signer


try:
    # PERF: CPython's own SHA-1 (copied state, no OpenSSL lookups): an HMAC over precomputed pads costs a third of
    # what ``hmac.digest`` does per call. Builds without it use ``hmac.digest``.
    _sha1: Any = importlib.import_module("_sha1").sha1
except ImportError:  # pragma: no cover - a CPython built without its builtin hashes
    _sha1 = None
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def _hmac_pads(key: bytes) -> tuple[Any, Any]:
    """SHA-1 states fed with the HMAC inner and outer pads of ``key`` (RFC 2104), to copy for each message."""
    if len(key) > 64:
        key = _sha1(key).digest()
    key = key.ljust(64, b"\0")
    return _sha1(key.translate(_IPAD)), _sha1(key.translate(_OPAD))


class _CookieSigner:
    """An itsdangerous serializer (``serializer``: it writes every cookie) and a quicker reader of its cookies.

    :meth:`loads` gives what ``serializer.loads(value, max_age=...)`` gives; it checks the signature with keys
    derived once. Whenever the quick path does not succeed, itsdangerous reads the value again, so every failure
    (and its exception) is itsdangerous' own.
    """

    __slots__ = ("serializer", "_derived", "_pads", "_tagged")

    def __init__(self, keys: list[str | bytes], salt: str, serializer: Any) -> None:
        from itsdangerous import URLSafeTimedSerializer
        from itsdangerous.encoding import want_bytes

        self.serializer = URLSafeTimedSerializer(
            keys,  # type: ignore[arg-type]
            salt=salt,
            serializer=serializer,
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        )
        salt_bytes = want_bytes(salt)
        # itsdangerous' "hmac" key derivation, newest key first (the order it tries them in).
        self._derived = [hmac.digest(want_bytes(key), salt_bytes, "sha1") for key in reversed(keys)]
        self._pads = None if _sha1 is None else [_hmac_pads(key) for key in self._derived]
        # The session format, read here without the serializer's text checks.
        inner: Any = self.serializer.serializer
        self._tagged: TaggedJSONSerializer | None = inner if type(inner) is TaggedJSONSerializer else None

    def loads(self, value: str | bytes, max_age: int | None = None) -> Any:
        try:
            data = self._quick_loads(value, max_age)
        except Exception:
            data = _MISS
        if data is _MISS:
            return self.serializer.loads(value, max_age=max_age)
        return data

    def _verified(self, signed: bytes, digest: bytes) -> bool:
        pads = self._pads
        if pads is None:
            return any(hmac.compare_digest(digest, hmac.digest(key, signed, "sha1")) for key in self._derived)
        for inner, outer in pads:
            mac = inner.copy()
            mac.update(signed)
            mac_outer = outer.copy()
            mac_outer.update(mac.digest())
            if hmac.compare_digest(digest, mac_outer.digest()):
                return True
        return False

    def _quick_loads(self, value: str | bytes, max_age: int | None) -> Any:
        raw = value.encode("utf-8") if isinstance(value, str) else value
        signed, sep, sig = raw.rpartition(b".")
        if not sep:
            return _MISS
        if not self._verified(signed, _b64decode(sig)):
            return _MISS
        payload, sep, stamp = signed.rpartition(b".")
        if not sep:
            return _MISS
        if max_age is not None:
            stamped = int.from_bytes(_b64decode(stamp), "big")
            age = int(time.time()) - stamped
            if age > max_age or age < 0:
                return _MISS
        serializer = self.serializer
        if payload[:1] == b".":
            return serializer.load_payload(payload)  # compressed
        text = _b64decode(payload)
        if self._tagged is not None:
            return self._tagged.loads(text)
        if not serializer.is_text_serializer:
            return serializer.load_payload(payload)  # a bytes serializer
        return serializer.serializer.loads(text.decode("utf-8"))


def _b64decode(data: bytes) -> bytes:
    """itsdangerous' ``base64_decode``, quicker: URL-safe alphabet, padding restored, stray characters skipped."""
    return a2b_base64(data.translate(_URLSAFE) + _PADDING[len(data) & 3])


_URLSAFE = bytes.maketrans(b"-_", b"+/")
# The "=" padding that a base64 text of length n (mod 4) lacks.
_PADDING = (b"", b"===", b"==", b"=")


def constant_time_equal(a: str, b: str) -> bool:
    """Compare secrets without leaking how much of them matched."""
    return hmac.compare_digest(a.encode(), b.encode())


def new_token() -> str:
    """A fresh random token (for CSRF)."""
    return secrets.token_hex(20)


# -- interfaces --------------------------------------------------------------------------------------------


class SessionInterface:
    """How the app loads and saves ``session``; subclass it to keep sessions elsewhere (server side)."""

    null_session_class: type[NullSession] = NullSession
    pickle_based = False

    def make_null_session(self, app: Any) -> NullSession:
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        if type(obj) is SecureCookieSession and self.null_session_class is NullSession:
            # PERF: the usual answer without an ABC isinstance check (a superclass of NullSession is never one).
            return False
        return isinstance(obj, self.null_session_class)

    def get_cookie_name(self, app: Any) -> str:
        return str(app.config["SESSION_COOKIE_NAME"])

    def get_cookie_domain(self, app: Any) -> str | None:
        return app.config["SESSION_COOKIE_DOMAIN"]  # type: ignore[no-any-return]

    def get_cookie_path(self, app: Any) -> str:
        return str(app.config["SESSION_COOKIE_PATH"] or app.config["APPLICATION_ROOT"])

    def get_cookie_httponly(self, app: Any) -> bool:
        return bool(app.config["SESSION_COOKIE_HTTPONLY"])

    def get_cookie_secure(self, app: Any) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"])

    def get_cookie_samesite(self, app: Any) -> str | None:
        return app.config["SESSION_COOKIE_SAMESITE"]  # type: ignore[no-any-return]

    def get_cookie_partitioned(self, app: Any) -> bool:
        return bool(app.config.get("SESSION_COOKIE_PARTITIONED", False))

    def get_expiration_time(self, app: Any, session: SessionMixin) -> datetime | None:
        if session.permanent:
            lifetime: timedelta = app.permanent_session_lifetime
            return datetime.now(UTC) + lifetime
        return None

    def should_set_cookie(self, app: Any, session: SessionMixin) -> bool:
        """Write the cookie when the session changed, or on every request for permanent sessions when
        ``SESSION_REFRESH_EACH_REQUEST`` is on (the expiry slides)."""
        return session.modified or (session.permanent and bool(app.config["SESSION_REFRESH_EACH_REQUEST"]))

    def open_session(self, app: Any, request: Any) -> SessionMixin | None:
        raise NotImplementedError

    def save_session(self, app: Any, session: SessionMixin, response: Response) -> None:
        raise NotImplementedError


class SecureCookieSessionInterface(SessionInterface):
    """Sessions in a cookie signed with ``SECRET_KEY`` (and verified against ``SECRET_KEY_FALLBACKS`` too)."""

    salt = "cookie-session"
    serializer: Any = session_json_serializer
    session_class = SecureCookieSession

    def get_signing_serializer(self, app: Any) -> Any:
        signer = self._signer(app)
        return None if signer is None else signer.serializer

    def _signer(self, app: Any) -> _CookieSigner | None:
        secret_key = app.secret_key
        if not secret_key:
            return None
        fallbacks = app.config.get("SECRET_KEY_FALLBACKS")
        if not fallbacks:
            return _single_key_signer(secret_key, self.salt, self.serializer)
        keys: list[str | bytes] = [*fallbacks, secret_key]  # itsdangerous signs with the last key
        return _cookie_signer(keys, self.salt, self.serializer)

    def open_session(self, app: Any, request: Any) -> SecureCookieSession | None:
        # PERF: the cached signer reads the cookie, unless a subclass serializes its own way.
        if type(self).get_signing_serializer is SecureCookieSessionInterface.get_signing_serializer:
            serializer: Any = self._signer(app)
        else:
            serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        limit = app.config.get("MAX_COOKIE_SIZE") or 4093
        if not value or len(value) > limit:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data = serializer.loads(value, max_age=max_age)
        except Exception:  # bad signature, expired, bad base64, not JSON...: all mean "no session"
            return self.session_class()
        if not isinstance(data, dict):
            return self.session_class()
        return self.session_class(data)

    def save_session(self, app: Any, session: SessionMixin, response: Response) -> None:
        if session.accessed:
            _vary_cookie(response)
        if not session:
            if session.modified:
                _set_cookie(response, self.get_cookie_name(app), "", max_age=0, expires=0,
                            **self._cookie_options(app))  # fmt: skip
                _vary_cookie(response)
            return
        if not self.should_set_cookie(app, session):
            return  # PERF: the usual case (read, not changed): no cookie options looked up, nothing signed
        name = self.get_cookie_name(app)
        options = self._cookie_options(app)
        expires = self.get_expiration_time(app, session)
        value = self.get_signing_serializer(app).dumps(dict(session))
        _set_cookie(response, name, value, expires=expires, **options)
        _vary_cookie(response)

    def _cookie_options(self, app: Any) -> dict[str, Any]:
        return {
            "domain": self.get_cookie_domain(app),
            "path": self.get_cookie_path(app),
            "secure": self.get_cookie_secure(app),
            "partitioned": self.get_cookie_partitioned(app),
            "samesite": self.get_cookie_samesite(app),
            "httponly": self.get_cookie_httponly(app),
        }


def _vary_cookie(response: Response) -> None:
    """``Vary: Cookie`` on the response (merged into any ``Vary`` it has)."""
    raw = response.raw_headers
    for key, _ in raw:
        if key.lower() == b"vary":
            response.headers.add_vary_header("Cookie")
            return
    raw.append((b"vary", b"Cookie"))  # PERF: no Vary yet (the usual case): one line appended


def _set_cookie(response: Response, key: str, value: str, **options: Any) -> None:
    from ketch.responses import build_cookie

    samesite = options.pop("samesite", None)
    cookie = build_cookie(key, value, samesite=samesite.lower() if samesite else None, **options)
    response.raw_headers.append((b"set-cookie", cookie.encode("latin-1")))
