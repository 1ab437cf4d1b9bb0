"""Reliability battery D1-D6: static files and ranges under hostile paths, symlinks and Range headers.

Driven with hand-built ASGI scopes (RELIABILITY.md "R"), so raw ``..``, backslashes and NUL reach the app exactly
as a server could pass them. After every case the app must still answer ``GET /health``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest

from ketch import Ketch
from ketch._files import parse_range
from ketch.staticfiles import StaticFiles
from ketch.types import ASGIApp, Message

SECRET = b"top secret"
BIG = bytes(range(256)) * 80  # 20480 bytes


@dataclass
class Result:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v.decode("latin-1") for k, v in self.headers if k == name.encode()), None)


def call(app: ASGIApp, path: str, *, method: str = "GET", headers: Sequence[tuple[str, str]] = ()) -> Result:
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
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode("utf-8", "surrogateescape"),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver")] + [(k.lower().encode(), v.encode()) for k, v in headers],
            "client": ("testclient", 50000),
            "server": ("testserver", 80),
        }
        try:
            await app(scope, receive, send)
        finally:
            finished.set()

    asyncio.run(run())
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return Result(start["status"], list(start["headers"]), body)


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """tmp/static (the root) next to a secret file and a sibling dir that shares the root's name as a prefix."""
    static = tmp_path / "static"
    (static / "sub").mkdir(parents=True)
    (static / "public.txt").write_text("public")
    (static / "big.bin").write_bytes(BIG)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "static_private").mkdir()
    (tmp_path / "static_private" / "x").write_bytes(SECRET)
    (static / "link-out-file").symlink_to(tmp_path / "secret.txt")
    (static / "link-out-dir").symlink_to(tmp_path / "static_private", target_is_directory=True)
    (static / "public.txt.gz").symlink_to(tmp_path / "secret.txt")
    (static / "loop1").symlink_to(static / "loop2")
    (static / "loop2").symlink_to(static / "loop1")
    (static / "self").symlink_to(static / "self")
    (static / "sub" / "up").symlink_to(static / "..", target_is_directory=True)
    return tmp_path


def best_time(func: Callable[[], object], repeat: int = 10) -> float:
    """The fastest of ``repeat`` runs: the cost of the algorithm, not of a busy machine."""
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        func()
        times.append(time.perf_counter() - begin)
    return min(times)


def make_app(base: Path, **options: object) -> Ketch:
    app = Ketch()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.mount("/static", StaticFiles(directory=base / "static", **options), name="static")  # type: ignore[arg-type]
    return app


def assert_not_found(app: Ketch, path: str, method: str = "GET") -> Result:
    result = call(app, path, method=method)
    assert result.status == 404, path
    assert result.body == (b"" if method == "HEAD" else b'{"detail":"Not Found"}')
    assert SECRET not in result.body
    assert call(app, "/health").status == 200
    return result


# -- D1: raw "..", and a sibling directory sharing the root's prefix ------------------------------------------------

D1_PAYLOADS = [
    "/static/../secret.txt",
    "/static/../static_private/x",
    "/static/sub/../../secret.txt",
    "/static/./../secret.txt",
    "/static/..",
    "/static/../",
    "/static/sub/../public.txt",  # even a ".." that stays inside is refused: no normalisation games
]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("path", D1_PAYLOADS)
def test_d1_dot_dot_never_escapes(layout: Path, path: str) -> None:
    assert_not_found(make_app(layout), path)


@pytest.mark.timeout(10)
def test_d1_sibling_prefix_directory_used_as_root_name(layout: Path) -> None:
    # A root "static" must not accept "static_private" as inside just because the strings share a prefix.
    app = make_app(layout)
    app.mount("/s", StaticFiles(directory=layout / "static"))
    assert_not_found(app, "/s/../static_private/x")
    assert_not_found(app, "/s/link-out-dir/x")


# -- D2: encoded and OS-specific escapes -------------------------------------------------------------------------

D2_PAYLOADS = [
    "/static/%2e%2e%2fsecret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/..%2fsecret.txt",
    "/static/%252e%252e%252fsecret.txt",
    "/static/.%2e/secret.txt",
    "/static/%2e./secret.txt",
    "/static/..\\secret.txt",
    "/static/..\\..\\secret.txt",
    "/static/sub\\..\\..\\secret.txt",
    "/static/\\\\server\\share\\x",
    "/static/\\..\\secret.txt",
    "/static/C:/x",
    "/static/C:\\secret.txt",
    "/static/c:secret.txt",
    "/static/public.txt::$DATA",
    "/static//etc/passwd",
    "/static///etc/passwd",
    "/static/%00",
    "/static/public.txt%00.png",
    "/static/public.txt\x00.png",
    "/static/\x00",
    "/static/CON",
    "/static/nul.txt",
    "/static/sub/COM1",
    "/static/LPT1.log",
    "/static/%ff%fe",
    "/static/\udcff\udcfe",
    "/static/\ufffd",
    "/static/" + "a" * 5000,
    "/static/" + "a/" * 3000 + "x",
]


def _d2_cases() -> list[str]:
    # Each payload as a server could hand it over: as sent, and percent-decoded once.
    cases: list[str] = []
    for payload in D2_PAYLOADS:
        for form in (payload, unquote(payload)):
            if form not in cases:
                cases.append(form)
    return cases


@pytest.mark.timeout(10)
@pytest.mark.parametrize("path", _d2_cases())
def test_d2_encoded_and_os_specific_escapes(layout: Path, path: str) -> None:
    assert_not_found(make_app(layout), path)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("path", ["/static/..\\secret.txt", "/static/%2e%2e%2fsecret.txt", "/static/C:/x"])
def test_d2_head_too(layout: Path, path: str) -> None:
    assert_not_found(make_app(layout), unquote(path), method="HEAD")


# -- D3: symlinks -------------------------------------------------------------------------------------------------

D3_PAYLOADS = [
    "/static/link-out-file",
    "/static/link-out-dir/x",
    "/static/link-out-dir/",
    "/static/public.txt.gz",
    "/static/loop1",
    "/static/loop2/x",
    "/static/self",
    "/static/sub/up/secret.txt",
]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("path", D3_PAYLOADS)
def test_d3_symlinks_out_of_the_root_are_404(layout: Path, path: str) -> None:
    assert_not_found(make_app(layout), path)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("path", D3_PAYLOADS)
def test_d3_follow_symlink_still_stays_inside_allowed_roots(layout: Path, path: str) -> None:
    assert_not_found(make_app(layout, follow_symlink=True), path)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("path", ["/static/loop1", "/static/self"])
def test_d3_symlink_loop_in_html_mode_is_404_not_a_hang(layout: Path, path: str) -> None:
    begin = time.perf_counter()
    assert_not_found(make_app(layout, html=True), path)
    assert time.perf_counter() - begin < 2


@pytest.mark.timeout(10)
def test_d3_symlink_that_stays_inside_is_served(layout: Path) -> None:
    (layout / "static" / "alias").symlink_to(layout / "static" / "public.txt")
    assert call(make_app(layout), "/static/alias").body == b"public"


# -- D5: no existence oracle, no listing ----------------------------------------------------------------------------

D5_PATHS = {
    "missing": "/static/missing.txt",
    "outside": "/static/../secret.txt",
    "outside via symlink": "/static/link-out-file",
    "directory": "/static/sub",
    "directory with slash": "/static/sub/",
    "root listing": "/static/",
    "mount root": "/static",
    "loop": "/static/loop1",
    "unsafe": "/static/C:/x",
}


@pytest.mark.timeout(10)
def test_d5_every_miss_is_the_same_response(layout: Path) -> None:
    app = make_app(layout)
    results = {name: call(app, path) for name, path in D5_PATHS.items()}
    reference = results["missing"]
    for name, result in results.items():
        assert (result.status, result.headers, result.body) == (reference.status, reference.headers, reference.body), (
            name
        )
    assert reference.status == 404
    assert call(app, "/health").status == 200


@pytest.mark.timeout(10)
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file")
def test_d5_unreadable_file_is_the_same_404(layout: Path) -> None:
    locked = layout / "static" / "locked.txt"
    locked.write_text("x")
    locked.chmod(0)
    try:
        app = make_app(layout)
        assert call(app, "/static/locked.txt").headers == call(app, "/static/missing.txt").headers
        assert_not_found(app, "/static/locked.txt")
    finally:
        locked.chmod(0o600)


@pytest.mark.timeout(10)
def test_d5_timing_does_not_reveal_existence(layout: Path) -> None:
    # Loose bound: a miss of any kind costs about the same (no extra work for paths that exist).
    app = make_app(layout)
    call(app, "/static/missing.txt")  # warm up

    def median(path: str) -> float:
        times = []
        for _ in range(15):
            begin = time.perf_counter()
            call(app, path)
            times.append(time.perf_counter() - begin)
        return sorted(times)[len(times) // 2]

    missing, directory, outside = (median(p) for p in ("/static/nope", "/static/sub", "/static/link-out-file"))
    assert max(missing, directory, outside) < 3 * min(missing, directory, outside) + 0.005


# -- D6: hostile Range headers ------------------------------------------------------------------------------------


@pytest.mark.timeout(10)
def test_d6_ten_thousand_ranges_parse_in_linear_time(layout: Path) -> None:
    header = "bytes=" + ",".join(f"{i}-{i}" for i in range(10_000))
    assert parse_range(header, len(BIG)) == [(0, 10_000)]
    assert best_time(lambda: parse_range(header, len(BIG))) < 0.2  # linear: ~7 ms idle; quadratic takes seconds
    result = call(make_app(layout), "/static/big.bin", headers=[("Range", header)])
    assert (result.status, result.header("content-range"), result.body) == (206, "bytes 0-9999/20480", BIG[:10_000])
    assert call(make_app(layout), "/health").status == 200


@pytest.mark.timeout(10)
def test_d6_ten_thousand_reversed_overlapping_ranges(layout: Path) -> None:
    header = "bytes=" + ",".join(f"{i}-{i + 5}" for i in reversed(range(10_000)))
    assert parse_range(header, len(BIG)) == [(0, 10_005)]
    assert best_time(lambda: parse_range(header, len(BIG))) < 0.2  # linear: ~7 ms idle; quadratic takes seconds


@pytest.mark.timeout(10)
def test_d6_ten_thousand_disjoint_ranges_stay_linear(layout: Path) -> None:
    header = "bytes=" + ",".join(f"{2 * i}-{2 * i}" for i in range(10_000))
    ranges = parse_range(header, len(BIG))
    assert ranges is not None and len(ranges) == 10_000
    assert best_time(lambda: parse_range(header, len(BIG))) < 0.2  # linear: ~7 ms idle; quadratic takes seconds
    # 10k distinct parts would be 10k file reads for one request: past max_ranges the whole file is sent.
    begin = time.perf_counter()
    result = call(make_app(layout), "/static/big.bin", headers=[("Range", header)])
    assert (result.status, result.body) == (200, BIG)
    assert time.perf_counter() - begin < 1
    assert call(make_app(layout), "/health").status == 200


@pytest.mark.timeout(10)
def test_d6_overlapping_ranges_are_coalesced(layout: Path) -> None:
    result = call(make_app(layout), "/static/big.bin", headers=[("Range", "bytes=0-99,50-149,100-199")])
    assert (result.status, result.header("content-range"), result.body) == (206, "bytes 0-199/20480", BIG[:200])


@pytest.mark.timeout(10)
def test_d6_huge_suffix_is_the_whole_file(layout: Path) -> None:
    result = call(make_app(layout), "/static/big.bin", headers=[("Range", "bytes=-99999999999")])
    assert (result.status, result.header("content-range"), result.body) == (206, "bytes 0-20479/20480", BIG)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "header", ["bytes=١-٢", "bytes=٠-٩", "items=0-1", "bytes=0-1;x", "bytes=" + "1" * 10_000 + "-0", "bytes=½-1"]
)
def test_d6_non_ascii_digits_and_unknown_units_are_ignored(layout: Path, header: str) -> None:
    result = call(make_app(layout), "/static/big.bin", headers=[("Range", header)])
    assert (result.status, result.body) == (200, BIG)
    assert result.header("content-range") is None
    assert call(make_app(layout), "/health").status == 200


@pytest.mark.timeout(10)
def test_d6_unsatisfiable_is_416(layout: Path) -> None:
    result = call(make_app(layout), "/static/big.bin", headers=[("Range", "bytes=99999-")])
    assert (result.status, result.header("content-range"), result.body) == (416, "bytes */20480", b"")


@pytest.mark.timeout(10)
def test_d6_five_thousand_digit_positions_do_not_crash(layout: Path) -> None:
    huge = "9" * 5000
    result = call(make_app(layout), "/static/big.bin", headers=[("Range", f"bytes={huge}-,-{huge}")])
    assert (result.status, result.header("content-range")) == (206, "bytes 0-20479/20480")
