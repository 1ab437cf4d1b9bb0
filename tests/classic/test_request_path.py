"""The classic request path's shortcuts give what the general code gives: the session cookie read without
itsdangerous' per-call objects, templates rendered without Jinja's ChainMap walk, ``Vary`` merged, query args."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import itsdangerous
import jinja2
import pytest

from ketch import Ketch
from ketch.globals import request, session
from ketch.helpers import render_template_string
from ketch.sessions import SecureCookieSessionInterface, session_json_serializer
from ketch.testclient import TestClient
from ketch.wrappers import Response

SECRET = "request-path-secret"


def serializer_for(key: str, when: float | None = None) -> itsdangerous.URLSafeTimedSerializer:
    serializer = itsdangerous.URLSafeTimedSerializer(
        key,
        salt="cookie-session",
        serializer=session_json_serializer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    if when is not None:
        stamp = int(when)

        class At(itsdangerous.TimestampSigner):
            def get_timestamp(self) -> int:
                return stamp

        serializer.signer = At
    return serializer


def make_app(**config: Any) -> Ketch:
    app = Ketch(__name__)
    app.config.update({"SECRET_KEY": SECRET, "CSRF_ENABLED": False, **config})

    @app.route("/get")
    def get_value() -> str:
        return repr(dict(session))

    return app


def read(app: Ketch, cookie: str) -> str:
    client = TestClient(app)
    client.cookies.set("session", cookie)
    response = client.get("/get")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers  # read, not modified: never written back
    return response.text


BIG = {"items": ["the same words again"] * 60}  # compresses: itsdangerous writes a "."-prefixed payload


@pytest.mark.parametrize(
    "data",
    [
        {"user": "ada"},
        {},
        {"n": 1, "f": 1.5, "none": None, "flag": True},
        {"t": (1, 2), "b": b"\x00\xff", "u": uuid.UUID(int=7), "d": datetime(2024, 5, 1, 12, 0, tzinfo=UTC)},
        {"nested": {"list": [{" t": "a key like a tag"}, [1, (2, 3)]]}, " di": 1},
        {"x": "é ü 😀"},
        BIG,
    ],
    ids=["plain", "empty", "scalars", "tagged", "nested", "unicode", "compressed"],
)
def test_the_session_reads_what_itsdangerous_reads(data: dict[str, Any]) -> None:
    cookie = serializer_for(SECRET).dumps(data)
    if data is BIG:
        assert cookie.startswith(".")
    expected = serializer_for(SECRET).loads(cookie, max_age=3600)
    assert read(make_app(), cookie) == repr(expected)


def test_a_cookie_signed_with_a_fallback_key_reads_back() -> None:
    app = make_app(SECRET_KEY="new", SECRET_KEY_FALLBACKS=["older", "old"])
    assert read(app, serializer_for("old").dumps({"user": "bob"})) == "{'user': 'bob'}"
    assert read(app, serializer_for("new").dumps({"user": "ann"})) == "{'user': 'ann'}"
    assert read(app, serializer_for("unknown").dumps({"user": "eve"})) == "{}"


@pytest.mark.parametrize("offset", [-40 * 86400, 3600], ids=["expired", "signed-in-the-future"])
def test_a_cookie_out_of_its_lifetime_is_an_empty_session(offset: int) -> None:
    cookie = serializer_for(SECRET, when=time.time() + offset).dumps({"user": "bob"})
    with pytest.raises(itsdangerous.SignatureExpired):
        serializer_for(SECRET).loads(cookie, max_age=31 * 86400)
    assert read(make_app(), cookie) == "{}"


def test_the_lifetime_follows_the_config() -> None:
    cookie = serializer_for(SECRET, when=time.time() - 100).dumps({"user": "bob"})
    assert read(make_app(PERMANENT_SESSION_LIFETIME=1000), cookie) == "{'user': 'bob'}"
    assert read(make_app(PERMANENT_SESSION_LIFETIME=10), cookie) == "{}"


def test_a_changed_secret_key_is_seen_at_once() -> None:
    app = make_app()
    cookie = serializer_for(SECRET).dumps({"user": "bob"})
    assert read(app, cookie) == "{'user': 'bob'}"
    app.secret_key = "rotated"
    assert read(app, cookie) == "{}"


def test_a_session_interface_with_its_own_serializer_reads_with_it() -> None:
    seen: list[str] = []

    class Recording:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def loads(self, value: str, max_age: int | None = None) -> Any:
            seen.append(value)
            return self.inner.loads(value, max_age=max_age)

        def dumps(self, value: Any) -> str:
            return str(self.inner.dumps(value))

    class Interface(SecureCookieSessionInterface):
        def get_signing_serializer(self, app: Any) -> Any:
            return Recording(super().get_signing_serializer(app))

    app = make_app()
    app.session_interface = Interface()
    cookie = serializer_for(SECRET).dumps({"user": "bob"})
    assert read(app, cookie) == "{'user': 'bob'}"
    assert seen == [cookie]


def test_the_signing_serializer_is_itsdangerous() -> None:
    app = make_app()
    serializer = app.session_interface.get_signing_serializer(app)
    assert isinstance(serializer, itsdangerous.URLSafeTimedSerializer)
    assert serializer.loads(serializer_for(SECRET).dumps({"a": 1})) == {"a": 1}
    assert serializer_for(SECRET).loads(serializer.dumps({"a": (1, 2)})) == {"a": (1, 2)}


def test_vary_cookie_is_merged_into_a_vary_the_view_set() -> None:
    app = make_app()

    @app.route("/vary")
    def vary() -> Any:
        response = Response(str(session.get("user")))
        response.headers["Vary"] = "Accept-Encoding"
        return response

    @app.route("/vary-cookie")
    def vary_cookie() -> Any:
        response = Response(str(session.get("user")))
        response.headers["Vary"] = "cookie"
        return response

    client = TestClient(app)
    assert client.get("/vary").headers.get_list("vary") == ["Accept-Encoding, Cookie"]
    assert client.get("/vary-cookie").headers.get_list("vary") == ["cookie"]
    assert client.get("/get").headers.get_list("vary") == ["Cookie"]


def test_query_args_keep_the_first_value_and_the_order() -> None:
    app = make_app()

    @app.route("/args")
    def args() -> Any:
        return {"first": request.args["a"], "all": request.args.getlist("a"), "keys": list(request.args)}

    response = TestClient(app).get("/args?b=1&a=x&c=&a=y")
    assert response.json() == {"first": "x", "all": ["x", "y"], "keys": ["b", "a", "c"]}


# -- templates ---------------------------------------------------------------------------------------------


def test_a_global_added_after_the_first_render_is_seen() -> None:
    app = make_app()
    with app.app_context():
        template = app.jinja_env.from_string("{{ late | default('none') }}")
        assert template.render() == "none"
        app.jinja_env.globals["late"] = "here"
        assert template.render() == "here"


def test_the_quick_render_matches_jinja() -> None:
    app = make_app()
    app.jinja_env.globals["site"] = "ketch"
    sources = {
        "base.html": "<h1>{% block title %}{{ site }}{% endblock %}</h1>{% block body %}{% endblock %}",
        "page.html": '{% extends "base.html" %}{% block body %}{% for x in items %}{{ loop.index }}:{{ x }} '
        "{% endfor %}{{ self.title() }}{% set local = 1 %}{% endblock %}",
        "plain.txt": "{{ markup }} {{ range(3) | list }} {{ site }}",
    }
    app.jinja_env.loader = jinja2.DictLoader(sources)
    reference = jinja2.Environment(loader=jinja2.DictLoader(sources), autoescape=jinja2.select_autoescape())
    reference.globals.update(app.jinja_env.globals)
    context = {"items": ["<a>", "b"], "markup": "<i>", "site": "override"}
    for name in sources:
        ours = app.jinja_env.get_template(name)
        assert type(ours).render is not jinja2.Template.render  # the quick path is the one tested
        assert ours.render(context) == reference.get_template(name).render(context)
        assert ours.render(**context) == reference.get_template(name).render(**context)


def test_a_template_with_its_own_globals_renders_them() -> None:
    app = make_app()
    template = app.jinja_env.from_string("{{ own }}/{{ range(2) | list }}", globals={"own": "mine"})
    assert template.render() == "mine/[0, 1]"
    assert template.render(own="passed") == "passed/[0, 1]"


def test_a_template_error_points_at_the_template_line() -> None:
    sources = jinja2.DictLoader({"broken.html": "line one\n{{ 1 // zero }}"})
    app = make_app()
    app.jinja_env.loader = sources
    frames = []
    for template in (
        app.jinja_env.get_template("broken.html"),
        jinja2.Environment(loader=sources).get_template("broken.html"),
    ):
        with pytest.raises(ZeroDivisionError) as info:
            template.render(zero=0)
        last = info.traceback[-1]
        frames.append((str(last.path), last.lineno + 1, last.name))
    assert frames[0] == frames[1] == ("<template>", 2, "top-level template code")


def test_render_template_string_sees_request_and_session() -> None:
    app = make_app()

    @app.route("/page")
    def page() -> str:
        return render_template_string("{{ request.args['q'] }}/{{ session.get('user') }}/{{ g is defined }}")

    client = TestClient(app)
    client.cookies.set("session", serializer_for(SECRET).dumps({"user": "bob"}))
    response = client.get("/page?q=<x>")
    assert response.text == "&lt;x&gt;/bob/True"
    assert response.headers["vary"] == "Cookie"


def test_an_app_that_chooses_its_own_autoescaping_keeps_it() -> None:
    class TextApp(Ketch):
        def select_jinja_autoescape(self, filename: str | None) -> bool:
            return False

    plain, custom = make_app(), TextApp(__name__)
    for app, expected in ((plain, "&lt;b&gt;"), (custom, "<b>")):
        with app.app_context():
            assert render_template_string("{{ value }}", value="<b>") == expected
