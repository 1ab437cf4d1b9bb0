"""Signed-cookie sessions and flash messages: Flask's behaviour, and every bad cookie is an empty session."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import flask
import itsdangerous
import pytest

from ketch import Ketch
from ketch.globals import session
from ketch.helpers import flash, get_flashed_messages
from ketch.sessions import TaggedJSONSerializer, session_json_serializer
from ketch.testclient import TestClient
from tests.classic._diff import Req, compare

SECRET = "test-secret"


def session_app(f: SimpleNamespace) -> Any:
    app = f.Flask(__name__)
    app.config["SECRET_KEY"] = SECRET

    @app.route("/set/<key>/<value>")
    def set_value(key: str, value: str) -> Any:
        f.session[key] = value
        return "set"

    @app.route("/get/<key>")
    def get_value(key: str) -> Any:
        return str(f.session.get(key))

    @app.route("/contains/<key>")
    def contains(key: str) -> Any:
        return str(key in f.session)

    @app.route("/len")
    def length() -> Any:
        return str(len(f.session))

    @app.route("/untouched")
    def untouched() -> Any:
        return "untouched"

    @app.route("/permanent")
    def permanent() -> Any:
        f.session.permanent = True
        f.session["p"] = 1
        return "permanent"

    @app.route("/clear")
    def clear() -> Any:
        f.session.clear()
        return "cleared"

    @app.route("/dump")
    def dump() -> Any:
        return f.jsonify(sorted(f.session.keys()))

    @app.route("/flash/<message>")
    def flash_message(message: str) -> Any:
        f.flash(message)
        f.flash("second " + message, "warning")
        return "flashed"

    @app.route("/messages")
    def messages() -> Any:
        first = f.get_flashed_messages(with_categories=True)
        again = f.get_flashed_messages()
        return f.jsonify(first=first, again=again)

    @app.route("/filtered")
    def filtered() -> Any:
        return f.jsonify(f.get_flashed_messages(category_filter=["warning"]))

    return app


def test_session_round_trip_and_vary() -> None:
    compare(
        session_app,
        [
            Req("GET", "/untouched"),
            Req("GET", "/get/a"),
            Req("GET", "/set/a/1"),
            Req("GET", "/get/a"),
            Req("GET", "/contains/a"),
            Req("GET", "/len"),
            Req("GET", "/untouched"),
            Req("GET", "/set/b/2"),
            Req("GET", "/dump"),
            Req("GET", "/permanent"),
            Req("GET", "/untouched"),
            Req("GET", "/clear"),
            Req("GET", "/dump"),
            Req("GET", "/clear"),
        ],
    )


def test_flash_messages() -> None:
    compare(
        session_app,
        [
            Req("GET", "/messages"),
            Req("GET", "/flash/hello"),
            Req("GET", "/messages"),
            Req("GET", "/messages"),
            Req("GET", "/flash/again"),
            Req("GET", "/filtered"),
        ],
    )


def make_app(**config: Any) -> Ketch:
    app = Ketch(__name__)
    app.config.update({"SECRET_KEY": SECRET, "CSRF_ENABLED": False, **config})

    @app.route("/set")
    def set_value() -> str:
        session["user"] = "ann"
        return "set"

    @app.route("/get")
    def get_value() -> str:
        return str(session.get("user"))

    @app.route("/read-only")
    def read_only() -> str:
        return str("user" in session)

    return app


def cookie_for(data: Any, key: str = SECRET, when: float | None = None) -> str:
    serializer = itsdangerous.URLSafeTimedSerializer(
        key,
        salt="cookie-session",
        serializer=session_json_serializer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    if when is None:
        return serializer.dumps(data)  # type: ignore[no-any-return]

    class Past(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return int(when)

    serializer.signer = Past  # type: ignore[assignment]
    return serializer.dumps(data)  # type: ignore[no-any-return]


def plain_json_cookie(data: Any, raw: bool = False) -> str:
    """A correctly signed cookie whose payload is whatever JSON text we like (no tagging)."""

    class Raw:
        @staticmethod
        def dumps(value: Any) -> str:
            return value if raw and isinstance(value, str) else json.dumps(value)

        @staticmethod
        def loads(value: Any) -> Any:
            return json.loads(value)

    serializer = itsdangerous.URLSafeTimedSerializer(
        SECRET,
        salt="cookie-session",
        serializer=Raw,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    return serializer.dumps(data)  # type: ignore[no-any-return]


def get_with_cookie(app: Ketch, value: str, path: str = "/get") -> Any:
    client = TestClient(app, raise_server_exceptions=False)
    client.cookies.set("session", value)
    return client.get(path)


def test_a_valid_cookie_reads_back() -> None:
    assert get_with_cookie(make_app(), cookie_for({"user": "bob"})).text == "bob"


def flipped(value: str, index: int) -> str:
    char = "A" if value[index] != "A" else "B"
    return value[:index] + char + value[index + 1 :]


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param(flipped(cookie_for({"user": "bob"}), 3), id="payload-byte-flipped"),
        pytest.param(flipped(cookie_for({"user": "bob"}), -3), id="signature-byte-flipped"),
        pytest.param(cookie_for({"user": "bob"}, key="another-apps-key"), id="foreign-key"),
        pytest.param("not base64 !!!.xx.yy", id="bad-base64"),
        pytest.param("....", id="dots"),
        pytest.param("", id="empty"),
        pytest.param("eyJ1c2VyIjoiYm9iIn0", id="unsigned"),
        pytest.param(cookie_for({"user": "bob"}, when=time.time() - 40 * 86400), id="expired"),
        pytest.param(cookie_for({"user": secrets.token_urlsafe(750_000)}), id="oversized-1mb"),
        pytest.param(cookie_for({"user": secrets.token_urlsafe(4000)}), id="over-4k"),
        pytest.param(cookie_for(["not", "a", "dict"]), id="not-a-dict"),
        pytest.param(plain_json_cookie({"user": {" u": "not-a-uuid"}}), id="bad-tag"),
        pytest.param(plain_json_cookie({"user": {" d": "not a date"}}), id="bad-date-tag"),
        pytest.param(plain_json_cookie({"user": {" b": 5}}), id="bad-bytes-tag"),
        pytest.param(plain_json_cookie(("[" * 5000) + ("]" * 5000), raw=True), id="deeply-nested"),
    ],
)
def test_a_bad_cookie_is_an_empty_session(cookie: str) -> None:
    response = get_with_cookie(make_app(), cookie)
    assert response.status_code == 200
    assert response.text == "None"
    assert "set-cookie" not in response.headers


@pytest.mark.timeout(10)
def test_a_signed_non_json_payload_is_ignored_and_never_unpickled() -> None:
    raw = itsdangerous.TimestampSigner(
        SECRET, salt="cookie-session", key_derivation="hmac", digest_method=hashlib.sha1
    ).sign(itsdangerous.base64_encode(b"\x80\x04\x95 pickle bytes"))
    response = get_with_cookie(make_app(), raw.decode())
    assert response.status_code == 200 and response.text == "None"


def test_secret_key_fallbacks_read_old_cookies_and_write_with_the_current_key() -> None:
    app = make_app(SECRET_KEY="new-key", SECRET_KEY_FALLBACKS=["old-key"])

    @app.route("/touch")
    def touch() -> str:
        session["seen"] = session.get("user")
        return "touched"

    client = TestClient(app)
    client.cookies.set("session", cookie_for({"user": "bob"}, key="old-key"))
    assert client.get("/get").text == "bob"
    response = client.get("/touch")
    new_cookie = response.cookies["session"]
    current_only = itsdangerous.URLSafeTimedSerializer(
        "new-key",
        salt="cookie-session",
        serializer=session_json_serializer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    assert current_only.loads(new_cookie) == {"user": "bob", "seen": "bob"}


def test_reading_the_session_adds_vary_cookie_without_a_cookie() -> None:
    client = TestClient(make_app())
    response = client.get("/read-only")
    assert response.headers["vary"] == "Cookie"
    assert "set-cookie" not in response.headers


def test_default_cookie_attributes_are_safe() -> None:
    response = TestClient(make_app()).get("/set")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie
    secure = TestClient(make_app(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME="__Host-s")).get("/set")
    assert secure.headers["set-cookie"].startswith("__Host-s=") and "Secure" in secure.headers["set-cookie"]


def test_without_a_secret_key_the_session_is_read_only() -> None:
    app = make_app(SECRET_KEY=None)
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/get").text == "None"
    assert client.get("/set").status_code == 500


def test_cookies_written_by_flask_read_back_here_and_back() -> None:
    """Same secret key, same format: moving an app from Flask to ketch keeps its users logged in."""
    flask_app = flask.Flask(__name__)
    flask_app.secret_key = SECRET

    @flask_app.route("/set")
    def flask_set() -> str:
        flask.session.update(user="ann", ids=(1, 2), raw=b"\x00\x01", when=datetime(2024, 1, 2, tzinfo=UTC))
        flask.session["uuid"] = UUID(int=5)
        return "set"

    @flask_app.route("/get")
    def flask_get() -> Any:
        return repr(sorted(flask.session.items()))

    flask_client = flask_app.test_client()
    flask_client.get("/set")
    flask_cookie = flask_client.get_cookie("session")
    assert flask_cookie is not None

    app = make_app()

    @app.route("/dump")
    def dump() -> str:
        return repr(sorted(session.items()))

    @app.route("/rewrite")
    def rewrite() -> str:
        session["extra"] = 1
        return "ok"

    client = TestClient(app)
    client.cookies.set("session", flask_cookie.value)
    expected = repr(
        sorted(
            {
                "user": "ann",
                "ids": (1, 2),
                "raw": b"\x00\x01",
                "when": datetime(2024, 1, 2, tzinfo=UTC),
                "uuid": UUID(int=5),
            }.items()
        )
    )
    assert client.get("/dump").text == expected
    written = client.get("/rewrite").cookies["session"]
    flask_client.set_cookie("session", written)
    assert "('extra', 1)" in flask_client.get("/get").text


def test_tagged_json_round_trip() -> None:
    serializer = TaggedJSONSerializer()
    value = {"t": (1, [2, (3,)]), "b": b"x", " t": "looks like a tag", "u": UUID(int=1), "plain": {"a": None}}
    assert serializer.loads(serializer.dumps(value)) == value


def test_flash_outside_a_request_fails() -> None:
    with pytest.raises(RuntimeError):
        flash("x")
    with pytest.raises(RuntimeError):
        get_flashed_messages()


@pytest.mark.parametrize("keys", [["k"], ["old", "new"], ["x" * 100], [b"\xff" * 70, "current"]])
def test_the_quick_cookie_reader_reads_what_itsdangerous_reads(keys: list[Any]) -> None:
    import hmac

    from ketch.sessions import _hmac_pads, signing_serializer

    reader = signing_serializer(keys, "cookie-session", session_json_serializer)
    value = {"user": "ada", "cart": [1, {" t": ["a", "b"]}], "when": datetime(2024, 1, 2, tzinfo=UTC)}
    for key in keys:
        token = itsdangerous.URLSafeTimedSerializer(
            key,
            salt="cookie-session",
            serializer=session_json_serializer,
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        ).dumps(value)
        from ketch.sessions import _cookie_signer

        signer = _cookie_signer(keys, "cookie-session", session_json_serializer)
        assert signer._quick_loads(token, 3600) == reader.loads(token, max_age=3600) == value
        tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
        with pytest.raises(itsdangerous.BadSignature):
            signer.loads(tampered, max_age=3600)
    for key in (b"short", b"k" * 64, b"k" * 65):
        inner, outer = _hmac_pads(key)
        mac = inner.copy()
        mac.update(b"message")
        final = outer.copy()
        final.update(mac.digest())
        assert final.digest() == hmac.digest(key, b"message", "sha1")
