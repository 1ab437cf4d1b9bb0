"""``app.test_client()``: the same test code passes against Flask's client and ketch's."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest

from tests.classic._diff import FLASK, KETCH


def build(f: SimpleNamespace) -> Any:
    app = f.Flask(__name__)
    app.config.update(SECRET_KEY="client", TESTING=True)

    @app.route("/")
    def index() -> Any:
        f.g.seen = "index"
        return "index"

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if f.request.method == "POST":
            f.session["user"] = f.request.form["username"]
            return f.redirect(f.url_for("me"))
        return "login form"

    @app.route("/me")
    def me() -> Any:
        return {"user": f.session.get("user"), "q": f.request.args.get("q")}

    @app.route("/echo", methods=["POST"])
    def echo() -> Any:
        upload = f.request.files.get("upload")
        return {
            "form": f.request.form.to_dict(),
            "json": f.request.get_json(silent=True),
            "file": upload.read().decode() if upload else None,
            "filename": upload.filename if upload else None,
            "type": f.request.mimetype,
        }

    @app.route("/fail")
    def fail() -> Any:
        raise RuntimeError("propagated to the test")

    return app


FACES = pytest.mark.parametrize("face", [FLASK, KETCH], ids=["flask", "ketch"])


@FACES
def test_response_api(face: SimpleNamespace) -> None:
    client = build(face).test_client()
    response = client.get("/")
    assert response.status_code == 200
    assert response.status == "200 OK"
    assert response.data == b"index"
    assert response.text == "index"
    assert response.mimetype == "text/html"
    assert response.content_type == "text/html; charset=utf-8"
    assert response.headers["Content-Length"] == "5"
    me = client.get("/me", query_string={"q": "x"})
    assert me.get_json() == {"user": None, "q": "x"}
    assert me.json == {"user": None, "q": "x"}
    assert me.is_json
    assert client.get("/missing").status == "404 NOT FOUND"


@FACES
def test_forms_json_files_and_redirects(face: SimpleNamespace) -> None:
    client = build(face).test_client()
    posted = client.post("/echo", data={"a": "1", "upload": (io.BytesIO(b"file body"), "notes.txt")})
    assert posted.get_json() == {
        "form": {"a": "1"},
        "json": None,
        "file": "file body",
        "filename": "notes.txt",
        "type": "multipart/form-data",
    }
    assert client.post("/echo", json={"k": [1]}).get_json()["json"] == {"k": [1]}
    assert client.post("/echo", data={"a": "2"}).get_json()["type"] == "application/x-www-form-urlencoded"
    response = client.post("/login", data={"username": "ann"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"
    followed = client.post("/login", data={"username": "bob"}, follow_redirects=True)
    assert followed.request.path == "/me"
    assert len(followed.history) == 1
    assert followed.get_json()["user"] == "bob"


@FACES
def test_exceptions_propagate_in_testing(face: SimpleNamespace) -> None:
    client = build(face).test_client()
    with pytest.raises(RuntimeError, match="propagated"):
        client.get("/fail")


@FACES
def test_with_client_keeps_the_last_request_context(face: SimpleNamespace) -> None:
    app = build(face)
    with app.test_client() as client:
        client.get("/me?q=kept")
        assert face.request.path == "/me"
        assert face.request.args["q"] == "kept"
        client.post("/login", data={"username": "ann"})
        assert face.session["user"] == "ann"
        client.get("/")
        assert face.g.seen == "index"
    with pytest.raises(RuntimeError):
        face.request.path  # noqa: B018


@FACES
def test_session_transaction(face: SimpleNamespace) -> None:
    client = build(face).test_client()
    with client.session_transaction() as session:
        session["user"] = "set-in-test"
    assert client.get("/me").get_json()["user"] == "set-in-test"
    client.post("/login", data={"username": "ann"})
    with client.session_transaction() as session:
        assert session["user"] == "ann"
        session.clear()
    assert client.get("/me").get_json()["user"] is None


@FACES
def test_cookies(face: SimpleNamespace) -> None:
    client = build(face).test_client()
    client.post("/login", data={"username": "ann"})
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.value
    client.delete_cookie("session")
    assert client.get_cookie("session") is None
    assert client.get("/me").get_json()["user"] is None
