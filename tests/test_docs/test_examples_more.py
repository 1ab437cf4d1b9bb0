"""The docs_src examples of the middleware, static files, testing, CLI and deploying pages, exercised as described."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ketch.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- middleware.md -------------------------------------------------------------------------------------------------


def https_client() -> TestClient:
    from docs_src.middleware import app

    return TestClient(app, base_url="https://example.com")


def test_middleware_function_middleware_and_context_variables() -> None:
    response = https_client().get("/whoami", headers={"x-request-id": "abc"})
    assert response.json() == {"request_id": "abc"}  # set in the middleware, read in the endpoint
    assert response.headers["x-request-id"] == "abc"
    assert float(response.headers["x-process-time"]) >= 0
    assert https_client().get("/whoami").headers["x-request-id"] == "generated"
    missing = https_client().get("/missing")  # app middleware wraps 404s too
    assert (missing.status_code, missing.headers["x-request-id"]) == (404, "generated")


def test_middleware_gzip_inside_function_middleware() -> None:
    client = https_client()
    small = client.get("/whoami")
    assert "content-encoding" not in small.headers  # under minimum_size: left alone, length kept
    assert small.headers["content-length"] == str(len(small.content))
    with client.stream("GET", "/report") as response:  # streamed through call_next and compressed chunk by chunk
        assert response.headers["content-encoding"] == "gzip"
        assert "content-length" not in response.headers
        assert "accept-encoding" in response.headers["vary"].lower()
        lines = list(response.iter_lines())
    assert len(lines) == 200
    assert lines[199] == "line 199: all systems nominal"
    assert response.headers["x-request-id"] == "generated"
    plain = client.get("/report", headers={"accept-encoding": "gzip;q=0"})
    assert "content-encoding" not in plain.headers
    assert plain.text.count("\n") == 200


def test_middleware_cors() -> None:
    client = https_client()
    allowed = client.get("/whoami", headers={"origin": "https://app.example.com"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "origin" in allowed.headers["vary"].lower()
    other = client.get("/whoami", headers={"origin": "https://evil.com"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers
    preflight = {"origin": "https://app.example.com", "access-control-request-method": "POST"}
    ok = client.options("/whoami", headers=preflight)
    assert (ok.status_code, ok.text) == (200, "OK")
    assert ok.headers["access-control-allow-methods"] == "GET, POST"
    refused = client.options("/whoami", headers={**preflight, "access-control-request-method": "DELETE"})
    assert (refused.status_code, refused.text) == (400, "Disallowed CORS method")
    assert "access-control-allow-origin" not in refused.headers


def test_middleware_https_redirect_and_trusted_host() -> None:
    from docs_src.middleware import app

    redirect = TestClient(app, base_url="http://example.com").get("/whoami?x=1", follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"]) == (307, "https://example.com/whoami?x=1")
    assert TestClient(app, base_url="https://api.example.com").get("/whoami").status_code == 200
    for host in ("https://evil.com", "https://example.com.evil.com", "https://testserver"):
        refused = TestClient(app, base_url=host).get("/whoami")
        assert (refused.status_code, refused.text) == (400, "Invalid host header")
    two_hosts = https_client().get("/whoami", headers=[("host", "example.com"), ("host", "example.com")])
    assert two_hosts.status_code == 400


def test_middleware_scoped_to_a_router() -> None:
    client = https_client()
    balance = client.get("/account/balance")
    assert balance.json() == {"balance": 42}
    assert balance.headers["cache-control"] == "no-store"
    assert balance.headers["x-request-id"] == "generated"  # app middleware still runs around it
    assert "cache-control" not in client.get("/whoami").headers


# -- static-files.md -----------------------------------------------------------------------------------------------


def test_static_files_serves_the_folder() -> None:
    from docs_src.static_files import app

    client = TestClient(app)
    css = client.get("/static/style.css")
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert css.text == (ROOT / "docs_src" / "static" / "style.css").read_text()
    assert {"etag", "last-modified", "content-length"} <= set(css.headers)
    head = client.head("/static/style.css")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", css.headers["content-length"])
    refused = client.post("/static/style.css")
    assert (refused.status_code, refused.headers["allow"]) == (405, "GET, HEAD")
    assert client.get("/assets/style.css").text == css.text  # the same folder, found through its package
    assert client.get("/static/site/index.html").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2fstatic_files.py",  # the file exists next to the folder
        "/static/%2e%2e/static_files.py",
        "/static/..%2F..%2Fpyproject.toml",
        "/static/site/..%5c..%5cstatic_files.py",  # backslash
        "/static/NUL.txt",
        "/static/c:/windows/win.ini",
        "/static/style.css%00.txt",
        "/static/site",  # a directory, without HTML mode
        "/static/missing.css",
    ],
)
def test_static_files_refuses_with_one_404(path: str) -> None:
    from docs_src.static_files import app

    response = TestClient(app).get(path)
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})


def test_static_files_html_mode() -> None:
    from docs_src.static_files import app

    client = TestClient(app)
    redirect = client.get("/site", follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"]) == (307, "http://testserver/site/")
    index = client.get("/site/")
    assert (index.status_code, index.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert "Welcome to the docs" in index.text
    missing = client.get("/site/nowhere.html")
    assert missing.status_code == 404
    assert "No such page" in missing.text


def test_static_files_reverse_urls() -> None:
    from docs_src.static_files import app

    assert app.url_path_for("static", path="style.css") == "/static/style.css"
    page = TestClient(app).get("/")
    assert 'href="http://testserver/static/style.css"' in page.text
    assert TestClient(app, root_path="/web").get("/").text.count("http://testserver/web/static/style.css") == 1


def test_static_files_file_response_ranges_and_validators() -> None:
    from docs_src.static_files import app

    client = TestClient(app)
    full = client.get("/report")
    content = (ROOT / "docs_src" / "static" / "report.txt").read_bytes()
    assert full.content == content
    assert full.headers["content-disposition"] == 'attachment; filename="report.txt"'
    assert full.headers["accept-ranges"] == "bytes"
    size = len(content)

    part = client.get("/report", headers={"range": "bytes=0-4"})
    assert (part.status_code, part.content, part.headers["content-range"]) == (206, b"ketch", f"bytes 0-4/{size}")
    tail = client.get("/report", headers={"range": "bytes=-3"})
    assert (tail.status_code, tail.content) == (206, content[-3:])
    several = client.get("/report", headers={"range": "bytes=0-1,5-6"})
    assert several.status_code == 206
    assert several.headers["content-type"].startswith("multipart/byteranges; boundary=")
    unsatisfiable = client.get("/report", headers={"range": "bytes=1000-"})
    assert (unsatisfiable.status_code, unsatisfiable.headers["content-range"]) == (416, f"bytes */{size}")
    ignored = client.get("/report", headers={"range": "lines=1-2"})
    assert (ignored.status_code, ignored.content) == (200, content)
    stale = client.get("/report", headers={"range": "bytes=0-4", "if-range": '"another-version"'})
    assert (stale.status_code, stale.content) == (200, content)

    etag, modified = full.headers["etag"], full.headers["last-modified"]
    for validator in ({"if-none-match": etag}, {"if-modified-since": modified}):
        cached = client.get("/report", headers=validator)
        assert (cached.status_code, cached.content, cached.headers["etag"]) == (304, b"", etag)
    assert client.get("/report", headers={"if-match": '"another-version"'}).status_code == 412
    css_etag = client.get("/static/style.css").headers["etag"]
    assert client.get("/static/style.css", headers={"if-none-match": css_etag}).status_code == 304


# -- testing.md ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "test_requests_and_cookies",
        "test_redirects",
        "test_server_errors",
        "test_lifespan",
        "test_streaming",
        "test_websocket",
    ],
)
def test_testing_page_tests_pass(name: str) -> None:
    from docs_src import testing

    getattr(testing, name)()


@pytest.mark.anyio
async def test_testing_page_async_test_passes() -> None:
    from docs_src.testing import test_async_client

    await test_async_client()


def test_testing_page_shows_a_real_500_without_raise_server_exceptions() -> None:
    from docs_src.testing import app

    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert "boom" not in response.text  # no traceback for a client without debug


# -- cli.md --------------------------------------------------------------------------------------------------------


def ketch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ketch", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)


def test_cli_routes_output_is_the_one_the_page_shows() -> None:
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    shown = re.search(r"\$ ketch routes docs_src\.quickstart:app\n(.*?)```", page, re.S)
    assert shown is not None
    result = ketch("routes", "docs_src.quickstart:app")
    assert result.returncode == 0, result.stderr
    assert result.stdout == shown.group(1)


def test_cli_reports_a_missing_app_on_one_line() -> None:
    result = ketch("routes", "docs_src.quickstart:nope")
    assert result.returncode == 2
    assert result.stderr.strip() == "Error: Module 'docs_src.quickstart' has no attribute 'nope'."
    refused = ketch("run", "docs_src.quickstart:app", "--reload", "--workers", "2")
    assert refused.returncode == 2
    assert "--reload and --workers cannot be used together" in refused.stderr


# -- deploying.md --------------------------------------------------------------------------------------------------


def test_deploying_behind_a_path_prefix() -> None:
    """``--root-path /api`` with a proxy that strips the prefix: routes match, built URLs carry the prefix."""
    from docs_src.routing import app

    client = TestClient(app, root_path="/api")
    order_id = "9b2c9c5e-61d4-4a45-9f1e-0c3a6fbc2f10"
    response = client.get(f"/orders/{order_id}")
    assert response.json() == {"self": f"http://testserver/api/orders/{order_id}"}
