"""The reliability battery for the classic face: hostile paths to send_from_directory (D1-D3), body errors
(A1, A2, A5, B6), the debug page (I1: loopback only, escaped, even in debug a remote client gets the app's own
500), classic 500s (G1), and the session and CSRF rows not already in test_sessions.py / test_csrf.py (E1 quiet
bad cookies, E4 cookie values that would split the response, E5 the template token round trip). Raw paths are
sent with hand-built ASGI scopes (R).

After every case the app still answers ``GET /health``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from ketch import Ketch
from ketch.globals import request
from ketch.helpers import send_from_directory
from ketch.testclient import TestClient
from ketch.types import Message

SECRET = b"top secret"


def call(app: Any, path: str, *, method: str = "GET", body: bytes = b"", headers: list[tuple[str, str]] = ()) -> Any:  # type: ignore[assignment]
    """Send one request with the path exactly as given (no client normalisation); return (status, body)."""
    messages: list[Message] = []

    async def run() -> None:
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            messages.append(message)

        raw_headers = [(b"host", b"testserver")] + [(k.lower().encode(), v.encode()) for k, v in headers]
        if body:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode("utf-8", "surrogateescape"),
            "root_path": "",
            "query_string": b"",
            "headers": raw_headers,
            "client": ("127.0.0.1", 1234),
            "server": ("testserver", 80),
        }
        await asyncio.wait_for(app(scope, receive, send), 5)

    asyncio.run(run())
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    data = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return status, data


@pytest.fixture
def files(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    root.mkdir()
    (root / "ok.txt").write_text("public file")
    (root / "sub").mkdir()
    (root / "sub" / "nested.txt").write_text("nested")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "public_private").mkdir()
    (tmp_path / "public_private" / "x.txt").write_bytes(SECRET)
    os.symlink(tmp_path / "secret.txt", root / "link-out.txt")
    os.symlink(tmp_path / "public_private", root / "dir-out")
    os.symlink(root / "ok.txt", root / "link-in.txt")
    os.symlink(root / "loop", root / "loop")
    return root


def files_app(root: Path, **config: Any) -> Ketch:
    app = Ketch(__name__)
    app.config.update({"SECRET_KEY": "x", "CSRF_ENABLED": False, **config})

    @app.route("/files/<path:name>")
    def serve(name: str) -> Any:
        return send_from_directory(root, name)

    @app.route("/health")
    def health() -> str:
        return "ok"

    return app


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "path",
    [
        "/files/../secret.txt",
        "/files/sub/../../secret.txt",
        "/files/..%2fsecret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/%252e%252e%252fsecret.txt",
        "/files/.%2e/secret.txt",
        "/files/..\\secret.txt",
        "/files/\\\\server\\share\\x",
        "/files/C:/x",
        "/files//etc/passwd",
        "/files/%2Fetc%2Fpasswd",
        "/files/ok.txt%00.png",
        "/files/ok.txt\x00.png",
        "/files/../public_private/x.txt",
        "/files/link-out.txt",
        "/files/dir-out/x.txt",
        "/files/loop",
        "/files/sub",
        "/files/missing.txt",
        "/files/NUL.txt",
    ],
)
def test_send_from_directory_never_leaves_the_folder(files: Path, path: str) -> None:
    app = files_app(files)
    status, body = call(app, path)
    assert status == 404
    assert SECRET not in body
    assert call(app, "/health")[0] == 200


@pytest.mark.timeout(10)
def test_send_from_directory_serves_files_inside(files: Path) -> None:
    app = files_app(files)
    assert call(app, "/files/ok.txt") == (200, b"public file")
    assert call(app, "/files/sub/nested.txt") == (200, b"nested")
    assert call(app, "/files/link-in.txt") == (200, b"public file")
    assert call(app, "/files/./sub//nested.txt") == (200, b"nested")


@pytest.mark.timeout(10)
def test_missing_and_outside_look_the_same(files: Path) -> None:
    app = files_app(files)
    assert call(app, "/files/missing.txt") == call(app, "/files/../secret.txt") == call(app, "/files/sub")


def body_app() -> tuple[Ketch, list[str]]:
    app = Ketch(__name__)
    app.config.update(SECRET_KEY="x", CSRF_ENABLED=False, MAX_CONTENT_LENGTH=4000)
    ran: list[str] = []

    @app.route("/form", methods=["POST"])
    def form() -> str:
        ran.append("form")
        return request.form["name"]

    @app.route("/json", methods=["POST"])
    def json_view() -> Any:
        ran.append("json")
        return {"got": request.get_json()}

    @app.route("/untouched", methods=["POST"])
    def untouched() -> str:
        ran.append("untouched")
        return "did not read the body"

    @app.route("/health")
    def health() -> str:
        return "ok"

    return app, ran


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("path", "content_type", "body", "status"),
    [
        ("/form", "application/x-www-form-urlencoded", b"other=1", 400),
        ("/form", "multipart/form-data; boundary=xyz", b"--xyz\r\nbroken", 400),
        ("/form", "multipart/form-data", b"no boundary", 400),
        ("/json", "application/json", b"{bad json", 400),
        ("/json", "application/json", b'{"a": "\xff"}', 400),
        ("/json", "application/json", b"[" * 900 + b"]" * 900, 400),
        ("/json", "application/json", b'{"n": NaN}', 400),
        ("/json", "text/plain", b'{"a": 1}', 415),
        ("/json", "", b'{"a": 1}', 415),
        ("/form", "application/x-www-form-urlencoded", b"name=" + b"x" * 5000, 413),
    ],
)
def test_bad_bodies_are_4xx_never_500(path: str, content_type: str, body: bytes, status: int) -> None:
    app, _ = body_app()
    headers = [("content-type", content_type)] if content_type else []
    got, data = call(app, path, method="POST", body=body, headers=headers)
    assert got == status
    assert b"Traceback" not in data
    assert call(app, "/health")[0] == 200


@pytest.mark.timeout(10)
def test_a_body_over_the_limit_never_reaches_the_view() -> None:
    app, ran = body_app()
    status, _ = call(app, "/untouched", method="POST", body=b"x" * 4001)
    assert status == 413
    assert ran == []
    assert call(app, "/untouched", method="POST", body=b"x" * 10) == (200, b"did not read the body")


@pytest.mark.timeout(10)
def test_a_bad_body_the_view_never_reads_is_no_error() -> None:
    app, _ = body_app()
    headers = [("content-type", "multipart/form-data; boundary=xyz")]
    assert call(app, "/untouched", method="POST", body=b"garbage", headers=headers)[0] == 200


def crash_app(debug: bool) -> Ketch:
    app = Ketch(__name__, debug=debug)

    @app.route("/crash")
    def crash() -> str:
        secret_local = "hunter2"  # noqa: F841  (a local the debug page would show)
        raise ZeroDivisionError("boom")

    @app.route("/health")
    def health() -> str:
        return "ok"

    return app


@pytest.mark.timeout(10)
@pytest.mark.parametrize("client_host", ["203.0.113.9", "10.0.0.1", "::ffff:1.2.3.4", "localhost.evil.com"])
def test_the_debug_page_is_never_served_to_a_remote_client(client_host: str) -> None:
    client = TestClient(crash_app(debug=True), raise_server_exceptions=False, client=(client_host, 5000))
    response = client.get("/crash", headers={"Accept": "text/html"})
    assert response.status_code == 500
    for leak in ("hunter2", "ZeroDivisionError", "Traceback", "test_reliability.py"):
        assert leak not in response.text
    assert client.get("/health").status_code == 200


@pytest.mark.timeout(10)
def test_the_debug_page_shows_the_traceback_to_loopback_clients() -> None:
    client = TestClient(crash_app(debug=True), raise_server_exceptions=False, client=("127.0.0.1", 5000))
    response = client.get("/crash", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert "ZeroDivisionError" in response.text and "hunter2" in response.text


@pytest.mark.timeout(10)
def test_a_classic_500_is_generic_html() -> None:
    client = TestClient(crash_app(debug=False), raise_server_exceptions=False)
    response = client.get("/crash")
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>500 Internal Server Error</title>" in response.text
    assert "boom" not in response.text and "hunter2" not in response.text
    assert client.get("/health").status_code == 200


def crash_app_with_handler(debug: bool) -> Ketch:
    app = crash_app(debug)

    @app.errorhandler(500)
    def custom(error: Any) -> Any:
        return "our own 500 page", 500

    @app.route("/crash-html")
    def crash_html() -> str:
        markup = "<img src=x onerror=alert(1)>"  # noqa: F841  (a local the debug page shows, escaped)
        raise ValueError("<b>bold</b>")

    return app


@pytest.mark.timeout(10)
@pytest.mark.parametrize("client_host", ["203.0.113.9", "::ffff:1.2.3.4", "localhost.evil.com"])
def test_in_debug_a_remote_client_gets_the_apps_own_500_page(client_host: str) -> None:
    client = TestClient(crash_app_with_handler(debug=True), raise_server_exceptions=False, client=(client_host, 1))
    response = client.get("/crash", headers={"Accept": "text/html"})
    assert (response.status_code, response.text) == (500, "our own 500 page")


@pytest.mark.timeout(10)
@pytest.mark.parametrize("client_host", ["127.0.0.1", "::1", "localhost"])
def test_in_debug_a_loopback_client_gets_the_escaped_debug_page(client_host: str) -> None:
    client = TestClient(crash_app_with_handler(debug=True), raise_server_exceptions=False, client=(client_host, 1))
    response = client.get("/crash-html", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert "ValueError: &lt;b&gt;bold&lt;/b&gt;" in response.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text  # the local, escaped
    assert 'raise ValueError("&lt;b&gt;bold&lt;/b&gt;")' in response.text.replace("&quot;", '"')  # the source line
    assert "<img src=x" not in response.text and "<b>bold" not in response.text
    plain = client.get("/crash-html", headers={"Accept": "application/json"})
    assert plain.headers["content-type"].startswith("text/plain") and "Traceback" in plain.text


@pytest.mark.timeout(10)
def test_without_debug_even_a_loopback_client_gets_no_traceback() -> None:
    client = TestClient(crash_app_with_handler(debug=False), raise_server_exceptions=False, client=("127.0.0.1", 1))
    assert client.get("/crash-html", headers={"Accept": "text/html"}).text == "our own 500 page"


@pytest.mark.timeout(10)
def test_in_debug_the_test_client_sees_the_error_itself() -> None:
    """As in Flask: with debug on, a view's exception propagates to the test client."""
    with pytest.raises(ZeroDivisionError):
        TestClient(crash_app(debug=True)).get("/crash")


# -- sessions and CSRF (E1, E4, E5) ---------------------------------------------------------------------------


def form_app() -> Ketch:
    app = Ketch(__name__)
    app.config["SECRET_KEY"] = "reliability"

    @app.route("/form")
    def form() -> str:
        from ketch import render_template_string

        return render_template_string('<form method=post><input name=csrf_token value="{{ csrf_token() }}"></form>')

    @app.route("/form", methods=["POST"])
    def submit() -> str:
        return "posted"

    @app.route("/cookie/<path:value>")
    def cookie(value: str) -> Any:
        from ketch.helpers import make_response

        response = make_response("set")
        response.set_cookie("c", value)
        return response

    @app.route("/session")
    def read_session() -> str:
        from ketch.globals import session

        return str(len(session))

    return app


@pytest.mark.timeout(10)
def test_e5_the_template_token_round_trips_and_is_escaped() -> None:
    import re

    client = TestClient(form_app(), raise_server_exceptions=False)
    page = client.get("/form").text
    match = re.search(r'value="([^"<>&]+)"', page)
    assert match is not None
    assert client.post("/form", data={"csrf_token": match.group(1)}).text == "posted"
    assert client.post("/form", data={"csrf_token": match.group(1) + "x"}).status_code == 403
    assert client.post("/form", data={}).status_code == 403
    assert client.options("/form").status_code == 200 and client.head("/form").status_code == 200


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("value", "status"), [("a;b", 500), ("a\r\nSet-Cookie: evil=1", 500), ("a\x00b", 404)])
def test_e4_a_cookie_value_from_the_url_never_splits_the_response(value: str, status: int) -> None:
    """The path arrives decoded (ASGI): ``;``, CR LF and NUL reach the view; the cookie is refused, a generic 500."""
    assert call(form_app(), f"/cookie/{value}")[0] == status
    assert call(form_app(), "/cookie/fine")[0] == 200


@pytest.mark.timeout(10)
@pytest.mark.parametrize("cookie", ["garbage", "a.b.c", "x" * 5000, "eyJ4IjoxfQ.bad.sig"])
def test_e1_a_bad_session_cookie_is_empty_and_quiet(cookie: str, caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(form_app(), raise_server_exceptions=False)
    client.cookies.set("session", cookie)
    with caplog.at_level("DEBUG"):
        response = client.get("/session")
    assert (response.status_code, response.text) == (200, "0")
    assert [record for record in caplog.records if record.levelno >= 30] == []
