"""The Request: lazy, cached access to everything an HTTP request carries.

Body messages are never dropped. Whatever calls ``receive()`` on the app's behalf without wanting the body (the
disconnect watcher of a streaming response, :meth:`Request.is_disconnected`) goes through the request's
:class:`Inbox`, kept in the scope under ``"ketch.inbox"``: an ``http.request`` message it gets is parked there,
and the app's next body read takes it first, in order; a parked ``http.disconnect`` stays for everyone who asks
after it. Once the inbox exists, at most one ``receive()`` is in flight: everyone waits for that one rather than
racing it with a second (two readers would split the messages between them). A request nobody watches never
makes an inbox, and its body reads call ``receive()`` directly.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Generator, Mapping
from inspect import CO_ITERABLE_COROUTINE
from types import CoroutineType
from typing import Any
from urllib.parse import quote

from ketch.datastructures import URL, Address, FormData, Headers, QueryParams, State
from ketch.exceptions import ClientDisconnect, HTTPException, RequestTimeout, RequestTooLarge
from ketch.json import loads
from ketch.limits import DEFAULT_LIMITS, Limits
from ketch.types import Message, Receive, Scope

__all__ = [
    "INBOX",
    "READ_AHEAD",
    "HTTPConnection",
    "Inbox",
    "Request",
    "check_declared_length",
    "cookie_parser",
    "empty_receive",
    "inbox_for",
    "valid_host",
]

# A Host header is trusted for building URLs only if it is a plain host name or IP literal with an optional port.
# NOTE: labels must be separated by dots; a pattern that lets a run of letters split into labels many ways
# backtracks exponentially (a 30-byte Host header took seconds).
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_\-]{0,61}[A-Za-z0-9_])?"
_VALID_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?(?::[0-9]{{1,5}})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{{1,5}})?")


def valid_host(host: str) -> bool:
    """True if ``host`` is safe to put into a URL: a name or IP literal and an optional port, nothing else."""
    return len(host) <= 255 and _VALID_HOST.fullmatch(host) is not None


def cookie_parser(cookie_string: str) -> dict[str, str]:
    """Parse a ``Cookie`` header the way browsers send it; never raises, whatever the input."""
    cookie_dict: dict[str, str] = {}
    for chunk in cookie_string.split(";"):
        if "=" in chunk:
            key, val = chunk.split("=", 1)
        else:
            key, val = "", chunk
        key, val = key.strip(), val.strip()
        if key or val:
            cookie_dict[key] = _unquote_cookie(val)
    return cookie_dict


_COOKIE_ESCAPE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))")


def _unquote_cookie(value: str) -> str:
    # NOTE: http.cookies._unquote before Python 3.11.10 is quadratic in backslashes (CVE-2024-7592); this is the
    # linear rewrite CPython adopted, so a 64 KB Cookie header stays cheap on every 3.11.
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    value = value[1:-1]
    if "\\" not in value:
        return value
    return _COOKIE_ESCAPE.sub(lambda m: chr(int(m[1], 8)) if m[1] else m[2], value)


def check_declared_length(scope: Scope, limit: int | None) -> None:
    """413 before any body is read when ``Content-Length`` already says it is over the limit."""
    if limit is None:
        return
    for key, value in scope["headers"]:
        if key == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                raise HTTPException(400, "Invalid Content-Length header") from None
            if declared > limit:
                raise RequestTooLarge()
            return


async def empty_receive() -> Message:
    raise RuntimeError("Receive channel has not been made available")


# The scope key of the request's Inbox (made by the first reader that needs one).
INBOX = "ketch.inbox"
# How far the disconnect watcher reads the body ahead of an app that is not reading it, in bytes: about what a
# server buffers before it stops reading the socket. Past it the watcher waits for the app, so an ignored upload
# never piles up in memory (and, as on the server, a disconnect then shows only once the app reads on).
READ_AHEAD = 64 * 1024
# How long is_disconnected() gives a fresh receive() to answer before it stops listening.
_POLL = 0.0001


class Inbox:
    """One request's messages taken from ``receive()`` on the app's behalf and not yet read by it, in order.

    ``reading`` is the one ``receive()`` in flight; it parks what it gets here before anyone looks, so a reader
    that stops waiting (cancelled, or done) loses nothing. A read is cancelled only while ``receive()`` is still
    waiting, which an ASGI server's ``receive()`` survives without losing a message.
    """

    __slots__ = ("messages", "size", "reading", "disconnected", "_taken")

    def __init__(self) -> None:
        self.messages: deque[Message] = deque()
        self.size = 0  # body bytes parked
        self.reading: asyncio.Task[None] | None = None
        self.disconnected = False
        self._taken = asyncio.Event()  # the app took a parked message: a paused watcher may read on

    def take(self) -> Message | None:
        """The next parked message for the app's body reader; a disconnect stays parked for the next one."""
        if not self.messages:
            return None
        message = self.messages[0]
        if message["type"] != "http.disconnect":
            self.messages.popleft()
            self.size -= len(message.get("body", b""))
            self._taken.set()
        return message

    def fetch(self, receive: Receive) -> asyncio.Task[None]:
        """The read in flight, started if there is none: its message lands in ``messages``."""
        read = self.reading
        if read is None or read.done():
            read = self.reading = asyncio.ensure_future(self._read(receive))
        return read

    async def _read(self, receive: Receive) -> None:
        # Nothing is awaited between receive() returning and the message being parked: a cancel cannot fall
        # between them, so cancelling a read can only interrupt a receive() that has not answered yet.
        message = await receive()
        if message["type"] == "http.disconnect":
            if self.disconnected:
                return  # one parked disconnect answers everyone
            self.disconnected = True
        self.messages.append(message)
        self.size += len(message.get("body", b""))

    async def next(self, receive: Receive) -> Message:
        """The app's next message: a parked one, else what the read in flight brings."""
        while (message := self.take()) is None:
            await _wait(self.fetch(receive))
        return message

    async def poll(self, receive: Receive) -> bool:
        """True once the client is gone; asks ``receive()`` without waiting for an answer that is not there."""
        if self.disconnected:
            return True
        ours = self.reading is None or self.reading.done()
        read = self.fetch(receive)
        await _wait(read, _POLL)
        if ours and not read.done():
            await _stop(read)  # nothing came: stop listening, as if we had never asked
        return self.disconnected

    async def watch(self, receive: Receive) -> None:
        """Return once the client has disconnected, parking body messages up to ``READ_AHEAD`` bytes ahead."""
        while not self.disconnected:
            if self.size >= READ_AHEAD:
                self._taken.clear()
                await self._taken.wait()
            else:
                await _wait(self.fetch(receive))


async def _wait(read: asyncio.Task[None], timeout: float | None = None) -> None:
    """Wait for ``read`` without being its only owner: others may wait for the same read."""
    try:
        await asyncio.wait((read,), timeout=timeout)
    except asyncio.CancelledError:
        await _stop(read)  # whoever else waits for it starts a new read
        raise
    if read.done() and not read.cancelled() and (error := read.exception()) is not None:
        raise error


async def _stop(read: asyncio.Task[None]) -> None:
    """Cancel ``read`` and wait until its ``receive()`` has returned: no read outlives everyone who wanted it."""
    read.cancel()
    await asyncio.wait((read,))


def inbox_for(scope: Scope) -> Inbox:
    """The request's :class:`Inbox`, made on first use."""
    inbox: Inbox | None = scope.get(INBOX)
    if inbox is None:
        inbox = scope[INBOX] = Inbox()
    return inbox


class HTTPConnection(Mapping[str, Any]):
    """What HTTP requests and WebSockets share: scope, URL, headers, query, cookies, client, state."""

    __slots__ = ("scope", "_headers", "_query_params", "_cookies", "_url", "limits")

    def __init__(self, scope: Scope, limits: Limits = DEFAULT_LIMITS) -> None:
        self.scope = scope
        self.limits = limits
        self._headers: Headers | None = None
        self._query_params: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._url: URL | None = None

    def __getitem__(self, key: str) -> Any:
        return self.scope[key]

    def __iter__(self) -> Any:
        return iter(self.scope)

    def __len__(self) -> int:
        return len(self.scope)

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @property
    def app(self) -> Any:
        return self.scope.get("app")

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(raw=self.scope["headers"])
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        if self._query_params is None:
            try:
                self._query_params = QueryParams(
                    self.scope.get("query_string", b""), max_params=self.limits.max_query_params
                )
            except ValueError:
                raise HTTPException(400, "Too many query parameters") from None
        return self._query_params

    @property
    def path_params(self) -> dict[str, Any]:
        return self.scope.get("path_params", {})  # type: ignore[no-any-return]

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            cookie_headers = [v.decode("latin-1") for k, v in self.scope["headers"] if k == b"cookie"]
            self._cookies = cookie_parser("; ".join(cookie_headers)) if cookie_headers else {}
        return self._cookies

    @property
    def client(self) -> Address | None:
        client = self.scope.get("client")
        return Address(*client) if client else None

    @property
    def state(self) -> State:
        # Lifespan state (ASGI "state" extension) and per-request attributes share one dict.
        return State(self.scope.setdefault("state", {}))

    @property
    def host(self) -> str:
        """The request's host and port, from a valid ``Host`` header, else from the server address."""
        hosts = [v for k, v in self.scope["headers"] if k == b"host"]
        if len(hosts) == 1:
            host: str = hosts[0].decode("latin-1")
            if valid_host(host):
                return host
        server = self.scope.get("server")
        if server:
            host, port = str(server[0]), server[1]
            default = 443 if self.scope.get("scheme") in ("https", "wss") else 80
            if ":" in host:
                host = f"[{host}]"
            return host if port in (default, None) else f"{host}:{port}"
        return "localhost"

    @property
    def url(self) -> URL:
        if self._url is None:
            scope = self.scope
            scheme = scope.get("scheme", "http")
            raw_path = scope.get("raw_path")
            path = raw_path.decode("latin-1") if raw_path else quote(scope["path"], safe="/:@!$&'()*+,;=-._~%")
            query = scope.get("query_string", b"")
            url = f"{scheme}://{self.host}{path}"
            if query:
                url += "?" + query.decode("latin-1")
            self._url = URL(url)
        return self._url

    @property
    def base_url(self) -> URL:
        root_path = self.scope.get("app_root_path", self.scope.get("root_path", ""))
        scheme = self.scope.get("scheme", "http")
        path = quote(root_path) if root_path else ""
        return URL(f"{scheme}://{self.host}{path}/")

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        """The absolute URL of the route called ``name``."""
        router = self.scope.get("router") or self.scope["app"]
        path = router.url_path_for(name, **path_params)
        return URL(str(self.base_url).rstrip("/") + str(path))


class Request(HTTPConnection):
    """An HTTP request. Nothing is parsed until it is touched; everything parsed is cached.

    The body is read under the request's :class:`~ketch.limits.Limits`: a declared or streamed size past
    ``max_body_size`` raises a 413 ``HTTPException`` without reading further.
    """

    __slots__ = ("_receive", "_body", "_json", "_form", "_stream_consumed", "_is_disconnected", "_arrived")

    _arrived: Message  # the message _step just read (set before it is read, so never initialised)

    def __init__(self, scope: Scope, receive: Receive = empty_receive, limits: Limits = DEFAULT_LIMITS) -> None:
        self.scope = scope
        self.limits = limits
        self._receive = receive
        self._headers = None
        self._query_params = None
        self._cookies = None
        self._url = None
        self._body: bytes | None = None
        self._json: Any = _UNREAD
        self._form: FormData | None = None
        self._stream_consumed = False
        self._is_disconnected = False

    @property
    def method(self) -> str:
        return self.scope["method"]  # type: ignore[no-any-return]

    @property
    def receive(self) -> Receive:
        return self._receive

    async def stream(self) -> AsyncIterator[bytes]:
        """Yield the body in chunks as they arrive, stopping with a 413 past ``max_body_size`` and a 408 when
        the next chunk takes longer than ``body_timeout``."""
        if self._body is not None:
            yield self._body
            return
        limit = self._start_body()
        received = 0
        while True:
            message = await self._message()
            if message["type"] == "http.request":
                chunk: bytes = message.get("body", b"")
                if chunk:
                    received += len(chunk)
                    if limit is not None and received > limit:
                        raise RequestTooLarge()
                    yield chunk
                if not message.get("more_body", False):
                    return
            elif message["type"] == "http.disconnect":
                self._is_disconnected = True
                raise ClientDisconnect()

    async def body(self) -> bytes:
        """The whole body as bytes (read once, then cached), under the same limits as :meth:`stream`."""
        if self._body is not None:
            return self._body
        # PERF: stream()'s loop again rather than a walk over stream(): an async generator costs more than the rest
        # of a small body read (asyncio tracks each one in a weak set).
        limit = self._start_body()
        received = 0
        chunks: list[bytes] = []
        while True:
            message = await self._message()
            if message["type"] == "http.request":
                chunk: bytes = message.get("body", b"")
                if chunk:
                    received += len(chunk)
                    if limit is not None and received > limit:
                        raise RequestTooLarge()
                    chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            elif message["type"] == "http.disconnect":
                self._is_disconnected = True
                raise ClientDisconnect()
        self._body = body = b"".join(chunks)
        return body

    def _start_body(self) -> int | None:
        """Start the one read of the body: refuse a second, 413 on a declared length over the limit; the limit."""
        if self._stream_consumed:
            raise RuntimeError("The request body stream has already been consumed")
        self._stream_consumed = True
        limit = self.limits.max_body_size
        check_declared_length(self.scope, limit)
        return limit

    async def _message(self) -> Message:
        """The next message for the body reader, through the inbox if there is one; 408 past ``body_timeout``."""
        # Looked up per message: a streaming response may start watching while the body is being read.
        inbox: Inbox | None = self.scope.get(INBOX)
        pending = self._receive() if inbox is None else inbox.next(self._receive)
        timeout = self.limits.body_timeout
        if timeout is None:
            return await pending
        # PERF: a timer costs more than the rest of a small body read, and most reads need none: the server
        # already has the chunk. Take the read's first step by hand; arm the timer only if it has to wait.
        step = _step(pending, self)
        waiting_for = next(step, _ARRIVED)
        if waiting_for is not _ARRIVED:
            await _within(timeout, _Resumed(step, waiting_for))
        return self._arrived

    async def json(self) -> Any:
        """The body parsed as JSON; invalid JSON or invalid UTF-8 is a 400, never a 500."""
        if self._json is _UNREAD:
            body = await self.body()
            try:
                self._json = loads(body)
            except ValueError:
                raise HTTPException(400, "Invalid JSON body") from None
        return self._json

    async def form(self) -> FormData:
        """The body parsed as ``application/x-www-form-urlencoded`` or ``multipart/form-data``, under the limits."""
        if self._form is None:
            from ketch.formparsers import parse_form

            self._form = await parse_form(self.headers.get("content-type", ""), self.stream(), self.limits)
        return self._form

    async def close(self) -> None:
        """Close uploaded files, if a form was parsed."""
        if self._form is not None:
            await self._form.close()

    async def is_disconnected(self) -> bool:
        """True once the client has gone away (checks without blocking).

        A body message that arrives instead is kept for the body readers (see the module docstring).
        """
        if not self._is_disconnected:
            self._is_disconnected = await inbox_for(self.scope).poll(self._receive)
        return self._is_disconnected


# What next(step) answers once the read has finished without waiting (the message is on the request).
_ARRIVED: Any = object()


def _step(pending: Awaitable[Message], request: Request) -> Generator[Any, Any, None]:
    """``await pending`` as a plain generator, the message parked on ``request._arrived``.

    Driven with ``next(step, _ARRIVED)``, a read that does not wait finishes without raising anything (a generator
    returning None ends quietly; ``coroutine.send`` would raise StopIteration, which costs more than the read).
    A read that waits yields what it waits for; :class:`_Resumed` carries on from there.
    """
    request._arrived = yield from (pending if type(pending) is CoroutineType else pending.__await__())  # type: ignore[misc]


# ``yield from`` a coroutine needs the flag ``@types.coroutine`` sets; set directly, _step keeps its generator type.
_step.__code__ = _step.__code__.replace(co_flags=_step.__code__.co_flags | CO_ITERABLE_COROUTINE)


async def _within(timeout: float, pending: Awaitable[None]) -> None:
    """``await pending``, or a 408 after ``timeout`` seconds (the read is cancelled, which loses no message)."""
    try:
        async with asyncio.timeout(timeout):
            await pending
    except TimeoutError:
        raise RequestTimeout(timeout) from None


class _Resumed:
    """Awaits the rest of a generator that has already taken its first step and waits for ``waiting_for``:
    what ``await`` does, minus that first step (``yield from`` semantics, PEP 380)."""

    __slots__ = ("step", "waiting_for")

    def __init__(self, step: Generator[Any, Any, None], waiting_for: Any) -> None:
        self.step = step
        self.waiting_for = waiting_for

    def __await__(self) -> Generator[Any, Any, None]:
        step, waiting_for = self.step, self.waiting_for
        while True:
            try:
                sent = yield waiting_for
            except GeneratorExit:
                step.close()
                raise
            except BaseException as exc:  # a cancel (the timeout's or the task's): the read decides what it means
                try:
                    waiting_for = step.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    waiting_for = step.send(sent)
                except StopIteration:
                    return


class _Unread:
    def __repr__(self) -> str:
        return "<unread>"


_UNREAD: Any = _Unread()
