"""URL, headers, query params, multi-dicts, state, uploads and safe file names."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any, cast

import pytest

from ketch.datastructures import (
    URL,
    Address,
    FormData,
    Headers,
    ImmutableMultiDict,
    MultiDict,
    MutableHeaders,
    QueryParams,
    State,
    UploadFile,
    encode_header,
    safe_filename,
    spooled_file,
)

# -- URL -----------------------------------------------------------------------------------------------------------


def test_url_components() -> None:
    url = URL("https://user:pw@example.com:8443/a/b?x=1&y=2#frag")
    assert url.scheme == "https"
    assert url.netloc == "user:pw@example.com:8443"
    assert url.hostname == "example.com"
    assert url.port == 8443
    assert url.path == "/a/b"
    assert url.query == "x=1&y=2"
    assert url.fragment == "frag"
    assert url.is_secure
    assert not URL("http://example.com").is_secure
    assert URL("wss://example.com").is_secure
    assert str(url) == "https://user:pw@example.com:8443/a/b?x=1&y=2#frag"
    assert repr(URL("/x")) == "URL('/x')"


def test_url_replace() -> None:
    url = URL("http://example.com:8000/a?x=1")
    assert str(url.replace(scheme="https")) == "https://example.com:8000/a?x=1"
    assert str(url.replace(path="/b", query="")) == "http://example.com:8000/b"
    assert str(url.replace(hostname="other.org")) == "http://other.org:8000/a?x=1"
    assert str(url.replace(port=9000)) == "http://example.com:9000/a?x=1"
    assert str(url.replace(port=None)) == "http://example.com/a?x=1"


def test_url_query_helpers() -> None:
    url = URL("http://e.com/p?a=1&a=2&b=3")
    assert str(url.include_query_params(a="x", c=4)) == "http://e.com/p?b=3&a=x&c=4"
    assert str(url.replace_query_params(z="9 9")) == "http://e.com/p?z=9+9"


def test_url_equality_and_hash() -> None:
    assert URL("http://a/b") == URL("http://a/b")
    assert URL("http://a/b") == "http://a/b"
    assert URL("http://a/b") != URL("http://a/c")
    assert len({URL("http://a/b"), URL("http://a/b")}) == 1


# -- multi-dicts ---------------------------------------------------------------------------------------------------


def test_immutable_multidict() -> None:
    d = ImmutableMultiDict([("a", 1), ("b", 2), ("a", 3)])
    assert d["a"] == 3
    assert d.getlist("a") == [1, 3]
    assert d.getlist("missing") == []
    assert d.multi_items() == [("a", 1), ("b", 2), ("a", 3)]
    assert list(d) == ["a", "b"]
    assert len(d) == 2
    assert "a" in d and "z" not in d
    assert list(d.keys()) == ["a", "b"]
    assert list(d.values()) == [3, 2]
    assert list(d.items()) == [("a", 3), ("b", 2)]
    assert d.get("z", "default") == "default"
    assert d == ImmutableMultiDict([("a", 3), ("a", 1), ("b", 2)])
    assert d != ImmutableMultiDict([("a", 1)])
    assert d != {"a": 3, "b": 2}
    assert ImmutableMultiDict(d) == d
    assert ImmutableMultiDict({"x": 1}).getlist("x") == [1]
    assert ImmutableMultiDict().multi_items() == []
    assert repr(ImmutableMultiDict([("a", 1)])) == "ImmutableMultiDict([('a', 1)])"
    with pytest.raises(TypeError):
        hash(d)


def test_multidict_mutation() -> None:
    d: MultiDict[str] = MultiDict([("a", "1"), ("b", "2"), ("a", "3")])
    d["a"] = "x"
    assert d.multi_items() == [("b", "2"), ("a", "x")]
    d.append("a", "y")
    assert d.getlist("a") == ["x", "y"] and d["a"] == "y"
    d.setlist("c", ["p", "q"])
    assert d.getlist("c") == ["p", "q"] and d["c"] == "q"
    d.setlist("c", [])
    assert "c" not in d
    assert d.pop("a") == "y"
    assert d.getlist("a") == []
    assert d.pop("missing", "default") == "default"
    del d["b"]
    assert len(d) == 0
    with pytest.raises(KeyError):
        del d["b"]


def test_multidict_update_replaces_keys() -> None:
    d: MultiDict[str] = MultiDict([("a", "1"), ("a", "2"), ("b", "3")])
    d.update([("a", "x"), ("a", "y")], c="z")
    assert d.multi_items() == [("b", "3"), ("a", "x"), ("a", "y"), ("c", "z")]
    assert d["a"] == "y"


# -- query params --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a=1&b=2&a=3", [("a", "1"), ("b", "2"), ("a", "3")]),
        (b"a=1&b=", [("a", "1"), ("b", "")]),
        ("a", [("a", "")]),
        ("a=%20b+c", [("a", " b c")]),
        ("q=%ff", [("q", "\ufffd")]),
        ("%E2%98%83=%E2%98%83", [("☃", "☃")]),
        ("a=1;b=2", [("a", "1;b=2")]),
        ("&&a=1&&", [("a", "1")]),
        ("", []),
    ],
)
def test_query_params_parsing(raw: str | bytes, expected: list[tuple[str, str]]) -> None:
    assert QueryParams(raw).multi_items() == expected


def test_query_params_other_sources_and_str() -> None:
    assert QueryParams({"a": "1"}).multi_items() == [("a", "1")]
    assert QueryParams([("a", "1"), ("a", "2")]).getlist("a") == ["1", "2"]
    assert QueryParams(None).multi_items() == []
    assert str(QueryParams("a=1&b=x y&a=2")) == "a=1&b=x+y&a=2"


def test_query_params_limit() -> None:
    assert len(QueryParams("a=1&b=2", max_params=2)) == 2
    with pytest.raises(ValueError):
        QueryParams("a=1&b=2&c=3", max_params=2)


# -- headers -------------------------------------------------------------------------------------------------------


def test_headers_case_insensitive_multi_valued() -> None:
    h = Headers(raw=[(b"Content-Type", b"text/plain"), (b"x-a", b"1"), (b"X-A", b"2"), (b"x-latin", b"caf\xe9")])
    assert h["content-type"] == "text/plain"
    assert h["CONTENT-TYPE"] == "text/plain"
    assert h["x-a"] == "1"
    assert h.getlist("X-a") == ["1", "2"]
    assert h["x-latin"] == "café"
    assert "x-A" in h and "nope" not in h and cast(Any, 3) not in h
    assert h.keys() == ["content-type", "x-a", "x-a", "x-latin"]
    assert h.values() == ["text/plain", "1", "2", "café"]
    assert h.items()[0] == ("content-type", "text/plain")
    assert list(h) == h.keys()
    assert len(h) == 4
    assert h.get("missing") is None
    with pytest.raises(KeyError):
        h["missing"]
    assert repr(Headers({"a": "b"})) == "Headers([('a', 'b')])"


def test_headers_from_mapping_and_scope() -> None:
    assert Headers({"X-Thing": "v"}).raw == [(b"x-thing", b"v")]
    assert Headers(scope={"headers": [(b"a", b"b")]}).raw == [(b"a", b"b")]
    assert Headers().raw == []
    with pytest.raises(ValueError):
        Headers({"bad name": "v"})
    with pytest.raises(ValueError):
        Headers({"x": "a\r\nb"})


def test_headers_equality() -> None:
    assert Headers(raw=[(b"A", b"1"), (b"b", b"2")]) == Headers(raw=[(b"b", b"2"), (b"a", b"1")])
    assert Headers(raw=[(b"a", b"1")]) != Headers(raw=[(b"a", b"2")])
    assert Headers() != {}
    with pytest.raises(TypeError):
        hash(Headers())


def test_mutable_headers() -> None:
    h = MutableHeaders(raw=[(b"x-a", b"1"), (b"x-a", b"2"), (b"x-b", b"3")])
    h["X-A"] = "new"
    assert h.raw == [(b"x-a", b"new"), (b"x-b", b"3")]
    h["x-c"] = "4"
    assert h.raw[-1] == (b"x-c", b"4")
    del h["X-B"]
    assert "x-b" not in h
    assert h.setdefault("x-a", "ignored") == "new"
    assert h.setdefault("x-d", "d") == "d"
    h.update({"x-e": "e", "x-a": "again"})
    assert h["x-a"] == "again" and h["x-e"] == "e"
    h.append("set-cookie", "a=1")
    h.append("set-cookie", "b=2")
    assert h.getlist("set-cookie") == ["a=1", "b=2"]
    copy = Headers(raw=[(b"k", b"v")]).mutablecopy()
    copy["k"] = "w"
    assert copy["k"] == "w"


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "a\x00b", "\r\n"])
def test_mutable_headers_reject_splitting(value: str) -> None:
    h = MutableHeaders()
    with pytest.raises(ValueError):
        h["x"] = value
    with pytest.raises(ValueError):
        h.append("x", value)
    with pytest.raises(ValueError):
        h.setdefault("x", value)
    assert h.raw == []


def test_vary_header() -> None:
    h = MutableHeaders()
    h.add_vary_header("Origin")
    h.add_vary_header("Accept-Encoding")
    h.add_vary_header("origin")
    assert h["vary"] == "Origin, Accept-Encoding"


def test_encode_header() -> None:
    assert encode_header("X-Name", "v") == (b"x-name", b"v")
    assert encode_header("x", 5) == (b"x", b"5")  # type: ignore[arg-type]
    for name in ("", "a b", "a:b", "é", "a\nb"):
        with pytest.raises(ValueError):
            encode_header(name, "v")
    with pytest.raises(ValueError):
        encode_header("x", "€")


# -- state, address ------------------------------------------------------------------------------------------------


def test_state() -> None:
    state = State()
    state.db = "conn"
    assert state.db == "conn"
    assert "db" in state and "nope" not in state
    assert repr(state) == "State({'db': 'conn'})"
    del state.db
    with pytest.raises(AttributeError, match="no attribute 'db'"):
        state.db  # noqa: B018
    shared: dict[str, object] = {"x": 1}
    assert State(shared).x == 1
    State(shared).y = 2
    assert shared == {"x": 1, "y": 2}


def test_address() -> None:
    address = Address("127.0.0.1", 8000)
    assert (address.host, address.port) == ("127.0.0.1", 8000)


# -- file names and uploads ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("/abs/path/x.txt", "x.txt"),
        ("C:\\Windows\\evil.exe", "evil.exe"),
        ("..\\..\\x", "x"),
        ("a\x00b.txt", "ab.txt"),
        ("C:evil", "evil"),
        ("..", "upload"),
        (".hidden", "hidden"),
        ("", "upload"),
        (None, "upload"),
        ("spaces and ümlauts.txt", "spaces and _mlauts.txt"),
        ("a/b/", "upload"),
        ("x\r\ny", "x__y"),
    ],
)
def test_safe_filename(raw: str | None, safe: str) -> None:
    assert safe_filename(raw) == safe


def test_upload_file_in_memory_and_rolled_over(tmp_path: Path) -> None:
    async def run() -> None:
        small = UploadFile(spooled_file(1024), size=0, filename="../x.txt", headers=Headers({"content-type": "a/b"}))
        await small.write(b"hello")
        assert small._in_memory
        await small.seek(0)
        assert await small.read() == b"hello"
        assert small.size == 5
        assert small.content_type == "a/b"
        assert small.safe_filename() == "x.txt"
        saved = await small.save(tmp_path)
        assert saved == tmp_path / "x.txt"
        assert saved.read_bytes() == b"hello"
        await small.close()

        big = UploadFile(spooled_file(4), size=0, filename="big.bin")
        await big.write(b"0123456789")
        assert not big._in_memory
        await big.seek(2)
        assert await big.read(3) == b"234"
        await big.close()

        plain = UploadFile(io.BytesIO(b"data"))
        assert await plain.read() == b"data"
        assert plain.size is None and plain.filename is None and plain.content_type is None
        assert repr(plain) == "UploadFile(filename=None, size=None, headers=Headers([]))"
        await plain.close()

    asyncio.run(run())


def test_upload_save_uses_a_safe_name(tmp_path: Path) -> None:
    async def run() -> Path:
        upload = UploadFile(io.BytesIO(b"x"), filename="../../escape.txt")
        target = await upload.save(tmp_path / ".", filename="..\\..\\other.txt")
        await upload.close()
        return target

    target = asyncio.run(run())
    assert target == tmp_path / "other.txt"
    assert target.read_bytes() == b"x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.txt"]


def test_form_data_closes_uploads() -> None:
    async def run() -> tuple[bool, bool]:
        a = UploadFile(io.BytesIO(b"a"), filename="a")
        b = UploadFile(spooled_file(10), filename="b")
        form = FormData([("field", "value"), ("a", a), ("b", b)])
        assert form["field"] == "value"
        await form.close()
        return a.file.closed, b.file.closed

    assert asyncio.run(run()) == (True, True)


@pytest.mark.parametrize(
    "query",
    ["", "a=1", "a=1&b=2&a=3", "a&b=", "&&a=1&", "a=1=2", "é=ü", "a=%C3%A9&b=x+y", "a=%ff", "sp=a+b", "=v", "k="],
)
def test_query_params_split_as_parse_qsl(query: str) -> None:
    from urllib.parse import parse_qsl

    expected = parse_qsl(query, keep_blank_values=True)
    assert QueryParams(query).multi_items() == expected
    assert QueryParams(query.encode("utf-8").decode("latin-1").encode("latin-1")).multi_items() == parse_qsl(
        query.encode("utf-8").decode("latin-1"), keep_blank_values=True
    )


@pytest.mark.parametrize("query", ["a=1&b=2&c=3", "a=1&b=%20&c=3"])
def test_query_params_over_the_limit_raise(query: str) -> None:
    with pytest.raises(ValueError):
        QueryParams(query, max_params=2)
    assert len(QueryParams(query, max_params=3)) == 3
