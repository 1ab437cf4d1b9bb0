"""Reliability battery, forms and uploads (RELIABILITY.md B1-B9).

Bodies go through a real app (``httpx.ASGITransport``), or through a hand-built ASGI scope where the case needs a
mid-body disconnect ("R"). Time bounds are generous multiples of what the rows ask, so CI on two cores is stable;
after every case the app must still answer ``GET /health`` with 200.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pytest

from ketch import Ketch, Limits, Request
from ketch import formparsers as formparsers_module
from ketch.datastructures import FormData, UploadFile, spooled_file
from ketch.exceptions import HTTPException, RequestTooLarge
from ketch.formparsers import parse_form, parse_options_header
from ketch.types import Message

pytestmark = pytest.mark.anyio

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data; boundary=b"
MiB = 1024 * 1024
CHUNK = 64 * 1024

needs_proc_fd = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts FDs in /proc/self/fd")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- helpers ------------------------------------------------------------------------------------------------------


def part(name: str, value: bytes = b"", *, filename: str | None = None, extra: bytes = b"") -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"'.encode()
    if filename is not None:
        disposition += f'; filename="{filename}"'.encode()
    return disposition + b"\r\n" + extra + b"\r\n" + value


def multipart(*parts: bytes, boundary: bytes = b"b") -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts)
    return body + b"--" + boundary + b"--\r\n"


async def describe(form: FormData) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
        else:
            out.setdefault(key, []).append({"filename": value.filename, "size": value.size})
    await form.close()
    return out


def make_app(**kwargs: Any) -> Ketch:
    app = Ketch(**kwargs)

    @app.post("/form")
    async def form(request: Request) -> dict[str, list[Any]]:
        return await describe(await request.form())

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def client(app: Ketch) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def post(
    app: Ketch, body: bytes | AsyncIterator[bytes], content_type: str = MULTIPART, path: str = "/form"
) -> httpx.Response:
    async with client(app) as c:
        response = await c.post(path, content=body, headers={"content-type": content_type})
        assert (await c.get("/health")).status_code == 200
    return response


async def timed_post(
    app: Ketch, body: bytes | AsyncIterator[bytes], content_type: str = MULTIPART
) -> tuple[httpx.Response, float]:
    start = time.perf_counter()
    response = await post(app, body, content_type)
    return response, time.perf_counter() - start


async def in_chunks(data: bytes, size: int = CHUNK) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def repeated(head: bytes, chunk: bytes, count: int, tail: bytes, pulled: list[int]) -> AsyncIterator[bytes]:
    """``head``, then the same ``chunk`` object ``count`` times (no new memory per chunk), then ``tail``."""
    yield head
    for _ in range(count):
        pulled[0] += 1
        yield chunk
    yield tail


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def created_files(monkeypatch: pytest.MonkeyPatch) -> list[BinaryIO]:
    """Every spooled file the form parser creates, to check that each one ends up closed."""
    files: list[BinaryIO] = []

    def spy(max_memory: int) -> BinaryIO:
        file = spooled_file(max_memory)
        files.append(file)
        return file

    monkeypatch.setattr(formparsers_module, "spooled_file", spy)
    return files


# -- B1: urlencoded floods ----------------------------------------------------------------------------------------


@pytest.mark.timeout(10)
async def test_b1_urlencoded_200k_fields_is_400_at_the_limit() -> None:
    response, elapsed = await timed_post(make_app(), b"a=1&" * 200_000, URLENCODED)
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many fields. Maximum number of fields is 1000."}
    assert elapsed < 1.0


@pytest.mark.timeout(10)
async def test_b1_urlencoded_parse_stops_at_limit_plus_one() -> None:
    pulled = 0

    async def one_field_per_chunk() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(200_000):
            pulled += 1
            yield b"a=1&"

    with pytest.raises(HTTPException) as info:
        await parse_form(URLENCODED, one_field_per_chunk(), Limits(max_form_fields=1000))
    assert info.value.status_code == 400
    assert pulled == 1001


@pytest.mark.timeout(10)
@pytest.mark.parametrize("body", [b"a=" + b"x" * (20 * MiB), b"x" * (20 * MiB) + b"=1"], ids=["value", "name"])
async def test_b1_urlencoded_20mb_field_is_413(body: bytes) -> None:
    app = make_app(max_body_size=None)  # the field limit, not the body limit, must be what stops it
    response, elapsed = await timed_post(app, body, URLENCODED)
    assert response.status_code == 413
    assert response.json() == {"detail": "Form field is too large. Maximum size is 1048576 bytes."}
    assert elapsed < 1.0


@pytest.mark.timeout(10)
@pytest.mark.parametrize("head", [b"a=", b""], ids=["value", "name"])
async def test_b1_urlencoded_field_memory_stays_near_max_part_size(head: bytes) -> None:
    pulled = [0]
    stream = repeated(head, b"x" * CHUNK, 320, b"=1", pulled)  # 20 MiB in 64 KiB chunks
    tracemalloc.start()
    try:
        with pytest.raises(RequestTooLarge):
            await parse_form(URLENCODED, stream, Limits(max_body_size=None))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pulled[0] <= MiB // CHUNK + 1
    assert peak < MiB + 4 * CHUNK


# -- B2: multipart part floods ------------------------------------------------------------------------------------


@pytest.mark.timeout(10)
async def test_b2_100k_empty_parts_is_400_at_the_field_limit() -> None:
    body = multipart(*[part("a")] * 100_000)
    start = time.process_time()
    response = await post(make_app(), body)
    assert time.process_time() - start < 1.0
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many fields. Maximum number of fields is 1000."}


@pytest.mark.timeout(10)
async def test_b2_2000_empty_files_is_400_at_the_file_limit_and_closes_them(created_files: list[BinaryIO]) -> None:
    body = multipart(*[part("f", filename="e.txt")] * 2000)
    start = time.process_time()
    response = await post(make_app(), body)
    assert time.process_time() - start < 1.0
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many files. Maximum number of files is 1000."}
    assert len(created_files) == 1000
    assert all(file.closed for file in created_files)


@pytest.mark.timeout(10)
async def test_b2_parts_without_headers_are_rejected_at_the_first() -> None:
    body = b"--b\r\n\r\n\r\n" * 100_000 + b"--b--\r\n"
    response, elapsed = await timed_post(make_app(), body)
    assert response.status_code == 400
    assert response.json() == {"detail": 'The Content-Disposition header field "name" must be provided.'}
    assert elapsed < 1.0


# -- B3: a huge non-file field ------------------------------------------------------------------------------------


@pytest.mark.timeout(10)
async def test_b3_50mb_field_is_413_with_bounded_memory() -> None:
    pulled = [0]
    head = b"--b\r\n" + part("big")
    stream = repeated(head, b"x" * CHUNK, 800, b"\r\n--b--\r\n", pulled)  # 50 MiB
    app = make_app(max_body_size=None)
    tracemalloc.start()
    try:
        response = await post(app, stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    assert response.json() == {"detail": "Form field is too large. Maximum size is 1048576 bytes."}
    assert pulled[0] <= MiB // CHUNK + 2
    assert peak < MiB + 8 * CHUNK


@pytest.mark.timeout(10)
async def test_b3_field_within_the_limit_is_accepted() -> None:
    response = await post(make_app(), multipart(part("big", b"x" * MiB)))
    assert response.status_code == 200
    assert len(response.json()["big"][0]) == MiB


# -- B4: CRLF floods ----------------------------------------------------------------------------------------------

CRLF_5MB = b"\r\n" * (5 * MiB // 2)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("chunked", [False, True], ids=["one-chunk", "64k-chunks"])
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (CRLF_5MB + multipart(part("a", b"1")), {"a": ["1"]}),
        (multipart(part("a", b"1")) + CRLF_5MB, {"a": ["1"]}),
        (multipart(part("f", CRLF_5MB, filename="crlf.bin")), {"f": [{"filename": "crlf.bin", "size": 5 * MiB}]}),
        (multipart(part("f", b"x" * (5 * MiB), filename="x.bin")), {"f": [{"filename": "x.bin", "size": 5 * MiB}]}),
    ],
    ids=["before-first-boundary", "after-last-boundary", "as-file-content", "baseline-plain-file"],
)
async def test_b4_5mb_of_crlf_is_parsed_in_linear_time(body: bytes, expected: dict[str, Any], chunked: bool) -> None:
    response, elapsed = await timed_post(make_app(), in_chunks(body) if chunked else body)
    assert response.status_code == 200
    assert response.json() == expected
    assert elapsed < 2.0


@pytest.mark.timeout(10)
async def test_b4_crlf_file_costs_about_as_much_as_a_plain_file() -> None:
    app = make_app()
    plain = multipart(part("f", b"x" * (5 * MiB), filename="x.bin"))
    crlf = multipart(part("f", CRLF_5MB, filename="crlf.bin"))
    baseline = min([(await timed_post(app, in_chunks(plain)))[1] for _ in range(2)])
    measured = min([(await timed_post(app, in_chunks(crlf)))[1] for _ in range(2)])
    assert measured < 4 * baseline + 0.25


# -- B5: a pathological Content-Type ------------------------------------------------------------------------------

PATHOLOGICAL_CONTENT_TYPES = {
    "escaped-quotes-unterminated": 'multipart/form-data; boundary=a; x="' + '\\"' * 32_768,
    "escaped-quotes-terminated": 'multipart/form-data; boundary=a; x="' + '\\"' * 32_767 + '"',
    "backslashes": 'multipart/form-data; boundary=a; x="' + "\\" * 65_536,
    "semicolons": "multipart/form-data" + ";" * 65_536,
    "spaces": "multipart/form-data; boundary=" + " " * 65_536,
    "equals": "multipart/form-data; boundary=a; " + "=" * 65_536,
    "quotes": 'multipart/form-data; boundary=a; x="' + '"' * 65_536,
    "params": "multipart/form-data; boundary=a" + "; x=y" * 13_000,
    "quoted-semicolons": 'multipart/form-data; boundary=a; x="' + ';x="a\\' * 11_000,
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("content_type", PATHOLOGICAL_CONTENT_TYPES.values(), ids=PATHOLOGICAL_CONTENT_TYPES.keys())
async def test_b5_pathological_content_type_is_400_fast(content_type: str) -> None:
    assert len(content_type) >= 64_000
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        try:
            parse_options_header(content_type)
        except ValueError:
            pass
        best = min(best, time.perf_counter() - start)
    assert best < 0.05  # linear: < 1 ms idle; a backtracking parser takes seconds

    response, elapsed = await timed_post(make_app(), b"not a multipart body", content_type)
    assert response.status_code == 400
    assert elapsed < 1.0


# -- B6: broken structure -----------------------------------------------------------------------------------------

MALFORMED = "Malformed multipart body"
TOO_MANY_HEADERS = "Too many headers in a multipart part. Maximum is 16."
HEADER_TOO_LARGE = "A multipart part header is too large. Maximum is 8192 bytes."
NO_NAME = 'The Content-Disposition header field "name" must be provided.'

BROKEN: dict[str, tuple[str, bytes, str]] = {
    "no-boundary": ("multipart/form-data", multipart(part("a", b"1")), "Missing boundary in multipart."),
    "empty-boundary": ("multipart/form-data; boundary=", multipart(part("a", b"1")), "Missing boundary in multipart."),
    "quoted-empty-boundary": ('multipart/form-data; boundary=""', b"--\r\n", "Missing boundary in multipart."),
    "300-byte-boundary": (
        "multipart/form-data; boundary=" + "b" * 300,
        multipart(part("a", b"1"), boundary=b"b" * 300),
        "Multipart boundary is too long. Maximum length is 256 bytes.",
    ),
    "unterminated-quote-in-content-type": ('multipart/form-data; boundary="b', b"", "Invalid Content-Type header."),
    "bad-first-boundary": (MULTIPART, multipart(part("a", b"1"), boundary=b"x"), MALFORMED),
    "boundary-without-crlf": (MULTIPART, b"--bX\r\n" + part("a", b"1") + b"\r\n--b--\r\n", MALFORMED),
    "garbage": (MULTIPART, b"\x00\x01garbage" * 100, MALFORMED),
    "missing-final-dashes": (MULTIPART, b"--b\r\n" + part("a", b"1") + b"\r\n--b\r\n", "missing final boundary"),
    "truncated-in-a-part": (MULTIPART, b"--b\r\n" + part("a", b"12345"), "missing final boundary"),
    "truncated-in-headers": (MULTIPART, b"--b\r\nContent-Disposition: form-da", "missing final boundary"),
    "only-crlf": (MULTIPART, b"\r\n" * 1000, "missing final boundary"),
    "no-content-disposition": (MULTIPART, multipart(b"Content-Type: text/plain\r\n\r\nx"), NO_NAME),
    "disposition-without-name": (
        MULTIPART,
        multipart(b'Content-Disposition: form-data; filename="a"\r\n\r\nx'),
        NO_NAME,
    ),
    "unterminated-quote-in-disposition": (
        MULTIPART,
        multipart(b'Content-Disposition: form-data; name="a\r\n\r\nx'),
        "Invalid Content-Disposition header in a multipart part.",
    ),
    "header-without-colon": (MULTIPART, multipart(b"Content-Disposition\r\n\r\nx"), MALFORMED),
    "invalid-header-name": (
        MULTIPART,
        multipart(b'Bad Header: 1\r\nContent-Disposition: form-data; name="a"\r\n\r\nx'),
        MALFORMED,
    ),
    "10k-headers": (MULTIPART, multipart(part("a", extra=b"X-H: 1\r\n" * 10_000)), TOO_MANY_HEADERS),
    "80kb-header-value": (
        MULTIPART,
        multipart(part("a", extra=b"X-Big: " + b"v" * 80 * 1024 + b"\r\n")),
        HEADER_TOO_LARGE,
    ),
    "80kb-header-name": (MULTIPART, multipart(part("a", extra=b"X" * 80 * 1024 + b": 1\r\n")), HEADER_TOO_LARGE),
    "80kb-of-spaces-after-colon": (
        MULTIPART,
        multipart(part("a", extra=b"X-Pad:" + b" " * 80 * 1024 + b"v\r\n")),
        HEADER_TOO_LARGE,
    ),
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("chunked", [False, True], ids=["one-chunk", "1k-chunks"])
@pytest.mark.parametrize(("content_type", "body", "detail"), BROKEN.values(), ids=BROKEN.keys())
async def test_b6_broken_structure_is_400_with_a_specific_message(
    content_type: str, body: bytes, detail: str, chunked: bool, created_files: list[BinaryIO]
) -> None:
    response, elapsed = await timed_post(make_app(), in_chunks(body, 1024) if chunked else body, content_type)
    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert elapsed < 1.0
    assert all(file.closed for file in created_files)


@pytest.mark.timeout(10)
async def test_b6_header_limits_are_inclusive() -> None:
    sixteen = part("a", b"1", extra=b"X-H: 1\r\n" * 15)
    line = part("b", b"2", extra=b"X-Big: " + b"v" * (8192 - len("X-Big")) + b"\r\n")
    response = await post(make_app(), multipart(sixteen, line))
    assert response.status_code == 200
    assert response.json() == {"a": ["1"], "b": ["2"]}


# -- B7: hostile filenames ----------------------------------------------------------------------------------------

HOSTILE_FILENAMES = {
    "dotdot-slash": (b"../../etc/passwd", "../../etc/passwd", "passwd"),
    "absolute": (b"/abs/x", "/abs/x", "x"),
    "drive": (b"C:\\x", "C:\\x", "x"),
    "dotdot-backslash": (b"..\\..\\x", "..\\..\\x", "x"),
    "nul": (b"a\x00b", "a\x00b", "ab"),
    "only-dots": (b"..", "..", "upload"),
}


@pytest.fixture
def saving_app(tmp_path: Path) -> tuple[Ketch, Path]:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    app = make_app()

    @app.post("/save")
    async def save(request: Request) -> list[dict[str, Any]]:
        form = await request.form()
        saved = []
        for _, value in form.multi_items():
            assert isinstance(value, UploadFile)
            path = await value.save(uploads)
            saved.append({"raw": value.filename, "safe": value.safe_filename(), "saved": str(path)})
        await form.close()
        return saved

    return app, uploads


def assert_only_inside(root: Path, uploads: Path) -> None:
    """Nothing was written anywhere under ``root`` except directly inside ``uploads``."""
    for path in root.rglob("*"):
        assert path == uploads or path.parent == uploads, path


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("sent", "raw", "safe"), HOSTILE_FILENAMES.values(), ids=HOSTILE_FILENAMES.keys())
async def test_b7_hostile_filename_is_exposed_raw_and_saved_inside_the_directory(
    saving_app: tuple[Ketch, Path], sent: bytes, raw: str, safe: str
) -> None:
    app, uploads = saving_app
    body = multipart(b'Content-Disposition: form-data; name="f"; filename="' + sent + b'"\r\n\r\ndata')
    response = await post(app, body, path="/save")
    assert response.status_code == 200
    assert response.json() == [{"raw": raw, "safe": safe, "saved": str((uploads / safe).resolve())}]
    assert (uploads / safe).read_bytes() == b"data"
    assert_only_inside(uploads.parent, uploads)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "disposition",
    [
        b'form-data; name="f"; filename="plain.txt"; filename*=UTF-8\'\'..%2Fx',
        b'form-data; name="f"; filename*=UTF-8\'\'..%2Fx; filename="plain.txt"',
    ],
    ids=["plain-first", "star-first"],
)
async def test_b7_plain_filename_wins_over_rfc2231(saving_app: tuple[Ketch, Path], disposition: bytes) -> None:
    app, uploads = saving_app
    response = await post(app, multipart(b"Content-Disposition: " + disposition + b"\r\n\r\ndata"), path="/save")
    assert response.status_code == 200
    assert [item["raw"] for item in response.json()] == ["plain.txt"]
    assert_only_inside(uploads.parent, uploads)


@pytest.mark.timeout(10)
async def test_b7_rfc2231_filename_alone_is_decoded_raw_and_saved_safely(saving_app: tuple[Ketch, Path]) -> None:
    app, uploads = saving_app
    body = multipart(b"Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''..%2F..%2Fx\r\n\r\ndata")
    response = await post(app, body, path="/save")
    assert response.json() == [{"raw": "../../x", "safe": "x", "saved": str((uploads / "x").resolve())}]
    assert_only_inside(uploads.parent, uploads)


@pytest.mark.timeout(10)
async def test_b7_httpx_encoded_filenames_round_trip(saving_app: tuple[Ketch, Path]) -> None:
    app, uploads = saving_app
    files = [("f", ("../../etc/passwd", b"1")), ("f", ("C:\\dir\\x.txt", b"2")), ("f", ('q"uote.txt', b"3"))]
    async with client(app) as c:
        response = await c.post("/save", files=files)
    assert response.status_code == 200
    # httpx escapes '"' as %22 (the HTML5 form encoding), and the parser keeps it as sent.
    assert [(item["raw"], item["safe"]) for item in response.json()] == [
        ("../../etc/passwd", "passwd"),
        ("C:\\dir\\x.txt", "x.txt"),
        ("q%22uote.txt", "q_22uote.txt"),
    ]
    assert_only_inside(uploads.parent, uploads)


# -- B8: a large upload does not block the event loop -------------------------------------------------------------


@pytest.mark.timeout(10)
async def test_b8_large_upload_rolls_to_disk_off_the_loop_while_ping_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    loop_thread = threading.get_ident()
    disk_writes_on_loop: list[bool] = []
    original_write = tempfile.SpooledTemporaryFile.write

    def write(self: Any, data: bytes) -> int:
        rolled_before = self._rolled
        written: int = original_write(self, data)
        if rolled_before or self._rolled:  # this write went to disk, or moved the buffer there
            disk_writes_on_loop.append(threading.get_ident() == loop_thread)
        return written

    monkeypatch.setattr(tempfile.SpooledTemporaryFile, "write", write)

    app = make_app(limits=Limits(spool_max_size=256 * 1024))
    marks: dict[str, float] = {}
    ping_times: list[float] = []
    latencies: list[float] = []

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, Any]:
        form = await request.form()
        marks["parsed"] = time.perf_counter()
        file = form["f"]
        assert isinstance(file, UploadFile)
        result = {"size": file.size, "rolled": file.file._rolled}  # type: ignore[attr-defined]
        await form.close()
        return result

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    async def body() -> AsyncIterator[bytes]:
        marks["started"] = time.perf_counter()
        yield b"--b\r\n" + part("f", filename="big.bin")
        chunk = b"x" * CHUNK
        for _ in range(128):  # 8 MiB
            yield chunk
        yield b"\r\n--b--\r\n"

    async with client(app) as c:

        async def pinger() -> None:
            while "parsed" not in marks:
                start = time.perf_counter()
                assert (await c.get("/ping")).status_code == 200
                ping_times.append(time.perf_counter())
                latencies.append(ping_times[-1] - start)
                await asyncio.sleep(0.001)

        ping_task = asyncio.create_task(pinger())
        response = await c.post("/upload", content=body(), headers={"content-type": MULTIPART})
        await ping_task

    assert response.status_code == 200
    assert response.json() == {"size": 8 * MiB, "rolled": True}
    assert disk_writes_on_loop and not any(disk_writes_on_loop)
    assert any(marks["started"] < t < marks["parsed"] for t in ping_times)
    assert max(latencies) < 0.5


# -- B9: uploads are cleaned up on every failure ------------------------------------------------------------------


def raw_scope(content_type: str = MULTIPART) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/form",
        "raw_path": b"/form",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", content_type.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def run_raw(app: Ketch, messages: Iterable[Message]) -> list[Message]:
    """Call the app with a scripted ``receive``; after the script it reports a disconnect, as servers do."""
    script = list(messages)
    sent: list[Message] = []

    async def receive() -> Message:
        return script.pop(0) if script else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(raw_scope(), receive, send)
    return sent


ROLLING_FILE = b"--b\r\n" + part("f", b"x" * 100_000, filename="big.bin")


async def warm_up(app: Ketch) -> None:
    """One full upload that rolls to disk, so lazily opened resources are not counted as leaks."""
    response = await post(app, multipart(part("f", b"x" * 100_000, filename="w.bin")))
    assert response.status_code == 200


@needs_proc_fd
@pytest.mark.timeout(10)
async def test_b9_client_disconnect_mid_upload_closes_temp_files(created_files: list[BinaryIO]) -> None:
    app = make_app(limits=Limits(spool_max_size=1024))
    await warm_up(app)
    created_files.clear()
    baseline = open_fds()
    sent = await run_raw(
        app, [{"type": "http.request", "body": ROLLING_FILE, "more_body": True}, {"type": "http.disconnect"}]
    )
    assert sent == []  # nobody is listening: nothing is sent
    assert len(created_files) == 1 and created_files[0].closed
    assert open_fds() == baseline
    assert (await post(app, b"a=1", URLENCODED)).status_code == 200


@needs_proc_fd
@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("rest", "status"),
    [
        (b"\r\n--b\r\n" + part("big", b"y" * (MiB + 1)) + b"\r\n--b--\r\n", 413),
        (b"\r\n--b\r\n" + part("g", filename="second") + b"\r\n--b\r\nBad Header\r\n\r\n\r\n--b--\r\n", 400),
        (b"\r\n--b\r\n" + part("g", b"z" * 100_000, filename="second"), 400),  # no final boundary
    ],
    ids=["field-too-large", "malformed-part", "missing-final-boundary"],
)
async def test_b9_error_after_a_rolled_upload_closes_it(
    rest: bytes, status: int, created_files: list[BinaryIO]
) -> None:
    app = make_app(limits=Limits(spool_max_size=1024))
    await warm_up(app)
    created_files.clear()
    baseline = open_fds()
    response = await post(app, in_chunks(ROLLING_FILE + rest, 8192))
    assert response.status_code == status
    assert created_files and all(file.closed for file in created_files)
    assert open_fds() == baseline


@needs_proc_fd
@pytest.mark.timeout(10)
async def test_b9_cancelled_parse_closes_temp_files(created_files: list[BinaryIO]) -> None:
    await warm_up(make_app(limits=Limits(spool_max_size=1024)))
    created_files.clear()
    baseline = open_fds()
    never = asyncio.Event()

    async def stalled_stream() -> AsyncIterator[bytes]:
        yield ROLLING_FILE
        await never.wait()
        yield b""  # pragma: no cover

    task = asyncio.create_task(parse_form(MULTIPART, stalled_stream(), Limits(spool_max_size=1024)))
    for _ in range(500):  # wait until the upload has rolled over to a temporary file
        await asyncio.sleep(0.005)
        if open_fds() > baseline:
            break
    assert open_fds() == baseline + 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(created_files) == 1 and created_files[0].closed
    assert open_fds() == baseline


@needs_proc_fd
@pytest.mark.timeout(10)
@pytest.mark.parametrize("raises", [True, False], ids=["handler-raises", "handler-returns"])
async def test_b9_uploads_are_closed_after_the_handler_even_if_it_raises(raises: bool) -> None:
    app = make_app(limits=Limits(spool_max_size=1024))
    forms: list[FormData] = []

    @app.post("/leaky")
    async def leaky(request: Request) -> str:
        forms.append(await request.form())
        if raises:
            raise RuntimeError("boom after form()")
        return "not closed by the handler"

    await warm_up(app)
    baseline = open_fds()
    try:
        async with client(app) as c:
            response = await c.post(
                "/leaky",
                content=multipart(part("f", b"x" * 100_000, filename="f")),
                headers={"content-type": MULTIPART},
            )
        assert response.status_code == (500 if raises else 200)
        assert open_fds() == baseline
    finally:
        for form in forms:  # never leak into the tests that follow, whatever happened above
            await form.close()
