"""Flask's tutorial app (flaskr) on Flask and on both of ketch's import surfaces.

``flaskr_port/flaskr`` is written against ``flask``. Two copies run on ketch:

- ``flaskr_on_ketch``: only its ``from flask import ...`` lines changed to ``from ketch.compat.flask import ...``;
- ``flaskr_native``: written against ``ketch`` itself (``from ketch import Ketch, ...``, ``ketch.abort``), whose
  CSRF protection is on: its forms carry ``{{ csrf_token() }}``.

The tutorial's tests run against all three (the native app's with ``CSRF_ENABLED = False``, as a Flask-WTF app's
tests turn theirs off), a scripted session (register, log in, create, update, delete, log out) gives the same
responses on all three (the native one posting the token its pages carry), and ``ketch --app <package> init-db``
runs the tutorial's command.
"""

from __future__ import annotations

import importlib
import re
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.security import generate_password_hash

SOURCE = Path(__file__).parent / "flaskr_port" / "flaskr"


def _ketch_copy(root: Path) -> str:
    """Copy flaskr to ``root/flaskr_on_ketch`` with its Flask imports pointed at ketch.compat.flask."""
    target = root / "flaskr_on_ketch"
    shutil.copytree(SOURCE, target)
    for path in target.glob("*.py"):
        text = path.read_text().replace("from flask import", "from ketch.compat.flask import")
        path.write_text(text)
    return "flaskr_on_ketch"


_TOKEN_FIELD = '<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">'
_TOKEN_LINE = re.compile(rb'\n *<input type="hidden" name="csrf_token" value="([^"]+)">')


def _native_copy(root: Path) -> str:
    """Copy flaskr to ``root/flaskr_native``, written against ``ketch`` itself, with CSRF tokens in its forms."""
    target = root / "flaskr_native"
    shutil.copytree(SOURCE, target)
    for path in target.glob("*.py"):
        text = path.read_text().replace("from flask import Flask", "from ketch import Ketch")
        text = text.replace("Flask(__name__", "Ketch(__name__").replace("from flask import", "from ketch import")
        path.write_text(text.replace("from werkzeug.exceptions import abort", "from ketch import abort"))
    for path in target.glob("templates/*/*.html"):
        text = re.sub(r'(\n( *)<form [^>]*method="post">)', rf"\1\n\2  {_TOKEN_FIELD}", path.read_text())
        path.write_text(text)
    return "flaskr_native"


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("flaskr")
    names = [_ketch_copy(root), _native_copy(root)]
    sys.path.insert(0, str(root))
    try:
        yield {
            "flask": importlib.import_module("tests.classic.flaskr_port.flaskr"),
            "ketch": importlib.import_module(names[0]),
            "native": importlib.import_module(names[1]),
        }
    finally:
        sys.path.remove(str(root))
        for module in [m for m in sys.modules for name in names if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


SURFACES = {"flask": "flask", "ketch": "ketch.compat.flask", "native": "ketch"}


def surface(face: str) -> Any:
    """The module the face's flaskr imports from (for ``session`` and ``g`` in the tests)."""
    return importlib.import_module(SURFACES[face])


def _data_sql() -> str:
    # Cheap hashes keep the suite fast (the app itself still hashes new passwords with the default method).
    test = generate_password_hash("test", method="pbkdf2:sha256:1000")
    other = generate_password_hash("other", method="pbkdf2:sha256:1000")
    return (
        f"INSERT INTO user (username, password) VALUES ('test', '{test}'), ('other', '{other}');\n"
        "INSERT INTO post (title, body, author_id, created) VALUES\n"
        "  ('test title', 'test' || x'0a' || 'body', 1, '2018-01-01 00:00:00');\n"
    )


DATA_SQL = _data_sql()


@pytest.fixture(params=["flask", "ketch", "native"])
def face(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def flaskr(packages: dict[str, Any], face: str) -> Any:
    return packages[face]


@pytest.fixture
def app(flaskr: Any, tmp_path: Path, face: str) -> Any:
    config: dict[str, Any] = {"TESTING": True, "DATABASE": str(tmp_path / "test.sqlite")}
    if face == "native":
        config["CSRF_ENABLED"] = False
    app = flaskr.create_app(config)
    with app.app_context():
        flaskr.db.init_db()
        flaskr.db.get_db().executescript(DATA_SQL)
    return app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


class AuthActions:
    def __init__(self, client: Any) -> None:
        self._client = client

    def login(self, username: str = "test", password: str = "test") -> Any:
        return self._client.post("/auth/login", data={"username": username, "password": password})

    def logout(self) -> Any:
        return self._client.get("/auth/logout")


@pytest.fixture
def auth(client: Any) -> AuthActions:
    return AuthActions(client)


# -- the factory and the database ------------------------------------------------------------------------------


def test_config(flaskr: Any, tmp_path: Path) -> None:
    assert not flaskr.create_app({"DATABASE": str(tmp_path / "x.sqlite")}).testing
    assert flaskr.create_app({"TESTING": True, "DATABASE": str(tmp_path / "x.sqlite")}).testing


def test_hello(client: Any) -> None:
    assert client.get("/hello").data == b"Hello, World!"


def test_get_close_db(app: Any, flaskr: Any) -> None:
    with app.app_context():
        db = flaskr.db.get_db()
        assert db is flaskr.db.get_db()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        db.execute("SELECT 1")


def test_init_db_command(app: Any, flaskr: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[bool] = []
    monkeypatch.setattr(flaskr.db, "init_db", lambda: called.append(True))
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert "Initialized" in result.output
    assert called


# -- auth ------------------------------------------------------------------------------------------------------


def test_register(client: Any, app: Any, flaskr: Any) -> None:
    assert client.get("/auth/register").status_code == 200
    response = client.post("/auth/register", data={"username": "a", "password": "a"})
    assert response.headers["Location"] == "/auth/login"
    with app.app_context():
        assert flaskr.db.get_db().execute("SELECT * FROM user WHERE username = 'a'").fetchone() is not None


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "", b"Username is required."),
        ("a", "", b"Password is required."),
        ("test", "test", b"already registered"),
    ],
)
def test_register_validate_input(client: Any, username: str, password: str, message: bytes) -> None:
    response = client.post("/auth/register", data={"username": username, "password": password})
    assert message in response.data


def test_login(client: Any, auth: AuthActions, face: str) -> None:
    assert client.get("/auth/login").status_code == 200
    response = auth.login()
    assert response.headers["Location"] == "/"
    with client:
        client.get("/")
        assert surface(face).session["user_id"] == 1
        assert surface(face).g.user["username"] == "test"


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [("a", "test", b"Incorrect username."), ("test", "a", b"Incorrect password.")],
)
def test_login_validate_input(auth: AuthActions, username: str, password: str, message: bytes) -> None:
    assert message in auth.login(username, password).data


def test_logout(client: Any, auth: AuthActions, face: str) -> None:
    auth.login()
    with client:
        auth.logout()
        assert "user_id" not in surface(face).session


# -- the blog --------------------------------------------------------------------------------------------------


def test_index(client: Any, auth: AuthActions) -> None:
    response = client.get("/")
    assert b"Log In" in response.data
    assert b"Register" in response.data
    auth.login()
    response = client.get("/")
    assert b"Log Out" in response.data
    assert b"test title" in response.data
    assert b"by test on 2018-01-01" in response.data
    assert b"test\nbody" in response.data
    assert b'href="/1/update"' in response.data


@pytest.mark.parametrize("path", ["/create", "/1/update", "/1/delete"])
def test_login_required(client: Any, path: str) -> None:
    assert client.post(path).headers["Location"] == "/auth/login"


def test_author_required(app: Any, client: Any, auth: AuthActions, flaskr: Any) -> None:
    with app.app_context():
        db = flaskr.db.get_db()
        db.execute("UPDATE post SET author_id = 2 WHERE id = 1")
        db.commit()
    auth.login()
    assert client.post("/1/update").status_code == 403
    assert client.post("/1/delete").status_code == 403
    assert b'href="/1/update"' not in client.get("/").data


@pytest.mark.parametrize("path", ["/2/update", "/2/delete"])
def test_exists_required(client: Any, auth: AuthActions, path: str) -> None:
    auth.login()
    response = client.post(path)
    assert response.status_code == 404
    assert b"Post id 2 doesn&#39;t exist." in response.data


def test_create(client: Any, auth: AuthActions, app: Any, flaskr: Any) -> None:
    auth.login()
    assert client.get("/create").status_code == 200
    client.post("/create", data={"title": "created", "body": ""})
    with app.app_context():
        assert flaskr.db.get_db().execute("SELECT COUNT(id) FROM post").fetchone()[0] == 2


def test_update(client: Any, auth: AuthActions, app: Any, flaskr: Any) -> None:
    auth.login()
    assert client.get("/1/update").status_code == 200
    client.post("/1/update", data={"title": "updated", "body": ""})
    with app.app_context():
        assert flaskr.db.get_db().execute("SELECT * FROM post WHERE id = 1").fetchone()["title"] == "updated"


@pytest.mark.parametrize("path", ["/create", "/1/update"])
def test_create_update_validate(client: Any, auth: AuthActions, path: str) -> None:
    auth.login()
    assert b"Title is required." in client.post(path, data={"title": "", "body": ""}).data


def test_delete(client: Any, auth: AuthActions, app: Any, flaskr: Any) -> None:
    auth.login()
    assert client.post("/1/delete").headers["Location"] == "/"
    with app.app_context():
        assert flaskr.db.get_db().execute("SELECT * FROM post WHERE id = 1").fetchone() is None


# -- both faces, one session -----------------------------------------------------------------------------------

SESSION = [
    ("GET", "/", None),
    ("GET", "/static/style.css", None),
    ("GET", "/auth/register", None),
    ("POST", "/auth/register", {"username": "", "password": ""}),
    ("POST", "/auth/register", {"username": "test", "password": "x"}),
    ("POST", "/auth/register", {"username": "new <user>", "password": "pw"}),
    ("GET", "/auth/login", None),
    ("POST", "/auth/login", {"username": "new <user>", "password": "wrong"}),
    ("POST", "/auth/login", {"username": "new <user>", "password": "pw"}),
    ("GET", "/", None),
    ("GET", "/create", None),
    ("POST", "/create", {"title": "", "body": "b"}),
    ("POST", "/create", {"title": "Hello <world>", "body": "a & b"}),
    ("GET", "/2/update", None),
    ("POST", "/2/update", {"title": "Hello again", "body": "edited"}),
    ("GET", "/1/update", None),
    ("POST", "/1/delete", None),
    ("GET", "/9/update", None),
    ("POST", "/2/delete", None),
    ("GET", "/2/delete", None),
    ("POST", "/auth/login", {"username": "test"}),
    ("GET", "/auth/logout", None),
    ("GET", "/", None),
    ("GET", "/nope", None),
]


def _run_session(flaskr: Any, database: Path, with_tokens: bool) -> list[tuple[Any, ...]]:
    app = flaskr.create_app({"TESTING": False, "DATABASE": str(database)})
    with app.app_context():
        flaskr.db.init_db()
        flaskr.db.get_db().executescript(DATA_SQL)
    client = app.test_client()
    results = []
    for method, path, data in SESSION:
        if with_tokens and method == "POST":
            # What a browser does: post the token of the form it was shown (the session changes at log in).
            page = client.get("/auth/login").data
            match = _TOKEN_LINE.search(page)
            assert match is not None
            data = {**(data or {}), "csrf_token": match.group(1).decode()}
        response = client.open(path, method=method, data=data)
        body = _TOKEN_LINE.sub(b"", response.data.replace(b"\r\n", b"\n"))
        results.append((method, path, response.status_code, response.mimetype, body, response.location))
        response.close()
    return results


def test_the_same_session_gets_the_same_responses(packages: dict[str, Any], tmp_path: Path) -> None:
    expected = _run_session(packages["flask"], tmp_path / "flask.sqlite", with_tokens=False)
    for name in ("ketch", "native"):
        got = _run_session(packages[name], tmp_path / f"{name}.sqlite", with_tokens=name == "native")
        for want, have in zip(expected, got, strict=True):
            assert have == want, name


def test_the_native_app_refuses_posts_without_a_token(packages: dict[str, Any], tmp_path: Path) -> None:
    app = packages["native"].create_app({"DATABASE": str(tmp_path / "native.sqlite")})
    with app.app_context():
        packages["native"].db.init_db()
    client = app.test_client()
    response = client.post("/auth/register", data={"username": "a", "password": "a"})
    assert response.status_code == 403
    assert b"The CSRF" in response.data
    page = client.get("/auth/register").data
    token = _TOKEN_LINE.search(page)
    assert token is not None
    response = client.post(
        "/auth/register", data={"username": "a", "password": "a", "csrf_token": token.group(1).decode()}
    )
    assert response.location == "/auth/login"


@pytest.mark.parametrize("name", ["ketch", "native"])
def test_ketch_app_init_db_runs_the_tutorial_command(
    packages: dict[str, Any], name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``flask --app flaskr init-db`` is ``ketch --app flaskr init-db``."""
    from click.testing import CliRunner

    from ketch.cli import main

    monkeypatch.chdir(tmp_path)
    package = packages[name].__name__
    instance = Path(packages[name].create_app().instance_path)
    result = CliRunner().invoke(main, ["--app", package, "init-db"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Initialized the database.\n"
    with sqlite3.connect(instance / "flaskr.sqlite") as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"user", "post"} <= tables
    routes = CliRunner().invoke(main, ["--app", package, "routes"])
    assert "blog.update" in routes.stdout and "auth.login" in routes.stdout
