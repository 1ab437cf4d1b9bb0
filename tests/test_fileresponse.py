"""FileResponse: headers, HEAD, conditional requests, ranges, chunking, disconnects (driven through raw ASGI)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ketch._files as files
from ketch import Ketch
from ketch._files import FileResponse as PrivateFileResponse
from ketch._files import parse_range
from ketch.background import BackgroundTask
from ketch.datastructures import Headers
from ketch.requests import Request
from ketch.responses import FileResponse
from ketch.types import ASGIApp, Message

CONTENT = bytes(range(256)) * 4  # 1024 bytes, every offset distinguishable


@dataclass
class Result:
    status: int
    headers: Headers
    body: bytes
    messages: list[Message] = field(default_factory=list)


def call(
    app: ASGIApp,
    path: str = "/",
    *,
    method: str = "GET",
    headers: Sequence[tuple[str, str]] = (),
    send_hook: Callable[[Message], None] | None = None,
    disconnect_after: int | None = None,
) -> Result:
    """Run one request through ``app`` with a hand-built scope; optionally disconnect after N body messages."""
    messages: list[Message] = []

    async def run() -> None:
        finished = asyncio.Event()
        body_sent = asyncio.Event()
        request_sent = False

        async def receive() -> Message:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            if disconnect_after is not None:
                await body_sent.wait()
            else:
                await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if send_hook is not None:
                send_hook(message)
            messages.append(message)
            bodies = sum(1 for m in messages if m["type"] == "http.response.body")
            if disconnect_after is not None and bodies >= disconnect_after:
                body_sent.set()
                await asyncio.sleep(0.05)  # let the disconnect be noticed before the next chunk

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
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
    return Result(start["status"], Headers(raw=list(start["headers"])), body, messages)


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(CONTENT)
    return path


def file_app(path: Path, **options: Any) -> Ketch:
    app = Ketch()

    @app.get("/file")
    def serve() -> FileResponse:
        return FileResponse(path, **options)

    return app


def get(path: Path, headers: Sequence[tuple[str, str]] = (), method: str = "GET", **options: Any) -> Result:
    return call(FileResponse(path, **options), method=method, headers=headers)


def starlette_etag(path: Path) -> str:
    st_ = os.stat(path)
    return '"' + hashlib.md5(f"{st_.st_mtime}-{st_.st_size}".encode(), usedforsecurity=False).hexdigest() + '"'


# -- the re-export ------------------------------------------------------------------------------------------------


def test_reexported_from_responses() -> None:
    assert FileResponse is PrivateFileResponse


# -- headers ------------------------------------------------------------------------------------------------------


def test_get_through_a_route_sends_file_and_validators(data_file: Path) -> None:
    result = call(file_app(data_file), "/file")
    stat_result = os.stat(data_file)
    assert result.status == 200
    assert result.body == CONTENT
    assert result.headers["content-length"] == str(len(CONTENT))
    assert result.headers["content-type"] == "application/octet-stream"
    assert result.headers["accept-ranges"] == "bytes"
    assert result.headers["last-modified"] == formatdate(stat_result.st_mtime, usegmt=True)
    assert result.headers["etag"] == starlette_etag(data_file)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.txt", "text/plain; charset=utf-8"),
        ("a.html", "text/html; charset=utf-8"),
        ("a.png", "image/png"),
        ("a.json", "application/json"),
        ("no-extension", "text/plain; charset=utf-8"),
    ],
)
def test_media_type_is_guessed_from_the_name(tmp_path: Path, name: str, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"x")
    assert get(path).headers["content-type"] == expected


def test_media_type_guessed_from_filename_before_path(data_file: Path) -> None:
    assert get(data_file, filename="report.csv").headers["content-type"] == "text/csv; charset=utf-8"


def test_explicit_media_type_and_headers_win(data_file: Path) -> None:
    headers = {"Cache-Control": "max-age=60", "ETag": '"mine"'}
    result = call(FileResponse(data_file, media_type="image/webp", headers=headers))
    assert result.headers["content-type"] == "image/webp"
    assert result.headers["cache-control"] == "max-age=60"
    assert result.headers.getlist("etag") == ['"mine"']


@pytest.mark.parametrize(
    ("filename", "kind", "expected"),
    [
        ("report.csv", "attachment", 'attachment; filename="report.csv"'),
        ("report.csv", "inline", 'inline; filename="report.csv"'),
        ("été.txt", "attachment", "attachment; filename*=utf-8''%C3%A9t%C3%A9.txt"),
        ("my file.txt", "attachment", "attachment; filename*=utf-8''my%20file.txt"),
        ('a"b.txt', "attachment", "attachment; filename*=utf-8''a%22b.txt"),
        ("a\r\nSet-Cookie: x=1", "attachment", "attachment; filename*=utf-8''a%0D%0ASet-Cookie%3A%20x%3D1"),
    ],
)
def test_content_disposition(data_file: Path, filename: str, kind: str, expected: str) -> None:
    result = get(data_file, filename=filename, content_disposition_type=kind)
    assert result.headers["content-disposition"] == expected
    assert "set-cookie" not in result.headers


def test_stat_result_given_sets_headers_up_front(data_file: Path) -> None:
    response = FileResponse(data_file, stat_result=os.stat(data_file))
    assert response.headers["content-length"] == str(len(CONTENT))
    assert response.headers["etag"] == starlette_etag(data_file)
    assert call(response).body == CONTENT


def test_one_response_object_can_be_sent_twice(data_file: Path) -> None:
    response = FileResponse(data_file)
    first = call(response, headers=[("Range", "bytes=0-9")])
    second = call(response)
    assert (first.status, first.body) == (206, CONTENT[:10])
    assert (second.status, second.body) == (200, CONTENT)
    assert "content-range" not in second.headers


# -- HEAD ---------------------------------------------------------------------------------------------------------


def test_head_sends_headers_only(data_file: Path) -> None:
    result = get(data_file, method="HEAD")
    assert result.status == 200
    assert result.body == b""
    assert result.headers["content-length"] == str(len(CONTENT))
    assert result.headers["etag"] == starlette_etag(data_file)


def test_head_through_a_route(data_file: Path) -> None:
    result = call(file_app(data_file), "/file", method="HEAD")
    assert (result.status, result.body) == (200, b"")
    assert result.headers["content-length"] == str(len(CONTENT))


def test_method_argument_overrides_the_scope(data_file: Path) -> None:
    result = call(FileResponse(data_file, method="HEAD"), method="GET")
    assert (result.status, result.body) == (200, b"")


def test_head_ignores_range(data_file: Path) -> None:
    result = get(data_file, [("Range", "bytes=0-9")], method="HEAD")
    assert result.status == 200
    assert "content-range" not in result.headers
    assert result.headers["content-length"] == str(len(CONTENT))


# -- chunking, threads, empty files -------------------------------------------------------------------------------


def test_large_file_is_sent_in_64k_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    payload = os.urandom(200 * 1024)
    path.write_bytes(payload)
    result = get(path)
    bodies = [m for m in result.messages if m["type"] == "http.response.body"]
    assert result.body == payload
    assert [len(m["body"]) for m in bodies] == [65536, 65536, 65536, 8192]
    assert [m["more_body"] for m in bodies] == [True, True, True, False]


def test_file_is_read_on_the_thread_pool(data_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    real = files._read_at

    def spy(file: BinaryIO, offset: int, size: int) -> bytes:
        threads.append(threading.current_thread().name)
        return real(file, offset, size)

    monkeypatch.setattr(files, "_read_at", spy)
    assert get(data_file).body == CONTENT
    assert threads and all(name.startswith("ketch-worker") for name in threads)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    result = get(path)
    assert (result.status, result.body) == (200, b"")
    assert result.headers["content-length"] == "0"
    assert result.messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


def test_file_that_shrank_ends_the_body_short(data_file: Path) -> None:
    stale = os.stat(data_file)
    data_file.write_bytes(CONTENT[:100])
    result = call(FileResponse(data_file, stat_result=stale))
    assert result.body == CONTENT[:100]
    assert result.messages[-1]["more_body"] is False


# -- missing files --------------------------------------------------------------------------------------------------


def test_missing_file_is_a_clear_runtime_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        call(FileResponse(tmp_path / "nope.txt"))


def test_directory_is_a_clear_runtime_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="is not a file"):
        call(FileResponse(tmp_path))


def test_file_removed_after_stat_is_a_runtime_error_before_any_header(data_file: Path) -> None:
    stale = os.stat(data_file)
    data_file.unlink()
    sent: list[Message] = []
    with pytest.raises(RuntimeError, match="does not exist"):
        call(FileResponse(data_file, stat_result=stale), send_hook=sent.append)
    assert sent == []


def test_missing_file_through_a_route_is_a_500(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    result = call(file_app(tmp_path / "nope.txt"), "/file")
    assert result.status == 500
    assert str(tmp_path) not in result.body.decode()


# -- conditional requests -----------------------------------------------------------------------------------------


def test_if_none_match_gives_304_with_validators_only(data_file: Path) -> None:
    etag = starlette_etag(data_file)
    response = FileResponse(data_file, headers={"Cache-Control": "no-cache", "X-Other": "1"})
    result = call(response, headers=[("If-None-Match", etag)])
    assert result.status == 304
    assert result.body == b""
    assert result.headers["etag"] == etag
    assert result.headers["last-modified"] == formatdate(os.stat(data_file).st_mtime, usegmt=True)
    assert result.headers["cache-control"] == "no-cache"
    assert "content-length" not in result.headers
    assert "content-type" not in result.headers
    assert "x-other" not in result.headers


@pytest.mark.parametrize("template", ["{etag}", "W/{etag}", '"other", {etag}', "*", ' "a" ,W/{etag} '])
def test_if_none_match_forms_that_match(data_file: Path, template: str) -> None:
    header = template.format(etag=starlette_etag(data_file))
    assert get(data_file, [("If-None-Match", header)]).status == 304


@pytest.mark.parametrize("header", ['"other"', 'W/"other"', ""])
def test_if_none_match_that_does_not_match(data_file: Path, header: str) -> None:
    result = get(data_file, [("If-None-Match", header)])
    assert (result.status, result.body) == (200, CONTENT)


def test_head_gets_304_too(data_file: Path) -> None:
    assert get(data_file, [("If-None-Match", starlette_etag(data_file))], method="HEAD").status == 304


def test_if_modified_since(data_file: Path) -> None:
    mtime = os.stat(data_file).st_mtime
    assert get(data_file, [("If-Modified-Since", formatdate(mtime, usegmt=True))]).status == 304
    assert get(data_file, [("If-Modified-Since", formatdate(mtime + 3600, usegmt=True))]).status == 304
    assert get(data_file, [("If-Modified-Since", formatdate(mtime - 3600, usegmt=True))]).status == 200
    assert get(data_file, [("If-Modified-Since", "not a date")]).status == 200
    assert get(data_file, [("If-Modified-Since", "Mon, 99 Foo 2020 99:99:99 GMT")]).status == 200


def test_if_none_match_takes_precedence_over_if_modified_since(data_file: Path) -> None:
    fresh = formatdate(os.stat(data_file).st_mtime + 3600, usegmt=True)
    result = get(data_file, [("If-None-Match", '"other"'), ("If-Modified-Since", fresh)])
    assert result.status == 200


def test_if_match_and_if_unmodified_since(data_file: Path) -> None:
    etag = starlette_etag(data_file)
    mtime = os.stat(data_file).st_mtime
    assert get(data_file, [("If-Match", '"other"')]).status == 412
    assert get(data_file, [("If-Match", f"W/{etag}")]).status == 412  # If-Match compares strongly
    assert get(data_file, [("If-Match", etag)]).status == 200
    assert get(data_file, [("If-Match", "*")]).status == 200
    assert get(data_file, [("If-Unmodified-Since", formatdate(mtime - 3600, usegmt=True))]).status == 412
    assert get(data_file, [("If-Unmodified-Since", formatdate(mtime + 3600, usegmt=True))]).status == 200
    result = get(data_file, [("If-Match", '"other"')])
    assert result.body == b""
    assert result.headers["content-length"] == "0"


def test_conditionals_do_not_apply_to_other_statuses(data_file: Path) -> None:
    result = get(data_file, [("If-None-Match", "*"), ("Range", "bytes=0-1")], status_code=404)
    assert (result.status, result.body) == (404, CONTENT)


# -- ranges -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=10-", 10, 1023),
        ("bytes=-10", 1014, 1023),
        ("bytes=1000-5000", 1000, 1023),
        ("BYTES=5-5", 5, 5),
        ("bytes= 3-4 ", 3, 4),
        ("bytes=-99999999999", 0, 1023),
        ("bytes=0-" + "9" * 5000, 0, 1023),
        ("bytes=" + "0" * 5000 + "7-8", 7, 8),
    ],
)
def test_single_range(data_file: Path, header: str, start: int, end: int) -> None:
    result = get(data_file, [("Range", header)])
    assert result.status == 206
    assert result.headers["content-range"] == f"bytes {start}-{end}/1024"
    assert result.headers["content-length"] == str(end - start + 1)
    assert result.body == CONTENT[start : end + 1]


def parse_multipart(result: Result) -> list[tuple[dict[str, str], bytes]]:
    match = re.fullmatch(r"multipart/byteranges; boundary=([0-9a-f]+)", result.headers["content-type"])
    assert match is not None
    boundary = match.group(1).encode()
    assert int(result.headers["content-length"]) == len(result.body)
    assert result.body.endswith(b"\r\n--" + boundary + b"--\r\n")
    parts = []
    for chunk in result.body.split(b"--" + boundary)[1:-1]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")
        head, _, data = chunk[2:-2].partition(b"\r\n\r\n")
        fields = dict(line.decode().split(": ", 1) for line in head.split(b"\r\n"))
        parts.append((fields, data))
    return parts


def test_multiple_ranges_give_multipart_byteranges(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(CONTENT)
    result = get(path, [("Range", "bytes=500-509, 0-4,-3")])
    assert result.status == 206
    assert "content-range" not in result.headers
    parts = parse_multipart(result)
    assert [fields["Content-Range"] for fields, _ in parts] == [
        "bytes 500-509/1024",
        "bytes 0-4/1024",
        "bytes 1021-1023/1024",
    ]  # the request's order, as RFC 9110 §14.6 asks
    assert all(fields["Content-Type"] == "text/plain; charset=utf-8" for fields, _ in parts)
    assert [data for _, data in parts] == [CONTENT[500:510], CONTENT[0:5], CONTENT[1021:]]


def test_overlapping_and_adjacent_ranges_are_coalesced(data_file: Path) -> None:
    result = get(data_file, [("Range", "bytes=0-9,5-19,20-29,100-109,105-")])
    parts = parse_multipart(result)
    assert [fields["Content-Range"] for fields, _ in parts] == ["bytes 0-29/1024", "bytes 100-1023/1024"]
    assert [data for _, data in parts] == [CONTENT[:30], CONTENT[100:]]


def test_ranges_that_coalesce_into_one_give_a_single_part(data_file: Path) -> None:
    result = get(data_file, [("Range", "bytes=0-0,1-1,2-2,0-3")])
    assert result.headers["content-range"] == "bytes 0-3/1024"
    assert result.body == CONTENT[:4]


def test_more_parts_than_max_ranges_sends_the_whole_file(data_file: Path) -> None:
    header = "bytes=" + ",".join(f"{2 * i}-{2 * i}" for i in range(FileResponse.max_ranges + 1))
    assert get(data_file, [("Range", header)]).status == 200
    header = "bytes=" + ",".join(f"{2 * i}-{2 * i}" for i in range(FileResponse.max_ranges))
    result = get(data_file, [("Range", header)])
    assert result.status == 206
    assert len(parse_multipart(result)) == FileResponse.max_ranges


def test_unsatisfiable_ranges_among_good_ones_are_dropped(data_file: Path) -> None:
    result = get(data_file, [("Range", "bytes=2000-3000,0-1")])
    assert result.headers["content-range"] == "bytes 0-1/1024"


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=5000-6000", "bytes=2000-,3000-3001", "bytes=-0"])
def test_unsatisfiable_range_is_416(data_file: Path, header: str) -> None:
    result = get(data_file, [("Range", header)])
    assert result.status == 416
    assert result.headers["content-range"] == "bytes */1024"
    assert result.body == b""


def test_range_on_an_empty_file_is_416(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert get(path, [("Range", "bytes=0-")]).headers["content-range"] == "bytes */0"


@pytest.mark.parametrize(
    "header",
    [
        "items=0-1",
        "bytes=١-٢",
        "bytes=0-١",
        "bytes",
        "bytes=",
        "bytes=,",
        "bytes=a-b",
        "bytes=5-2",
        "bytes=0-1,5-2",
        "bytes=--1",
        "bytes=1--2",
        "bytes=+1-2",
        "bytes=1_0-20",
        "bytes=0x1-2",
        "bytes=1.5-2",
        "bytes 0-1",
        "=0-1",
    ],
)
def test_malformed_or_unknown_range_is_ignored(data_file: Path, header: str) -> None:
    result = get(data_file, [("Range", header)])
    assert (result.status, result.body) == (200, CONTENT)
    assert "content-range" not in result.headers


def test_if_range_with_the_current_etag_or_date_allows_the_range(data_file: Path) -> None:
    etag = starlette_etag(data_file)
    modified = formatdate(os.stat(data_file).st_mtime, usegmt=True)
    assert get(data_file, [("Range", "bytes=0-1"), ("If-Range", etag)]).status == 206
    assert get(data_file, [("Range", "bytes=0-1"), ("If-Range", modified)]).status == 206


@pytest.mark.parametrize("if_range", ['"stale"', "W/{etag}", "Mon, 01 Jan 2001 00:00:00 GMT", "garbage"])
def test_if_range_that_does_not_match_sends_the_whole_file(data_file: Path, if_range: str) -> None:
    header = if_range.format(etag=starlette_etag(data_file))
    result = get(data_file, [("Range", "bytes=0-1"), ("If-Range", header)])
    assert (result.status, result.body) == (200, CONTENT)


def test_conditional_304_wins_over_range(data_file: Path) -> None:
    result = get(data_file, [("Range", "bytes=0-1"), ("If-None-Match", starlette_etag(data_file))])
    assert result.status == 304


def test_range_on_a_route(data_file: Path) -> None:
    result = call(file_app(data_file), "/file", headers=[("Range", "bytes=-4")])
    assert (result.status, result.body) == (206, CONTENT[-4:])


# -- the range parser ---------------------------------------------------------------------------------------------


def test_parse_range_contract() -> None:
    assert parse_range("bytes=0-0", 10) == [(0, 1)]
    assert parse_range("bytes=5-,0-1", 10) == [(5, 10), (0, 2)]
    assert parse_range("bytes=0-4,2-6", 10) == [(0, 7)]
    assert parse_range("bytes=20-30", 10) == []
    assert parse_range("items=0-1", 10) is None
    assert parse_range("bytes=١-٢", 10) is None
    assert parse_range("bytes=-99999999999", 10) == [(0, 10)]
    assert parse_range("bytes=0-1,,2-3,", 10) == [(0, 4)]


@settings(max_examples=300, deadline=200)
@given(
    specs=st.lists(
        st.one_of(
            st.tuples(st.integers(0, 3000), st.one_of(st.none(), st.integers(0, 3000))).map(
                lambda p: f"{p[0]}-" if p[1] is None else f"{p[0]}-{p[1]}"
            ),
            st.integers(0, 3000).map(lambda n: f"-{n}"),
            st.text(max_size=6),
        ),
        min_size=1,
        max_size=40,
    ),
    size=st.integers(0, 2000),
)
def test_parse_range_property(specs: list[str], size: int) -> None:
    header = "bytes=" + ",".join(specs)
    result = parse_range(header, size)
    if result is None:
        return
    assert len(result) <= header.count(",") + 1  # never more ranges than were asked for
    for start, end in result:
        assert 0 <= start < end <= size
    ordered = sorted(result)
    assert all(a[1] < b[0] for a, b in zip(ordered, ordered[1:], strict=False))  # disjoint, not even adjacent


@settings(max_examples=200, deadline=200)
@given(header=st.text(max_size=200), size=st.integers(0, 10**12))
def test_parse_range_never_raises(header: str, size: int) -> None:
    result = parse_range(header, size)
    assert result is None or all(0 <= start < end <= size for start, end in result)


def test_parse_range_is_linear() -> None:
    header = "bytes=" + ",".join(f"{i}-{i}" for i in reversed(range(10_000)))  # worst case for insertion merging
    assert parse_range(header, 20_000) == [(0, 10_000)]
    assert best_time(lambda: parse_range(header, 20_000)) < 0.2  # linear: ms idle; quadratic takes seconds


def best_time(func: Callable[[], object], repeat: int = 10) -> float:
    """The fastest of ``repeat`` runs: the cost of the algorithm, not of a busy machine."""
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        func()
        times.append(time.perf_counter() - begin)
    return min(times)


# -- disconnects and background -----------------------------------------------------------------------------------


def track_opened(monkeypatch: pytest.MonkeyPatch) -> list[BinaryIO]:
    opened: list[BinaryIO] = []
    real = files._open_file

    def spy(path: str | os.PathLike[str]) -> BinaryIO:
        handle = real(path)
        opened.append(handle)
        return handle

    monkeypatch.setattr(files, "_open_file", spy)
    return opened


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * (64 * 1024 * 20))
    return path


@pytest.mark.timeout(10)
def test_disconnect_stops_sending_and_closes_the_file(big_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = track_opened(monkeypatch)
    ran: list[bool] = []
    result = call(FileResponse(big_file, background=BackgroundTask(lambda: ran.append(True))), disconnect_after=1)
    bodies = [m for m in result.messages if m["type"] == "http.response.body"]
    assert 1 <= len(bodies) < 20
    assert len(opened) == 1 and opened[0].closed
    assert ran == []  # a response the client never got runs no background task


@pytest.mark.timeout(10)
def test_send_raising_oserror_stops_quietly_and_closes_the_file(
    big_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = track_opened(monkeypatch)
    count = 0

    def hook(message: Message) -> None:
        nonlocal count
        if message["type"] == "http.response.body":
            count += 1
            if count == 3:
                raise ConnectionResetError("client went away")

    call(FileResponse(big_file), send_hook=hook)
    assert count == 3
    assert len(opened) == 1 and opened[0].closed


def test_multipart_disconnect_closes_the_file(big_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = track_opened(monkeypatch)
    call(FileResponse(big_file), headers=[("Range", "bytes=0-100000,200000-")], disconnect_after=1)
    assert len(opened) == 1 and opened[0].closed


def test_background_runs_after_the_body(data_file: Path) -> None:
    order: list[str] = []

    def hook(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            order.append("body done")

    response = FileResponse(data_file, background=BackgroundTask(lambda: order.append("task")))
    call(response, send_hook=hook)
    assert order == ["body done", "task"]


def test_background_runs_after_a_304(data_file: Path) -> None:
    ran: list[bool] = []
    response = FileResponse(data_file, background=BackgroundTask(lambda: ran.append(True)))
    assert call(response, headers=[("If-None-Match", "*")]).status == 304
    assert ran == [True]


def test_handler_builds_a_download_from_the_request(data_file: Path) -> None:
    app = Ketch()

    @app.get("/dl")
    def download(request: Request) -> FileResponse:
        return FileResponse(data_file, filename=request.query_params.get("name", "data.bin"))

    result = call(app, "/dl")
    assert result.headers["content-disposition"] == 'attachment; filename="data.bin"'
