"""Form parsing: urlencoded and multipart bodies through a real app, limits per app and route, UploadFile."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ketch import Ketch, Limits, Request
from ketch.datastructures import FormData, Headers, UploadFile, safe_filename, spooled_file
from ketch.exceptions import HTTPException, RequestTooLarge
from ketch.formparsers import MAX_HEADER_PARAMS, parse_form, parse_options_header

pytestmark = pytest.mark.anyio

URLENCODED = "application/x-www-form-urlencoded"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- helpers ------------------------------------------------------------------------------------------------------


def part(name: str, value: bytes = b"", *, filename: str | None = None, headers: Iterable[str] = ()) -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    lines = [disposition, *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + value


def multipart(*parts: bytes, boundary: bytes = b"xyz") -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts)
    return body + b"--" + boundary + b"--\r\n"


def multipart_type(boundary: str = "xyz") -> str:
    return f"multipart/form-data; boundary={boundary}"


async def describe(form: FormData) -> dict[str, list[Any]]:
    """A JSON-able view of a form: strings as they are, files as name, size, type, headers and content."""
    out: dict[str, list[Any]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
        else:
            content = await value.read()
            out.setdefault(key, []).append(
                {
                    "filename": value.filename,
                    "size": value.size,
                    "content_type": value.content_type,
                    "content": content.decode("utf-8", "replace"),
                    "headers": value.headers.items(),
                }
            )
    await form.close()
    return out


def form_app(**kwargs: Any) -> Ketch:
    app = Ketch(**kwargs)

    @app.post("/form")
    async def echo(request: Request) -> dict[str, list[Any]]:
        return await describe(await request.form())

    return app


async def post(
    app: Ketch, body: bytes | AsyncIterator[bytes], content_type: str, path: str = "/form"
) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.post(path, content=body, headers={"content-type": content_type})


async def chunks(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def split_every(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# -- parse_options_header -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("text/plain", ("text/plain", {})),
        ("  Multipart/Form-Data ; Boundary=abc", ("multipart/form-data", {"boundary": "abc"})),
        ('multipart/form-data; boundary="a b;c"', ("multipart/form-data", {"boundary": "a b;c"})),
        ('form-data; name="a\\"b"; filename="c\\\\d"', ("form-data", {"name": 'a"b', "filename": "c\\d"})),
        ('form-data; filename="C:\\x\\y.txt"', ("form-data", {"filename": "C:\\x\\y.txt"})),
        ("a; ; novalue; k = v ;", ("a", {"k": "v"})),
        ("a; k=1; k=2", ("a", {"k": "1"})),
        ('a; k="v" junk; j=2', ("a", {"k": "v", "j": "2"})),
        ("a; k=", ("a", {"k": ""})),
        ('a; k=""', ("a", {"k": ""})),
        ("a; filename*=UTF-8''x%20y", ("a", {"filename*": "UTF-8''x%20y"})),
    ],
)
def test_parse_options_header(header: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_options_header(header) == expected


def test_parse_options_header_rejects_an_unterminated_quote() -> None:
    with pytest.raises(ValueError, match="Unterminated"):
        parse_options_header('multipart/form-data; boundary="abc')


def test_parse_options_header_bounds_the_number_of_parameters() -> None:
    many = "text/plain" + "".join(f"; k{i}=v" for i in range(MAX_HEADER_PARAMS))
    assert len(parse_options_header(many + ";;; ")[1]) == MAX_HEADER_PARAMS
    with pytest.raises(ValueError, match="parameters"):
        parse_options_header(many + "; one=more")


async def test_multipart_content_type_with_too_many_parameters_is_400() -> None:
    content_type = multipart_type() + "; x=y" * (MAX_HEADER_PARAMS + 1)
    response = await post(form_app(), multipart(part("a", b"1")), content_type)
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid Content-Type header."}


# -- urlencoded ---------------------------------------------------------------------------------------------------


async def test_urlencoded_fields_and_repeated_keys() -> None:
    app = Ketch()

    @app.post("/form")
    async def handler(request: Request) -> dict[str, Any]:
        form = await request.form()
        return {"a": form["a"], "all_a": form.getlist("a"), "b": form["b"], "keys": list(form)}

    response = await post(app, b"a=1&b=two&a=3", URLENCODED)
    assert response.status_code == 200
    assert response.json() == {"a": "3", "all_a": ["1", "3"], "b": "two", "keys": ["a", "b"]}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"a=1+2&b=%2B%26%3D", {"a": ["1 2"], "b": ["+&="]}),
        (b"na+me=v%20al", {"na me": ["v al"]}),
        (b"a=%ff%fe", {"a": ["\ufffd\ufffd"]}),
        (b"a=%zz%4", {"a": ["%zz%4"]}),
        (b"%C3%A9t%C3%A9=caf%C3%A9", {"été": ["café"]}),
        ("名前=値".encode(), {"名前": ["値"]}),
        (b"a&b=&=c", {"a": [""], "b": [""], "": ["c"]}),
        (b"&&a=1&&&b=2&", {"a": ["1"], "b": ["2"]}),
        (b"a=1=2", {"a": ["1=2"]}),
        (b"", {}),
        (b"&&&", {}),
    ],
)
async def test_urlencoded_decoding(body: bytes, expected: dict[str, list[str]]) -> None:
    response = await post(form_app(), body, URLENCODED)
    assert response.status_code == 200
    assert response.json() == expected


async def test_urlencoded_content_type_is_case_insensitive_and_may_carry_a_charset() -> None:
    response = await post(form_app(), b"a=1", "Application/X-WWW-Form-Urlencoded; charset=utf-8")
    assert response.json() == {"a": ["1"]}


@pytest.mark.parametrize("size", [1, 2, 3, 5])
async def test_urlencoded_fields_split_across_chunks(size: int) -> None:
    body = b"first=caf%C3%A9+au+lait&&second=%ff&third&fourth=4"
    form = await parse_form(URLENCODED, chunks(*split_every(body, size)), Limits())
    assert form.multi_items() == [
        ("first", "café au lait"),
        ("second", "\ufffd"),
        ("third", ""),
        ("fourth", "4"),
    ]


async def test_urlencoded_field_limit_counts_fields_not_separators() -> None:
    limits = Limits(max_form_fields=2)
    form = await parse_form(URLENCODED, chunks(b"&&a=1&&&&b=2&&&"), limits)
    assert form.multi_items() == [("a", "1"), ("b", "2")]
    with pytest.raises(HTTPException) as info:
        await parse_form(URLENCODED, chunks(b"a=1&b=2&c=3"), limits)
    assert (info.value.status_code, info.value.detail) == (400, "Too many fields. Maximum number of fields is 2.")


async def test_urlencoded_part_size_counts_one_field_across_chunks() -> None:
    limits = Limits(max_part_size=10)
    form = await parse_form(URLENCODED, chunks(b"a=12345", b"678&b=1234", b"5678"), limits)
    assert form.multi_items() == [("a", "12345678"), ("b", "12345678")]
    with pytest.raises(RequestTooLarge) as info:
        await parse_form(URLENCODED, chunks(b"a=12345", b"6789", b"0"), limits)
    assert info.value.status_code == 413
    assert info.value.detail == "Form field is too large. Maximum size is 10 bytes."


async def test_limits_set_to_none_switch_the_checks_off() -> None:
    limits = Limits(max_form_fields=None, max_part_size=None, max_form_files=None)
    form = await parse_form(URLENCODED, chunks(b"&".join([b"a=" + b"x" * 100] * 50)), limits)
    assert len(form.getlist("a")) == 50


# -- other content types ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["", "application/json", "text/plain", "multipart/mixed; boundary=x"])
async def test_other_content_types_give_an_empty_form_and_leave_the_body_unread(content_type: str) -> None:
    app = Ketch()

    @app.post("/form")
    async def handler(request: Request) -> dict[str, Any]:
        form = await request.form()
        return {"fields": len(form), "body": (await request.body()).decode()}

    response = await post(app, b"a=1", content_type)
    assert response.status_code == 200
    assert response.json() == {"fields": 0, "body": "a=1"}


async def test_form_is_parsed_once_and_cached() -> None:
    app = Ketch()

    @app.post("/form")
    async def handler(request: Request) -> dict[str, Any]:
        first = await request.form()
        second = await request.form()
        return {"same": first is second, "a": second["a"]}

    response = await post(app, b"a=1", URLENCODED)
    assert response.json() == {"same": True, "a": "1"}


# -- multipart ----------------------------------------------------------------------------------------------------


async def test_multipart_fields_and_several_files() -> None:
    body = multipart(
        part("title", b"Holiday"),
        part("photo", b"JPEGDATA", filename="beach.jpg", headers=["Content-Type: image/jpeg"]),
        part("photo", b"second\r\nline", filename="dunes.jpg", headers=["Content-Type: image/jpeg"]),
        part("notes", b"", filename="empty.txt"),
        part("tag", b"a"),
        part("tag", b"b"),
    )
    response = await post(form_app(), body, multipart_type())
    assert response.status_code == 200
    data = response.json()
    assert data["title"] == ["Holiday"]
    assert data["tag"] == ["a", "b"]
    assert [(f["filename"], f["size"], f["content_type"], f["content"]) for f in data["photo"]] == [
        ("beach.jpg", 8, "image/jpeg", "JPEGDATA"),
        ("dunes.jpg", 12, "image/jpeg", "second\r\nline"),
    ]
    assert data["notes"] == [
        {
            "filename": "empty.txt",
            "size": 0,
            "content_type": None,
            "content": "",
            "headers": [["content-disposition", 'form-data; name="notes"; filename="empty.txt"']],
        }
    ]


async def test_multipart_from_httpx_files_and_data() -> None:
    app = form_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.post(
            "/form",
            data={"name": "Zoë", "multi": ["1", "2"]},
            files=[("doc", ("report.csv", b"a,b\n1,2\n", "text/csv")), ("doc", ("raw.bin", b"\x00\xff", None))],
        )
    assert response.status_code == 200
    data = response.json()
    assert data["name"] == ["Zoë"]
    assert data["multi"] == ["1", "2"]
    assert [(f["filename"], f["size"], f["content_type"]) for f in data["doc"]] == [
        ("report.csv", 8, "text/csv"),
        ("raw.bin", 2, "application/octet-stream"),
    ]


async def test_multipart_unicode_names_values_and_filenames() -> None:
    body = multipart(part("名前", "値 ✓".encode()), part("файл", "содержимое".encode(), filename="отчёт.txt"))
    response = await post(form_app(), body, multipart_type())
    data = response.json()
    assert data["名前"] == ["値 ✓"]
    assert data["файл"][0]["filename"] == "отчёт.txt"
    assert data["файл"][0]["content"] == "содержимое"


async def test_multipart_invalid_utf8_field_value_becomes_replacement_characters() -> None:
    response = await post(form_app(), multipart(part("a", b"\xff\xfeok")), multipart_type())
    assert response.status_code == 200
    assert response.json() == {"a": ["\ufffd\ufffdok"]}


async def test_multipart_quoted_boundary_and_empty_filename() -> None:
    body = multipart(part("f", b"", filename=""), boundary=b"with space")
    response = await post(form_app(), body, 'multipart/form-data; boundary="with space"')
    assert response.status_code == 200
    assert response.json()["f"][0]["filename"] == ""


async def test_multipart_filename_star_is_used_only_without_a_plain_filename() -> None:
    star = "Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''na%C3%AFve%20file.txt\r\n\r\nx"
    both = 'Content-Disposition: form-data; name="g"; filename*=UTF-8\'\'other.txt; filename="plain.txt"\r\n\r\ny'
    latin = "Content-Disposition: form-data; name=\"h\"; filename*=iso-8859-1'en'caf%E9.txt\r\n\r\nz"
    unknown = "Content-Disposition: form-data; name=\"i\"; filename*=x-nope''a%C3%A9\r\n\r\nz"
    body = multipart(star.encode(), both.encode(), latin.encode(), unknown.encode())
    data = (await post(form_app(), body, multipart_type())).json()
    assert data["f"][0]["filename"] == "naïve file.txt"
    assert data["g"][0]["filename"] == "plain.txt"
    assert data["h"][0]["filename"] == "café.txt"
    assert data["i"][0]["filename"] == "aé"


async def test_multipart_leading_newlines_and_epilogue_are_ignored_but_a_text_preamble_is_not() -> None:
    response = await post(form_app(), b"\r\n\r\n" + multipart(part("a", b"1")) + b"epilogue", multipart_type())
    assert response.json() == {"a": ["1"]}
    # Browsers never send a preamble; python-multipart treats text before the first boundary as malformed.
    response = await post(form_app(), b"preamble\r\n" + multipart(part("a", b"1")), multipart_type())
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed multipart body")


async def test_multipart_empty_body_is_an_empty_form() -> None:
    response = await post(form_app(), b"", multipart_type())
    assert response.status_code == 200
    assert response.json() == {}


async def test_multipart_with_only_the_closing_boundary_is_an_empty_form() -> None:
    response = await post(form_app(), b"--xyz--\r\n", multipart_type())
    assert response.status_code == 200
    assert response.json() == {}


@pytest.mark.parametrize("size", [1, 3, 7, 64])
async def test_multipart_split_across_chunks(size: int) -> None:
    body = multipart(
        part("a", b"value with --xy inside"),
        part("f", b"\r\n--xy\r\n--xyz-not-quite\r\n" * 3, filename="f.bin"),
        part("b", b"\xc3\xa9"),
    )
    form = await parse_form(multipart_type(), chunks(*split_every(body, size)), Limits())
    try:
        assert form["a"] == "value with --xy inside"
        assert form["b"] == "é"
        upload = form["f"]
        assert isinstance(upload, UploadFile)
        assert await upload.read() == b"\r\n--xy\r\n--xyz-not-quite\r\n" * 3
        assert upload.size == len(b"\r\n--xy\r\n--xyz-not-quite\r\n" * 3)
    finally:
        await form.close()


async def test_multipart_large_file_rolls_to_disk_and_is_rewound() -> None:
    content = os.urandom(200_000)
    body = multipart(part("f", content, filename="big.bin"))
    form = await parse_form(multipart_type(), chunks(*split_every(body, 16_384)), Limits(spool_max_size=50_000))
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    try:
        assert upload.file._rolled  # type: ignore[attr-defined]
        assert upload.size == len(content)
        assert await upload.read() == content
    finally:
        await form.close()
    assert upload.file.closed


# -- limits per app and per route ---------------------------------------------------------------------------------


async def test_limits_set_on_the_app() -> None:
    app = form_app(limits=Limits(max_form_fields=3))
    assert (await post(app, b"a=1&b=2&c=3", URLENCODED)).status_code == 200
    response = await post(app, b"a=1&b=2&c=3&d=4", URLENCODED)
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many fields. Maximum number of fields is 3."}
    response = await post(app, multipart(*[part(str(i), b"v") for i in range(4)]), multipart_type())
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many fields. Maximum number of fields is 3."}


async def test_limits_set_on_a_route() -> None:
    app = Ketch()

    @app.post("/small", limits=Limits(max_form_files=1, max_part_size=4))
    async def small(request: Request) -> dict[str, list[Any]]:
        return await describe(await request.form())

    @app.post("/tiny-body", max_body_size=10)
    async def tiny(request: Request) -> dict[str, list[Any]]:
        return await describe(await request.form())

    @app.post("/default")
    async def default(request: Request) -> dict[str, list[Any]]:
        return await describe(await request.form())

    two_files = multipart(part("a", b"1", filename="a"), part("b", b"2", filename="b"))
    response = await post(app, two_files, multipart_type(), "/small")
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many files. Maximum number of files is 1."}
    assert (await post(app, two_files, multipart_type(), "/default")).status_code == 200

    response = await post(app, multipart(part("a", b"12345")), multipart_type(), "/small")
    assert response.status_code == 413
    assert response.json() == {"detail": "Form field is too large. Maximum size is 4 bytes."}

    assert (await post(app, b"a=12345", URLENCODED, "/tiny-body")).status_code == 200
    assert (await post(app, b"a=1234567890", URLENCODED, "/tiny-body")).status_code == 413
    assert (await post(app, b"a=1234567890", URLENCODED, "/default")).status_code == 200


async def test_body_limit_applies_to_a_streamed_form_without_content_length() -> None:
    app = form_app(max_body_size=100)
    response = await post(app, chunks(b"a=" + b"x" * 60, b"&b=" + b"y" * 60), URLENCODED)
    assert response.status_code == 413


async def test_multipart_part_header_limit_is_configurable() -> None:
    app = form_app(limits=Limits(max_part_headers=2))
    ok = multipart(part("f", b"x", filename="f", headers=["Content-Type: text/plain"]))
    assert (await post(app, ok, multipart_type())).status_code == 200
    over = multipart(part("f", b"x", filename="f", headers=["Content-Type: text/plain", "X-A: 1"]))
    response = await post(app, over, multipart_type())
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many headers in a multipart part. Maximum is 2."}


# -- UploadFile and FormData --------------------------------------------------------------------------------------


async def test_upload_file_write_read_seek_close() -> None:
    upload = UploadFile(spooled_file(1024), size=0, filename="a.txt", headers=Headers({"content-type": "text/plain"}))
    await upload.write(b"hello ")
    await upload.write(b"world")
    assert upload.size == 11
    assert upload.content_type == "text/plain"
    await upload.seek(0)
    assert await upload.read(5) == b"hello"
    assert await upload.read() == b" world"
    await upload.close()
    assert upload.file.closed
    assert "a.txt" in repr(upload)


async def test_upload_file_rollover_write_runs_on_the_thread_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    loop_thread = threading.get_ident()
    upload = UploadFile(spooled_file(10), size=0)
    file_type = type(upload.file)
    original = file_type.write
    calls: list[tuple[bool, bool]] = []

    def spy(self: Any, data: bytes) -> int:
        was_rolled = self._rolled
        result = original(self, data)
        calls.append((was_rolled or self._rolled, threading.get_ident() == loop_thread))
        return result

    monkeypatch.setattr(file_type, "write", spy)
    await upload.write(b"12345")  # stays in memory: written inline
    await upload.write(b"678901")  # crosses 10 bytes: the rollover copies to disk, off the loop
    await upload.write(b"more")  # already on disk: off the loop
    assert calls == [(False, True), (True, False), (True, False)]
    await upload.seek(0)
    assert await upload.read() == b"12345678901more"
    await upload.close()


async def test_form_data_close_closes_every_upload() -> None:
    first, second = UploadFile(spooled_file(4)), UploadFile(spooled_file(4))
    await second.write(b"rolled to disk")
    form = FormData([("a", "text"), ("f", first), ("f", second)])
    await form.close()
    assert first.file.closed and second.file.closed
    assert form.getlist("f") == [first, second]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("/abs/x", "x"),
        ("C:\\x", "x"),
        ("C:x", "x"),
        ("..\\..\\x", "x"),
        ("a\x00b", "ab"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
        (".bashrc", "bashrc"),
        ("a/b/..", "upload"),
        ("we ird$name?.txt", "we ird_name_.txt"),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    assert safe_filename(name) == expected


async def test_upload_save_writes_inside_the_directory_only(tmp_path: Path) -> None:
    target_dir = tmp_path / "uploads"
    target_dir.mkdir()
    upload = UploadFile(spooled_file(1024), size=0, filename="../../escape.txt")
    await upload.write(b"data")
    saved = await upload.save(target_dir)
    assert saved == (target_dir / "escape.txt").resolve()
    assert saved.read_bytes() == b"data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uploads"]
    renamed = await upload.save(target_dir, filename="/etc/other")
    assert renamed == (target_dir / "other").resolve()
    await upload.close()


async def test_upload_save_refuses_a_symlink_that_points_outside(tmp_path: Path) -> None:
    target_dir = tmp_path / "uploads"
    target_dir.mkdir()
    outside = tmp_path / "outside.txt"
    (target_dir / "link.txt").symlink_to(outside)
    upload = UploadFile(spooled_file(1024), size=0, filename="link.txt")
    await upload.write(b"data")
    with pytest.raises(ValueError, match="outside"):
        await upload.save(target_dir)
    assert not outside.exists()
    await upload.close()


def test_forms_through_the_sync_test_client() -> None:
    from ketch.testclient import TestClient

    with TestClient(form_app()) as client:
        response = client.post("/form", data={"a": "1"}, files={"f": ("notes.txt", b"hello", "text/plain")})
        assert response.status_code == 200
        data = response.json()
        assert data["a"] == ["1"]
        assert [(f["filename"], f["size"], f["content"]) for f in data["f"]] == [("notes.txt", 5, "hello")]
        response = client.post("/form", content=b"a=1", headers={"content-type": "multipart/form-data"})
        assert response.status_code == 400
        assert response.json() == {"detail": "Missing boundary in multipart."}
