"""Data structures for what a request carries: URL, headers, query and form data, uploads, state."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, Sequence, ValuesView
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, TypeVar, cast
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

from ketch.concurrency import run_in_threadpool

__all__ = [
    "URL",
    "Address",
    "FormData",
    "Headers",
    "ImmutableMultiDict",
    "MultiDict",
    "MutableHeaders",
    "QueryParams",
    "State",
    "UploadFile",
    "safe_filename",
    "spooled_file",
]

_V = TypeVar("_V")

# RFC 9110 token for names, and a field value without CR, LF or NUL.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FORBIDDEN_IN_VALUE = re.compile(r"[\r\n\x00]")


class Address(NamedTuple):
    """A peer address: ``host`` and ``port``."""

    host: str
    port: int


class URL:
    """A parsed URL with ``scheme``, ``netloc``, ``path``, ``query``, ``fragment`` and helpers to vary it."""

    __slots__ = ("_url", "_parts")

    def __init__(self, url: str = "") -> None:
        self._url = url
        self._parts: SplitResult | None = None

    @property
    def components(self) -> SplitResult:
        if self._parts is None:
            self._parts = urlsplit(self._url)
        return self._parts

    @property
    def scheme(self) -> str:
        return self.components.scheme

    @property
    def netloc(self) -> str:
        return self.components.netloc

    @property
    def path(self) -> str:
        return self.components.path

    @property
    def query(self) -> str:
        return self.components.query

    @property
    def fragment(self) -> str:
        return self.components.fragment

    @property
    def hostname(self) -> str | None:
        return self.components.hostname

    @property
    def port(self) -> int | None:
        return self.components.port

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, **kwargs: Any) -> URL:
        """Return a copy with some components replaced (``scheme``, ``netloc``, ``path``, ``query``, ...)."""
        if {"hostname", "port"} & kwargs.keys():
            hostname = kwargs.pop("hostname", None) or self.hostname or ""
            port = kwargs.pop("port", self.port)
            kwargs["netloc"] = f"{hostname}:{port}" if port is not None else hostname
        return URL(self.components._replace(**kwargs).geturl())

    def include_query_params(self, **params: Any) -> URL:
        query = MultiDict(parse_qsl(self.query, keep_blank_values=True))
        query.update({str(k): str(v) for k, v in params.items()})
        return self.replace(query=urlencode(query.multi_items()))

    def replace_query_params(self, **params: Any) -> URL:
        return self.replace(query=urlencode([(str(k), str(v)) for k, v in params.items()]))

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self._url)

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self._url!r})"


class ImmutableMultiDict(Mapping[str, _V]):
    """A mapping that can hold several values per key; ``d[key]`` is the last value, ``getlist`` all of them."""

    __slots__ = ("_list", "_dict")

    def __init__(self, items: Mapping[str, _V] | Iterable[tuple[str, _V]] | None = None) -> None:
        if type(items) is list:  # PERF: pairs already (a parsed query or form): no ABC checks
            pairs: list[tuple[str, _V]] = list(items)
        elif items is None:
            pairs = []
        elif isinstance(items, ImmutableMultiDict):
            pairs = list(items.multi_items())
        elif isinstance(items, Mapping):
            pairs = list(items.items())
        else:
            pairs = list(items)
        self._list = pairs
        self._dict = dict(pairs)

    def getlist(self, key: str) -> list[_V]:
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, _V]]:
        return list(self._list)

    def keys(self) -> KeysView[str]:
        return self._dict.keys()

    def values(self) -> ValuesView[_V]:
        return self._dict.values()

    def items(self) -> ItemsView[str, _V]:
        return self._dict.items()

    def __getitem__(self, key: str) -> _V:
        return self._dict[key]

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImmutableMultiDict):
            return False
        return sorted(self._list) == sorted(other._list)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self._list!r})"


class MultiDict(ImmutableMultiDict[_V]):
    """A mutable :class:`ImmutableMultiDict`."""

    __slots__ = ()

    def __setitem__(self, key: str, value: _V) -> None:
        self.setlist(key, [value])

    def __delitem__(self, key: str) -> None:
        self._list = [(k, v) for k, v in self._list if k != key]
        del self._dict[key]

    def pop(self, key: str, default: Any = None) -> Any:
        self._list = [(k, v) for k, v in self._list if k != key]
        return self._dict.pop(key, default)

    def setlist(self, key: str, values: Sequence[_V]) -> None:
        if not values:
            self.pop(key)
            return
        self._list = [(k, v) for k, v in self._list if k != key] + [(key, v) for v in values]
        self._dict[key] = values[-1]

    def append(self, key: str, value: _V) -> None:
        self._list.append((key, value))
        self._dict[key] = value

    def update(self, *args: Mapping[str, _V] | Iterable[tuple[str, _V]], **kwargs: _V) -> None:
        incoming = MultiDict[_V]()
        for arg in args:
            incoming._list.extend(ImmutableMultiDict(arg).multi_items())
        incoming._list.extend(kwargs.items())
        keys = {k for k, _ in incoming._list}
        self._list = [(k, v) for k, v in self._list if k not in keys] + incoming._list
        self._dict.update(incoming._list)


class QueryParams(ImmutableMultiDict[str]):
    """The query string as an immutable multi-dict of strings.

    Percent-escapes that are not valid UTF-8 decode to U+FFFD, never an error. ``max_params`` bounds the number of
    pairs parsed: more raise ``ValueError`` (the request layer turns that into a 400).
    """

    __slots__ = ()

    def __init__(
        self,
        params: str | bytes | Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        *,
        max_params: int | None = None,
    ) -> None:
        if isinstance(params, bytes):
            params = params.decode("latin-1")
        if isinstance(params, str):
            pairs = _split_query(params, max_params)
            self._list = pairs
            self._dict = dict(pairs)
        else:
            super().__init__(params)

    def __str__(self) -> str:
        return urlencode(self._list)


def _split_query(query: str, max_params: int | None) -> list[tuple[str, str]]:
    """``parse_qsl(query, keep_blank_values=True, max_num_fields=max_params)``, split by hand when there is nothing
    to unescape (no ``%``, no ``+``): the usual query string."""
    if "%" in query or "+" in query:
        return parse_qsl(query, keep_blank_values=True, max_num_fields=max_params)
    if max_params is not None and query and query.count("&") >= max_params:
        raise ValueError("Max number of fields exceeded")
    pairs = []
    for field in query.split("&"):
        if field:
            key, _, value = field.partition("=")
            pairs.append((key, value))
    return pairs


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued request or response headers, decoded as latin-1 on access."""

    __slots__ = ("_raw",)

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        raw: list[tuple[bytes, bytes]] | None = None,
        scope: Mapping[str, Any] | None = None,
    ) -> None:
        if raw is not None:
            self._raw = raw
        elif scope is not None:
            self._raw = list(scope["headers"])
        elif headers is not None:
            self._raw = [encode_header(k, v) for k, v in headers.items()]
        else:
            self._raw = []

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        return self._raw

    def getlist(self, key: str) -> list[str]:
        name = key.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self._raw if k.lower() == name]

    def keys(self) -> list[str]:  # type: ignore[override]
        return [k.decode("latin-1").lower() for k, _ in self._raw]

    def values(self) -> list[str]:  # type: ignore[override]
        return [v.decode("latin-1") for _, v in self._raw]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in self._raw]

    def mutablecopy(self) -> MutableHeaders:
        return MutableHeaders(raw=list(self._raw))

    def __getitem__(self, key: str) -> str:
        name = key.lower().encode("latin-1")
        for k, v in self._raw:
            if k.lower() == name:
                return v.decode("latin-1")
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        name = key.lower().encode("latin-1")
        return any(k.lower() == name for k, _ in self._raw)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._raw)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return False
        return sorted((k.lower(), v) for k, v in self._raw) == sorted((k.lower(), v) for k, v in other._raw)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.items()!r})"


def encode_header(name: str, value: str) -> tuple[bytes, bytes]:
    """Validate and encode one header; a name that is not a token or a value with CR, LF or NUL raises ValueError."""
    if not _HEADER_NAME.fullmatch(name):
        raise ValueError(f"Invalid header name: {name!r}")
    value = str(value)
    if _FORBIDDEN_IN_VALUE.search(value):
        raise ValueError(f"Invalid header value for {name!r}: CR, LF and NUL are not allowed")
    return name.lower().encode("latin-1"), value.encode("latin-1")


class MutableHeaders(Headers):
    """Headers that can be changed; every value set is checked for CR, LF and NUL (no response splitting)."""

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        name, encoded = encode_header(key, value)
        found = [i for i, (k, _) in enumerate(self._raw) if k.lower() == name]
        for i in reversed(found[1:]):
            del self._raw[i]
        if found:
            self._raw[found[0]] = (name, encoded)
        else:
            self._raw.append((name, encoded))

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1")
        self._raw[:] = [(k, v) for k, v in self._raw if k.lower() != name]

    def setdefault(self, key: str, value: str) -> str:
        if key in self:
            return self[key]
        self[key] = value
        return value

    def update(self, other: Mapping[str, str]) -> None:
        for key, value in other.items():
            self[key] = value

    def append(self, key: str, value: str) -> None:
        """Add a header line, keeping any existing lines of that name (``Set-Cookie``, ``Vary``)."""
        self._raw.append(encode_header(key, value))

    def add_vary_header(self, vary: str) -> None:
        """Add ``vary`` to the ``Vary`` header, merging every existing ``Vary`` line into one."""
        values = [v.strip() for line in self.getlist("vary") for v in line.split(",") if v.strip()]
        if vary.lower() not in {v.lower() for v in values}:
            values.append(vary)
        self["vary"] = ", ".join(values)


class State:
    """An object for arbitrary attributes: ``app.state.db = ...``, ``request.state.user = ...``."""

    _state: dict[str, Any]

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        super().__setattr__("_state", state if state is not None else {})

    def __setattr__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __getattr__(self, key: str) -> Any:
        try:
            return self._state[key]
        except KeyError:
            raise AttributeError(f"'{self.__class__.__name__}' object has no attribute '{key}'") from None

    def __delattr__(self, key: str) -> None:
        del self._state[key]

    def __contains__(self, key: str) -> bool:
        return key in self._state

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self._state!r})"


_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._\- ]")


def safe_filename(filename: str | None) -> str:
    """Reduce a client-supplied filename to a safe base name: no directories, drives, NUL or leading dots."""
    name = (filename or "").replace("\x00", "").replace("\\", "/").split("/")[-1]
    name = name.split(":")[-1]
    name = _UNSAFE_FILENAME_CHARS.sub("_", name).strip(" .")
    return name or "upload"


class UploadFile:
    """An uploaded file: ``filename`` as the client sent it, ``content_type``, ``headers``, ``size`` and ``file``.

    The data lives in a spooled temporary file that moves to disk past ``max_size`` bytes; the async methods run
    disk work on the thread pool so the event loop never blocks.
    """

    def __init__(
        self,
        file: BinaryIO,
        *,
        size: int | None = None,
        filename: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.file = file
        self.size = size
        self.filename = filename
        self.headers = headers or Headers()

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def _in_memory(self) -> bool:
        rolled = getattr(self.file, "_rolled", True)
        return not rolled

    def _will_roll(self, size: int) -> bool:
        # CVE-2025-54121: the write that crosses max_size copies the buffer to disk, so it goes off the loop too.
        if not self._in_memory:
            return True
        max_size: int = getattr(self.file, "_max_size", 0)
        return bool(max_size) and self.file.tell() + size > max_size

    async def write(self, data: bytes) -> None:
        if self.size is not None:
            self.size += len(data)
        if self._will_roll(len(data)):
            await run_in_threadpool(self.file.write, data)
        else:
            self.file.write(data)

    async def read(self, size: int = -1) -> bytes:
        if self._in_memory:
            return self.file.read(size)
        return await run_in_threadpool(self.file.read, size)

    async def seek(self, offset: int) -> None:
        if self._in_memory:
            self.file.seek(offset)
        else:
            await run_in_threadpool(self.file.seek, offset)

    async def close(self) -> None:
        if self._in_memory:
            self.file.close()
        else:
            await run_in_threadpool(self.file.close)

    def safe_filename(self) -> str:
        """The client's filename reduced to a safe base name (see :func:`safe_filename`)."""
        return safe_filename(self.filename)

    async def save(self, directory: str | os.PathLike[str], filename: str | None = None) -> Path:
        """Copy the upload into ``directory`` under a safe name; never writes outside that directory."""
        root = Path(directory).resolve()
        target = (root / safe_filename(filename or self.filename)).resolve()
        if target.parent != root:
            raise ValueError("Refusing to write outside the upload directory")
        await self.seek(0)

        def copy() -> None:
            with open(target, "wb") as out:
                while chunk := self.file.read(1 << 16):
                    out.write(chunk)

        await run_in_threadpool(copy)
        return target

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(filename={self.filename!r}, size={self.size!r}, headers={self.headers!r})"


def spooled_file(max_memory: int) -> BinaryIO:
    """A temporary file that stays in memory up to ``max_memory`` bytes, then rolls over to disk."""
    return cast(BinaryIO, tempfile.SpooledTemporaryFile(max_size=max_memory))


class FormData(ImmutableMultiDict[UploadFile | str]):
    """Parsed form fields and files; ``close()`` closes every uploaded file."""

    __slots__ = ()

    async def close(self) -> None:
        for _, value in self.multi_items():
            if isinstance(value, UploadFile):
                await value.close()
