"""GZip: compress response bodies for clients that accept gzip, streaming bodies included, chunk by chunk.

Same options and behaviour as Starlette's ``GZipMiddleware`` (FastAPI re-exports it), with these differences:

- ``Accept-Encoding`` is parsed as a list of codings with q-values: ``gzip;q=0`` (or ``*;q=0`` without ``gzip``)
  means no, and a coding that merely contains the letters "gzip" does not count.
- A streamed body stays a stream: each chunk is compressed and flushed (``Z_SYNC_FLUSH``) as it arrives, so the
  client can decode it at once; server-sent events and other excluded types are never touched.
- A strong ``ETag`` becomes weak (``W/"..."``) on a compressed response, as the bytes differ from the original's.

A response is left alone when it is small (one body message under ``minimum_size``), already has a
``Content-Encoding``, is a partial response (206 or ``Content-Range``), or has an excluded content type. Otherwise
it gets ``Vary: Accept-Encoding`` whether or not this client accepted gzip, because another client's response would
differ. ``Content-Length`` is corrected for a body sent in one message and removed for a streamed one.
"""

from __future__ import annotations

import zlib

from ketch.concurrency import run_in_threadpool
from ketch.datastructures import Headers, MutableHeaders
from ketch.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_EXCLUDED_CONTENT_TYPES", "GZipMiddleware", "accepts_gzip"]

DEFAULT_EXCLUDED_CONTENT_TYPES = (
    "application/grpc",
    "application/gzip",
    "application/x-gzip",
    "application/zip",
    "audio/*",
    "font/woff",
    "font/woff2",
    "image/avif",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/event-stream",
    "video/*",
)

# What a responder does with the body messages it sees.
_PENDING, _PASS, _GZIP = 0, 1, 2


class GZipMiddleware:
    """Gzip-compress HTTP responses (other scopes pass through).

    Args:
        app: the ASGI app to wrap.
        minimum_size: bodies sent in one message and shorter than this many bytes are not compressed.
        compresslevel: zlib level, 1 (fast) to 9 (small).
        thread_minimum_size: chunks of at least this many bytes are compressed on the thread pool, so a large
            body does not stall the event loop.
        exclude_content_types: media types never compressed; ``type/*`` covers a whole type.
    """

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 500,
        compresslevel: int = 9,
        thread_minimum_size: int = 128 * 1024,
        *,
        exclude_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.thread_minimum_size = thread_minimum_size
        self.exclude_content_types = frozenset(t.partition(";")[0].strip().lower() for t in exclude_content_types)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = ",".join(v.decode("latin-1") for k, v in scope["headers"] if k == b"accept-encoding")
        responder = _Responder(self, send, accepts_gzip(accept))
        await self.app(scope, receive, responder.send)

    def is_excluded(self, headers: Headers) -> bool:
        """Whether a response with these headers must be sent as it is."""
        if "content-encoding" in headers or "content-range" in headers:
            return True
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        if not media_type:
            return False
        major = media_type.partition("/")[0]
        excluded = self.exclude_content_types
        return media_type in excluded or f"{major}/*" in excluded or media_type.partition("+")[0] in excluded


class _Responder:
    """One response on its way out: holds ``http.response.start`` until the first body chunk decides."""

    __slots__ = ("middleware", "_send", "accepts", "start", "mode", "compressor")

    def __init__(self, middleware: GZipMiddleware, send: Send, accepts: bool) -> None:
        self.middleware = middleware
        self._send = send
        self.accepts = accepts
        self.start: Message | None = None
        self.mode = _PENDING
        self.compressor: zlib._Compress | None = None

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            headers = Headers(raw=list(message.get("headers", ())))
            if message.get("status") == 206 or self.middleware.is_excluded(headers):
                self.mode = _PASS
                await self._send(message)
            else:
                self.start = message
        elif kind != "http.response.body":
            if self.start is not None:  # e.g. http.response.pathsend: nothing to compress, send the headers as they are
                start, self.start, self.mode = self.start, None, _PASS
                await self._send(start)
            await self._send(message)
        elif self.mode == _GZIP:
            more_body = message.get("more_body", False)
            if not more_body:
                self.mode = _PASS
            await self._send({**message, "body": await self._compress(message.get("body", b""), more_body)})
        elif self.mode == _PASS:
            await self._send(message)
        else:
            await self._first_body(message)

    async def _first_body(self, message: Message) -> None:
        start, self.start = self.start, None
        assert start is not None, "http.response.body before http.response.start"
        body = message.get("body", b"")
        more_body = message.get("more_body", False)
        if not more_body and len(body) < self.middleware.minimum_size:
            self.mode = _PASS
            await self._send(start)
            await self._send(message)
            return
        # A copy: the app may send the header list of a Response object it reuses for every request.
        headers = MutableHeaders(raw=list(start.get("headers", ())))
        _add_vary(headers, "Accept-Encoding")
        if not self.accepts:
            self.mode = _PASS
            await self._send({**start, "headers": headers.raw})
            await self._send(message)
            return
        self.mode = _GZIP if more_body else _PASS
        body = await self._compress(body, more_body)
        headers["Content-Encoding"] = "gzip"
        if more_body or start.get("trailers", False):
            del headers["Content-Length"]
        else:
            headers["Content-Length"] = str(len(body))
        etag = headers.get("etag")
        if etag is not None and not etag.startswith("W/"):
            headers["ETag"] = "W/" + etag
        await self._send({**start, "headers": headers.raw})
        await self._send({**message, "body": body})

    async def _compress(self, body: bytes, more_body: bool) -> bytes:
        if len(body) >= self.middleware.thread_minimum_size:
            return await run_in_threadpool(self._deflate, body, more_body)
        return self._deflate(body, more_body)

    def _deflate(self, body: bytes, more_body: bool) -> bytes:
        if self.compressor is None:
            # wbits 16 + MAX_WBITS: a gzip header and trailer around the deflate stream.
            self.compressor = zlib.compressobj(self.middleware.compresslevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        if not more_body:
            return self.compressor.compress(body) + self.compressor.flush(zlib.Z_FINISH)
        if not body:
            return b""
        # Flush each chunk so the client can decode it now: a stream (progress, NDJSON) must not stall here.
        return self.compressor.compress(body) + self.compressor.flush(zlib.Z_SYNC_FLUSH)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value accepts gzip: listed (or covered by ``*``) with a q-value above 0."""
    gzip_q: float | None = None
    star_q: float | None = None
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip"):
            gzip_q = max(gzip_q or 0.0, _qvalue(params))
        elif coding == "*":
            star_q = _qvalue(params)
    if gzip_q is not None:
        return gzip_q > 0
    return star_q is not None and star_q > 0


def _qvalue(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0  # a malformed weight is not a yes
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


def _add_vary(headers: MutableHeaders, token: str) -> None:
    # Merges every Vary line: MutableHeaders.add_vary_header reads only the first and drops the others.
    lines = [line for line in headers.getlist("vary") if line.strip()]
    present = {part.strip().lower() for line in lines for part in line.split(",")}
    if token.lower() not in present and "*" not in present:
        headers["Vary"] = ", ".join([*lines, token])
