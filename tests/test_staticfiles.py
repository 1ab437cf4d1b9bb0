"""StaticFiles: serving, HEAD/405, HTML mode, packages, config checks, reverse routing, path resolution."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ketch._files as files
from ketch import Ketch
from ketch.datastructures import Headers
from ketch.requests import Request
from ketch.staticfiles import StaticFiles, clean_path, route_path
from ketch.testclient import TestClient
from ketch.types import ASGIApp, Message


@dataclass
class Result:
    status: int
    headers: Headers
    body: bytes


def call(
    app: ASGIApp,
    path: str,
    *,
    method: str = "GET",
    headers: Sequence[tuple[str, str]] = (),
    query: bytes = b"",
    scope_type: str = "http",
) -> tuple[Result | None, list[Message]]:
    """One request through ``app`` with a hand-built scope (any path, unnormalised)."""
    messages: list[Message] = []

    async def run() -> None:
        finished = asyncio.Event()
        request_sent = False

        async def receive() -> Message:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            messages.append(message)

        scope = {
            "type": scope_type,
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode("utf-8", "surrogateescape"),
            "root_path": "",
            "query_string": query,
            "headers": [(b"host", b"testserver")] + [(k.lower().encode(), v.encode()) for k, v in headers],
            "client": ("testclient", 50000),
            "server": ("testserver", 80),
        }
        try:
            await app(scope, receive, send)
        finally:
            finished.set()

    asyncio.run(run())
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    if start is None:
        return None, messages
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return Result(start["status"], Headers(raw=list(start["headers"])), body), messages


def request(app: ASGIApp, path: str, **kwargs: object) -> Result:
    result, _ = call(app, path, **kwargs)  # type: ignore[arg-type]
    assert result is not None
    return result


@pytest.fixture
def root(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "docs").mkdir()
    (static / "empty-dir").mkdir()
    (static / "hello.txt").write_text("hello")
    (static / "css" / "site.css").write_text("body {}")
    (static / "docs" / "index.html").write_text("<h1>docs</h1>")
    (static / "index.html").write_text("<h1>home</h1>")
    return static


def mounted(directory: Path | None = None, **options: object) -> Ketch:
    app = Ketch()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.mount("/static", StaticFiles(directory=directory, **options), name="static")  # type: ignore[arg-type]
    return app


NOT_FOUND = (404, b'{"detail":"Not Found"}')


# -- serving ------------------------------------------------------------------------------------------------------


def test_serves_a_file(root: Path) -> None:
    result = request(mounted(root), "/static/hello.txt")
    assert (result.status, result.body) == (200, b"hello")
    assert result.headers["content-type"] == "text/plain; charset=utf-8"
    assert result.headers["content-length"] == "5"
    assert result.headers["accept-ranges"] == "bytes"
    assert "etag" in result.headers and "last-modified" in result.headers


def test_serves_a_nested_file(root: Path) -> None:
    result = request(mounted(root), "/static/css/site.css")
    assert (result.status, result.body) == (200, b"body {}")
    assert result.headers["content-type"] == "text/css; charset=utf-8"


def test_serves_a_file_with_a_non_ascii_name(root: Path) -> None:
    (root / "café.txt").write_text("crème")
    assert request(mounted(root), "/static/café.txt").body == "crème".encode()


def test_str_directory(root: Path) -> None:
    assert request(mounted(str(root)), "/static/hello.txt").status == 200  # type: ignore[arg-type]


def test_head(root: Path) -> None:
    result = request(mounted(root), "/static/hello.txt", method="HEAD")
    assert (result.status, result.body) == (200, b"")
    assert result.headers["content-length"] == "5"


def test_head_on_a_miss_has_no_body(root: Path) -> None:
    result = request(mounted(root), "/static/nope.txt", method="HEAD")
    assert (result.status, result.body) == (404, b"")
    assert result.headers["content-type"] == "application/json"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"])
def test_other_methods_are_405_with_allow(root: Path, method: str) -> None:
    result = request(mounted(root), "/static/hello.txt", method=method)
    assert (result.status, result.body) == (405, b'{"detail":"Method Not Allowed"}')
    assert result.headers["allow"] == "GET, HEAD"


def test_missing_file_is_404_json(root: Path) -> None:
    result = request(mounted(root), "/static/nope.txt")
    assert (result.status, result.body) == NOT_FOUND
    assert result.headers["content-type"] == "application/json"


@pytest.mark.parametrize("path", ["/static", "/static/", "/static/css", "/static/css/", "/static/empty-dir/"])
def test_directories_are_404_without_html(root: Path, path: str) -> None:
    result = request(mounted(root), path)
    assert (result.status, result.body) == NOT_FOUND


def test_trailing_slash_and_dot_segments_on_a_file(root: Path) -> None:
    app = mounted(root)
    assert request(app, "/static/./css//site.css").body == b"body {}"
    assert request(app, "/static/hello.txt/").body == b"hello"


def test_conditional_and_range_requests_work(root: Path) -> None:
    app = mounted(root)
    etag = request(app, "/static/hello.txt").headers["etag"]
    assert request(app, "/static/hello.txt", headers=[("If-None-Match", etag)]).status == 304
    partial = request(app, "/static/hello.txt", headers=[("Range", "bytes=1-3")])
    assert (partial.status, partial.body, partial.headers["content-range"]) == (206, b"ell", "bytes 1-3/5")


def test_websocket_scope_is_closed(root: Path) -> None:
    result, messages = call(StaticFiles(directory=root), "/x", scope_type="websocket")
    assert result is None
    assert messages == [{"type": "websocket.close", "code": 1000, "reason": ""}]


def test_lifespan_scope_is_ignored(root: Path) -> None:
    _, messages = call(StaticFiles(directory=root), "/x", scope_type="lifespan")
    assert messages == []


def test_used_as_a_bare_asgi_app(root: Path) -> None:
    result = request(StaticFiles(directory=root), "/css/site.css")
    assert (result.status, result.body) == (200, b"body {}")


def test_other_routes_still_work(root: Path) -> None:
    app = mounted(root)
    assert request(app, "/health").body == b'{"status":"ok"}'


# -- HTML mode ----------------------------------------------------------------------------------------------------


def test_html_serves_index_for_directories(root: Path) -> None:
    app = mounted(root, html=True)
    assert request(app, "/static/").body == b"<h1>home</h1>"
    result = request(app, "/static/docs/")
    assert (result.status, result.body) == (200, b"<h1>docs</h1>")
    assert result.headers["content-type"] == "text/html; charset=utf-8"


def test_html_redirects_a_directory_without_slash(root: Path) -> None:
    app = mounted(root, html=True)
    result = request(app, "/static/docs", query=b"a=1")
    assert result.status == 307
    assert result.headers["location"] == "http://testserver/static/docs/?a=1"
    assert request(app, "/static").headers["location"] == "http://testserver/static/"


def test_html_redirect_never_leaves_the_host(root: Path) -> None:
    (root / "evil.com").mkdir()
    (root / "evil.com" / "index.html").write_text("x")
    app = Ketch()
    app.mount("", StaticFiles(directory=root, html=True))
    result = request(app, "//evil.com")
    assert result.status == 307
    assert result.headers["location"].startswith("http://testserver/")


def test_html_serves_404_page_for_misses(root: Path) -> None:
    (root / "404.html").write_text("<h1>lost</h1>")
    app = mounted(root, html=True)
    for path in ("/static/nope", "/static/empty-dir/", "/static/../x"):
        result = request(app, path)
        assert (result.status, result.body) == (404, b"<h1>lost</h1>")
        assert result.headers["content-type"] == "text/html; charset=utf-8"
    head = request(app, "/static/nope", method="HEAD")
    assert (head.status, head.body) == (404, b"")


def test_html_404_page_ignores_range_and_conditionals(root: Path) -> None:
    (root / "404.html").write_text("<h1>lost</h1>")
    app = mounted(root, html=True)
    result = request(app, "/static/nope", headers=[("Range", "bytes=0-1"), ("If-None-Match", "*")])
    assert (result.status, result.body) == (404, b"<h1>lost</h1>")


def test_html_without_404_page_is_json_404(root: Path) -> None:
    result = request(mounted(root, html=True), "/static/empty-dir/")
    assert (result.status, result.body) == NOT_FOUND


# -- configuration ------------------------------------------------------------------------------------------------


def test_missing_directory_raises_at_construction(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "missing")


def test_check_dir_false_defers_the_check(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    missing = tmp_path / "later"
    app = mounted(missing, check_dir=False)
    assert request(app, "/static/a.txt").status == 500  # an app bug, reported loudly on first use
    missing.mkdir()
    (missing / "a.txt").write_text("now")
    assert request(app, "/static/a.txt").body == b"now"


def test_check_dir_false_on_a_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(RuntimeError, match="not a directory"):
        call(StaticFiles(directory=path, check_dir=False), "/x")


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    pkg = tmp_path / "site" / "ketch_static_pkg"
    (pkg / "static").mkdir(parents=True)
    (pkg / "statics").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "static" / "app.js").write_text("js()")
    (pkg / "statics" / "default.txt").write_text("default")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield "ketch_static_pkg"


def test_packages_with_folder(package: str) -> None:
    app = Ketch()
    app.mount("/static", StaticFiles(packages=[(package, "static")]))
    assert request(app, "/static/app.js").body == b"js()"


def test_packages_default_folder_is_statics(package: str) -> None:
    app = Ketch()
    app.mount("/static", StaticFiles(packages=[package]))
    assert request(app, "/static/default.txt").body == b"default"


def test_directory_and_packages_are_searched_in_order(root: Path, package: str) -> None:
    (root / "app.js").write_text("mine()")
    app = mounted(root, packages=[(package, "static")])
    assert request(app, "/static/app.js").body == b"mine()"
    assert request(app, "/static/hello.txt").body == b"hello"


def test_missing_package_or_folder_raises(package: str) -> None:
    with pytest.raises(RuntimeError, match="could not be found"):
        StaticFiles(packages=["no_such_package_for_ketch"])
    with pytest.raises(RuntimeError, match="could not be found"):
        StaticFiles(packages=[(package, "nope")])


# -- reverse routing ----------------------------------------------------------------------------------------------


def test_url_path_for_a_named_mount(root: Path) -> None:
    app = mounted(root)
    assert app.url_path_for("static", path="css/site.css") == "/static/css/site.css"
    assert app.url_path_for("static", path="/css/site.css") == "/static/css/site.css"


def test_url_for_from_a_handler(root: Path) -> None:
    app = mounted(root)

    @app.get("/page")
    def page(request: Request) -> dict[str, str]:
        return {"css": str(request.url_for("static", path="css/site.css"))}

    assert request(app, "/page").body == b'{"css":"http://testserver/static/css/site.css"}'
    assert request(app, "/static/css/site.css").status == 200


# -- symlinks inside the tree -------------------------------------------------------------------------------------


def test_symlink_inside_the_root_is_served(root: Path) -> None:
    (root / "alias.txt").symlink_to(root / "hello.txt")
    (root / "styles").symlink_to(root / "css", target_is_directory=True)
    app = mounted(root)
    assert request(app, "/static/alias.txt").body == b"hello"
    assert request(app, "/static/styles/site.css").body == b"body {}"


def test_follow_symlink_reaches_other_served_roots_only(root: Path, package: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    (root / "to-package.js").symlink_to(tmp_path / "site" / package / "static" / "app.js")
    (root / "to-outside.txt").symlink_to(outside)
    strict = mounted(root, packages=[(package, "static")])
    following = mounted(root, packages=[(package, "static")], follow_symlink=True)
    refused = request(strict, "/static/to-package.js")
    assert (refused.status, refused.body) == NOT_FOUND
    assert request(following, "/static/to-package.js").body == b"js()"
    assert request(following, "/static/to-outside.txt").status == 404
    assert request(strict, "/static/to-outside.txt").status == 404


# -- path helpers -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/a/b.txt", os.path.join("a", "b.txt")),
        ("", ""),
        ("/", ""),
        ("//a//./b/", os.path.join("a", "b")),
        ("/a/../b", None),
        ("/..", None),
        ("/a\\b", None),
        ("/a\x00b", None),
        ("/C:/x", None),
        ("/c:x", None),
        ("/a.txt::$DATA", None),
        ("/CON", None),
        ("/con.txt", None),
        ("/sub/Nul.tar.gz", None),
        ("/COM1", None),
        ("/LPT9.log", None),
        ("/COM¹", None),
        ("/CON /x", None),
        ("/CONSOLE.txt", os.path.join("CONSOLE.txt")),
        ("/...", "..."),
        ("/.hidden", ".hidden"),
    ],
)
def test_clean_path(path: str, expected: str | None) -> None:
    assert clean_path(path) == expected


@pytest.mark.parametrize(
    ("path", "root_path", "expected"),
    [
        ("/static/a.css", "/static", "/a.css"),
        ("/static", "/static", ""),
        ("/staticfoo/a.css", "/static", "/staticfoo/a.css"),
        ("/a.css", "/static", "/a.css"),  # a server that already stripped the prefix
        ("/a.css", "", "/a.css"),
    ],
)
def test_route_path(path: str, root_path: str, expected: str) -> None:
    assert route_path({"path": path, "root_path": root_path}) == expected


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[StaticFiles, str]:
    base = tmp_path_factory.mktemp("tree")
    static = base / "static"
    (static / "a" / "b").mkdir(parents=True)
    (static / "a" / "f.txt").write_text("f")
    (base / "secret.txt").write_text("secret")
    (base / "static_private").mkdir()
    (static / "out").symlink_to(base / "secret.txt")
    (static / "outdir").symlink_to(base / "static_private", target_is_directory=True)
    (static / "loop1").symlink_to(static / "loop2")
    (static / "loop2").symlink_to(static / "loop1")
    app = StaticFiles(directory=static)
    app.check_config()
    return app, os.path.realpath(static)


@settings(max_examples=300, deadline=200)
@given(
    path=st.one_of(
        st.text(max_size=40),
        st.lists(st.sampled_from(["..", ".", "", "a", "b", "f.txt", "out", "outdir", "loop1", "\\", "C:"])).map(
            "/".join
        ),
    )
)
def test_resolution_never_leaves_the_root(tree: tuple[StaticFiles, str], path: str) -> None:
    app, real_root = tree
    relative = clean_path(path)
    if relative is None:
        return
    full_path, stat_result = app.lookup_path(relative)
    if stat_result is None:
        assert full_path == ""
        return
    real = os.path.realpath(full_path)
    assert os.path.commonpath([real_root, real]) == real_root


# -- through the test client --------------------------------------------------------------------------------------


def test_client_get_conditional_and_ranges(root: Path) -> None:
    with TestClient(mounted(root)) as client:
        first = client.get("/static/hello.txt")
        assert (first.status_code, first.text) == (200, "hello")
        cached = client.get("/static/hello.txt", headers={"If-None-Match": first.headers["etag"]})
        assert (cached.status_code, cached.content) == (304, b"")
        since = client.get("/static/hello.txt", headers={"If-Modified-Since": first.headers["last-modified"]})
        assert since.status_code == 304
        partial = client.get("/static/hello.txt", headers={"Range": "bytes=-2"})
        assert (partial.status_code, partial.text, partial.headers["content-range"]) == (206, "lo", "bytes 3-4/5")
        multi = client.get("/static/hello.txt", headers={"Range": "bytes=0-0,4-4"})
        assert multi.status_code == 206
        assert multi.headers["content-type"].startswith("multipart/byteranges; boundary=")
        assert b"Content-Range: bytes 0-0/5\r\n\r\nh\r\n" in multi.content
        assert client.get("/static/hello.txt", headers={"Range": "bytes=9-"}).status_code == 416
        assert client.get("/static/nope").json() == {"detail": "Not Found"}
        assert client.head("/static/hello.txt").headers["content-length"] == "5"


def test_client_html_mode(root: Path) -> None:
    with TestClient(mounted(root, html=True)) as client:
        redirect = client.get("/static/docs", follow_redirects=False)
        assert (redirect.status_code, redirect.headers["location"]) == (307, "http://testserver/static/docs/")
        assert client.get("/static/docs/").text == "<h1>docs</h1>"


def test_client_that_stops_reading_closes_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "big.bin").write_bytes(b"x" * (64 * 1024 * 64))
    opened: list[BinaryIO] = []
    real = files._open_file

    def spy(path: str | os.PathLike[str]) -> BinaryIO:
        handle = real(path)
        opened.append(handle)
        return handle

    monkeypatch.setattr(files, "_open_file", spy)
    with TestClient(mounted(tmp_path)) as client:
        with client.stream("GET", "/static/big.bin") as response:
            assert response.status_code == 200
            next(response.iter_bytes())
        assert client.get("/health").status_code == 200
    assert len(opened) == 1 and opened[0].closed
