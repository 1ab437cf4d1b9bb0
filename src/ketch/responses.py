"""Responses: each one an ASGI app that sends a status, headers and a body.

A :class:`StreamingResponse` watches for the client leaving while it streams. Its watcher reads ``receive()``
through the request's :class:`~ketch.requests.Inbox`, never around it: an ``http.request`` message it gets is
parked for the app (a generator that reads the request body while streaming gets every chunk, in order), and it
never races the body reader with a second ``receive()``.
"""

from __future__ import annotations

import asyncio
import http.cookies
import re
from collections.abc import AsyncIterable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import quote

from ketch.background import BackgroundTask, run_background
from ketch.concurrency import iterate_in_threadpool
from ketch.datastructures import URL, MutableHeaders, encode_header
from ketch.exceptions import ClientDisconnect
from ketch.json import dumps
from ketch.requests import inbox_for
from ketch.types import Receive, Scope, Send

__all__ = [
    "RAISE_SERVER_EXCEPTIONS",
    "RESPONSE_STARTED",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]

_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f;]")
_NO_BODY_STATUSES = frozenset({204, 304}) | frozenset(range(100, 200))
# PERF: Content-Length values of small bodies, encoded once.
_CACHED_LENGTHS = 4096
_LENGTHS = [str(size).encode() for size in range(_CACHED_LENGTHS)]

# Set in the scope once a response has started, by every ketch response (and by the wrappers around apps that
# are not ketch's), so the error layer can tell whether a 500 can still be sent without wrapping ``send``.
RESPONSE_STARTED = "ketch.response_started"
# Set by the test client to see unhandled errors re-raised (after the 500 went out, or the WebSocket closed).
RAISE_SERVER_EXCEPTIONS = "ketch.raise_server_exceptions"


class Response:
    """A complete response with a bytes body.

    Args:
        content: ``bytes``, ``str`` (encoded with ``charset``) or ``None``; subclasses render other types.
        status_code: the HTTP status.
        headers: extra headers; values with CR, LF or NUL raise ``ValueError`` (no response splitting).
        media_type: the ``Content-Type`` (``charset`` is added for ``text/*``).
        background: a task to run after the body is sent.
    """

    media_type: str | None = None
    charset = "utf-8"
    # Whether the body is known up front, so Content-Length can be set (False for streams).
    sized_body = True
    # PERF: the Content-Type header of the class's own media type, encoded once per class.
    _content_type_header: tuple[bytes, bytes] | None = None
    # What ``set_cookie`` does when ``httponly`` is not given (Starlette's responses in compat.starlette: False).
    cookie_httponly = True

    # PERF: classes that keep the base render() encode a str body inline, without the method call.
    _base_render = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._content_type_header = (
            (b"content-type", _content_type(cls.media_type, cls.charset)) if cls.media_type is not None else None
        )
        cls._base_render = cls.render is Response.render

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        self.background = background
        if self._base_render and type(content) is str:
            body = self.body = content.encode(self.charset)
        else:
            body = self.body = self.render(content)
        if headers is None and media_type is None:
            # PERF: the common case builds its two headers from values computed once.
            raw: list[tuple[bytes, bytes]] = []
            if self.sized_body and status_code not in _NO_BODY_STATUSES:
                size = len(body)
                raw.append((b"content-length", _LENGTHS[size] if size < _CACHED_LENGTHS else str(size).encode()))
            content_type = self._content_type_header
            if content_type is not None:
                raw.append(content_type)
            self.raw_headers = raw
            return
        if media_type is not None:
            self.media_type = media_type
        self.raw_headers = self._init_headers(headers)

    def render(self, content: Any) -> bytes:
        if type(content) is str:
            return content.encode(self.charset)
        if content is None:
            return b""
        if isinstance(content, (bytes, memoryview, bytearray)):
            return bytes(content)
        return content.encode(self.charset)  # type: ignore[no-any-return]

    def _init_headers(self, headers: Mapping[str, str] | None) -> list[tuple[bytes, bytes]]:
        raw: list[tuple[bytes, bytes]] = []
        has_length = has_type = False
        if headers:
            for key, value in headers.items():
                name, encoded = encode_header(key, value)
                raw.append((name, encoded))
                has_length = has_length or name == b"content-length"
                has_type = has_type or name == b"content-type"
        if not has_length and self.sized_body and self.status_code not in _NO_BODY_STATUSES:
            raw.append((b"content-length", str(len(self.body)).encode()))
        media_type = self.media_type
        if media_type is not None and not has_type:
            raw.append((b"content-type", _content_type(media_type, self.charset)))
        return raw

    @property
    def headers(self) -> MutableHeaders:
        return MutableHeaders(raw=self.raw_headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool | None = None,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header. Safe by default: ``HttpOnly``, ``SameSite=Lax``, ``Path=/``.

        ``httponly=None`` means the class's ``cookie_httponly`` (True here; False on ``ketch.compat`` responses).

        Names must be HTTP tokens; a name or value with ``;``, CR, LF or another control character raises
        ``ValueError``. ``samesite="none"`` requires ``secure=True``, as browsers do.
        """
        self.raw_headers.append(
            (
                b"set-cookie",
                build_cookie(
                    key,
                    value,
                    max_age=max_age,
                    expires=expires,
                    path=path,
                    domain=domain,
                    secure=secure,
                    httponly=self.cookie_httponly if httponly is None else httponly,
                    samesite=samesite,
                    partitioned=partitioned,
                ).encode("latin-1"),
            )
        )

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool | None = None,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        """Expire the cookie ``key`` (same path and domain as when it was set)."""
        self.set_cookie(
            key, "", max_age=0, expires=0, path=path, domain=domain, secure=secure, httponly=httponly, samesite=samesite
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        scope[RESPONSE_STARTED] = True
        await send({"type": "http.response.body", "body": self.body})
        if self.background is not None:
            await run_background(self.background, scope.get("path", ""))


def build_cookie(
    key: str,
    value: str = "",
    *,
    max_age: int | None = None,
    expires: datetime | str | int | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = True,
    samesite: str | None = "lax",
    partitioned: bool = False,
) -> str:
    """The value of one ``Set-Cookie`` header, validated (see :meth:`Response.set_cookie`)."""
    if not _COOKIE_NAME.fullmatch(key):
        raise ValueError(f"Invalid cookie name: {key!r}")
    value = str(value)
    if _COOKIE_FORBIDDEN.search(value):
        raise ValueError(f"Invalid cookie value for {key!r}: ';' and control characters are not allowed")
    parts = [f"{key}={http.cookies._quote(value)}"]
    if expires is not None:
        if isinstance(expires, datetime):
            parts.append(f"expires={format_datetime(expires.astimezone(UTC), usegmt=True)}")
        elif isinstance(expires, int):
            moment = datetime.now(UTC).timestamp() + expires
            parts.append(f"expires={format_datetime(datetime.fromtimestamp(moment, UTC), usegmt=True)}")
        else:
            parts.append(f"expires={expires}")
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    for label, attr in (("Domain", domain), ("Path", path)):
        if attr is not None:
            if _COOKIE_FORBIDDEN.search(attr):
                raise ValueError(f"Invalid cookie {label.lower()}: {attr!r}")
            parts.append(f"{label}={attr}")
    if samesite is not None:
        if samesite.lower() not in ("lax", "strict", "none"):
            raise ValueError("samesite must be 'lax', 'strict' or 'none'")
        if samesite.lower() == "none" and not secure:
            raise ValueError("samesite='none' requires secure=True")
        parts.append(f"SameSite={samesite.lower()}")
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if partitioned:
        parts.append("Partitioned")
    return "; ".join(parts)


_CONTENT_TYPES: dict[tuple[str, str], bytes] = {}


def _content_type(media_type: str, charset: str) -> bytes:
    # PERF: every response needs this header; it is validated and encoded once per media type.
    key = (media_type, charset)
    value = _CONTENT_TYPES.get(key)
    if value is None:
        text = media_type
        if text.startswith("text/") and "charset=" not in text.lower():
            text += "; charset=" + charset
        if re.search(r"[\x00-\x1f\x7f]", text):
            raise ValueError("Invalid media_type: control characters are not allowed")
        value = text.encode("latin-1")
        if len(_CONTENT_TYPES) < 256:
            _CONTENT_TYPES[key] = value
    return value


class HTMLResponse(Response):
    """An HTML document (``text/html; charset=utf-8``)."""

    media_type = "text/html"


class PlainTextResponse(Response):
    """Plain text (``text/plain; charset=utf-8``)."""

    media_type = "text/plain"


class JSONResponse(Response):
    """Any JSON-able value (dicts, lists, models, dataclasses, datetimes, UUIDs...) encoded by pydantic-core."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


class RedirectResponse(Response):
    """A redirect to ``url`` (307 by default); the ``Location`` is percent-encoded, so it can never split."""

    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content=b"", status_code=status_code, headers=headers, background=background)
        location = quote(str(url), safe=":/%#?=@[]!$&'()*+,;~")
        self.raw_headers.append((b"location", location.encode("latin-1")))


class StreamingResponse(Response):
    """A body produced piece by piece from an async or sync iterable of ``bytes`` or ``str``.

    Sync iterables are read on the thread pool. If the client disconnects, the iterable is closed at once (its
    ``finally`` blocks run) and nothing more is sent. The iterable may read the request body as it goes: the
    disconnect watcher keeps every body message for it (see the module docstring).
    """

    sized_body = False

    def __init__(
        self,
        content: AsyncIterable[str | bytes] | Iterable[str | bytes],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = b""
        if isinstance(content, AsyncIterable):
            self.body_iterator: AsyncIterable[str | bytes] = content
        else:
            self.body_iterator = iterate_in_threadpool(content)
        self.raw_headers = self._init_headers(headers)

    async def _stream(self, scope: Scope, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        scope[RESPONSE_STARTED] = True
        async for chunk in self.body_iterator:
            if isinstance(chunk, str):
                chunk = chunk.encode(self.charset)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Made before the stream starts, so the iterable's body reads and the watcher share one receive().
        inbox = inbox_for(scope)
        stream = asyncio.ensure_future(self._stream(scope, send))
        watcher = asyncio.ensure_future(inbox.watch(receive))
        try:
            done, _ = await asyncio.wait({stream, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stream, watcher):
                if not task.done():
                    task.cancel()
            await asyncio.gather(stream, watcher, return_exceptions=True)
            closer = getattr(self.body_iterator, "aclose", None)
            if closer is not None:
                await closer()
        if stream in done:
            try:
                stream.result()  # re-raise an error from the iterator
            except ClientDisconnect:
                return  # the iterable read the body and saw the client go: as if the watcher had seen it
            if self.background is not None:
                await run_background(self.background, scope.get("path", ""))


from ketch._files import FileResponse  # noqa: E402
