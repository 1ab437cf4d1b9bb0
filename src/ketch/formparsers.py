"""Form bodies, parsed while they stream in: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

This is the only module that imports python-multipart. Every limit in :class:`~ketch.limits.Limits` is enforced
as the bytes arrive, never after: a form that breaks one stops being read at that point. Every error is an
:class:`~ketch.exceptions.HTTPException` (400, or 413 for sizes), and on any error or cancellation every upload
created so far is closed before the error propagates, so no temporary file outlives a failed request.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser

from ketch.datastructures import FormData, Headers, UploadFile, spooled_file
from ketch.exceptions import HTTPException, RequestTooLarge
from ketch.limits import Limits

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = ["MAX_BOUNDARY_LENGTH", "MAX_HEADER_PARAMS", "MAX_PART_HEADER_LINE", "parse_form", "parse_options_header"]

MAX_BOUNDARY_LENGTH = 256
"""Bytes in a multipart boundary (RFC 2046 asks for at most 70); longer is a 400."""

MAX_PART_HEADER_LINE = 8 * 1024
"""Bytes in one multipart part header line (name and value); longer is a 400."""

MAX_HEADER_PARAMS = 64
"""Parameters in one ``Content-Type`` or ``Content-Disposition`` header; more is a 400 (a real one has a few)."""

_URLENCODED = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"

_NOT_AMPERSAND = re.compile(rb"[^&]")
_NOT_SPACE = re.compile(r"[^ \t]")
_PARAM_START = re.compile(r"[^; \t]")
# The rest of a quoted string up to its closing quote. Linear: at each position exactly one branch can match.
_QUOTED = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)

# python-multipart >= 0.0.27 bounds part headers itself. Ours (in the callbacks) stay the ones that fire first,
# with our messages; the parser's guard the bytes it scans before a callback sees them (spaces after a colon).
_PARSER_HAS_HEADER_LIMITS = "max_header_count" in inspect.signature(MultipartParser).parameters

_FormItems = list[tuple[str, UploadFile | str]]


async def parse_form(content_type: str, stream: AsyncIterator[bytes], limits: Limits) -> FormData:
    """Parse a request body as a form, according to its ``Content-Type``.

    Args:
        content_type: the request's ``Content-Type`` header; anything other than a urlencoded or multipart form
            gives an empty :class:`~ketch.datastructures.FormData` and leaves the body unread.
        stream: the body, chunk by chunk (``Request.stream()``, which already enforces ``max_body_size``).
        limits: the fields, files, part size, part headers and spooling limits to parse under.

    Returns:
        The fields as ``str`` and the files as :class:`~ketch.datastructures.UploadFile`, rewound to the start.

    Raises:
        HTTPException: 400 for a malformed form or too many fields, files or part headers; 413
            (:class:`~ketch.exceptions.RequestTooLarge`) for a field over ``max_part_size``.
    """
    media_type = content_type.partition(";")[0].strip(" \t").lower()
    if media_type == _URLENCODED:
        return await _parse_urlencoded(stream, limits)
    if media_type == _MULTIPART:
        return await _parse_multipart(content_type, stream, limits)
    return FormData()


def parse_options_header(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type/subtype; key=value; key="quoted value"`` into the lower-cased type and its parameters.

    Linear in the length of ``value`` whatever it holds, and bounded to :data:`MAX_HEADER_PARAMS` parameters: no
    regular expression here can backtrack more than once over what it read (CVE-2024-24762).

    Keys are lower-cased and the first of a repeated key wins. A quoted value loses its quotes and its ``\\"``
    and ``\\\\`` escapes; any other backslash is kept, as browsers send Windows paths unescaped. A parameter
    without ``=`` is skipped.

    Raises:
        ValueError: a quoted value is not terminated, or there are more than :data:`MAX_HEADER_PARAMS` parameters.
    """
    media_type, _, rest = value.partition(";")
    params: dict[str, str] = {}
    i, n = 0, len(rest)
    for _ in range(MAX_HEADER_PARAMS + 1):
        found = _PARAM_START.search(rest, i)  # PERF: runs of ';' and spaces are skipped at C speed
        if found is None:
            break
        i = found.start()
        semi = rest.find(";", i)
        end = n if semi == -1 else semi
        eq = rest.find("=", i, end)
        if eq == -1:
            i = end + 1
            continue
        key = rest[i:eq].strip(" \t").lower()
        found = _NOT_SPACE.search(rest, eq + 1, end)
        start = end if found is None else found.start()
        if start < n and rest[start] == '"':
            val, close = _read_quoted(rest, start + 1)
            # Whatever sits between the closing quote and the next ';' is not part of the value.
            semi = rest.find(";", close)
            i = n if semi == -1 else semi + 1
        else:
            val = rest[start:end].strip(" \t")
            i = end + 1
        if key and key not in params:
            params[key] = val
    else:
        raise ValueError(f"More than {MAX_HEADER_PARAMS} parameters")
    return media_type.strip(" \t").lower(), params


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """The quoted string opening just before ``start``, unescaped, and the index after its closing quote."""
    found = _QUOTED.match(text, start)
    if found is None:
        raise ValueError("Unterminated quoted string")
    value = text[start : found.end() - 1]
    if "\\" in value:
        # Read left to right, a doubled backslash is one backslash and backslash-quote is a quote; any other
        # backslash stays as sent (browsers send Windows paths unescaped).
        value = "\\".join(piece.replace('\\"', '"') for piece in value.split("\\\\"))
    return value, found.end()


def _decode(raw: bytes) -> str:
    """Text from form bytes: UTF-8, with U+FFFD for anything that is not valid UTF-8 (never an error)."""
    return raw.decode("utf-8", "replace")


def _too_many_fields(limit: int) -> HTTPException:
    return HTTPException(400, f"Too many fields. Maximum number of fields is {limit}.")


def _field_too_large(limit: int) -> RequestTooLarge:
    return RequestTooLarge(f"Form field is too large. Maximum size is {limit} bytes.")


def _too_many_headers(limit: int) -> HTTPException:
    return HTTPException(400, f"Too many headers in a multipart part. Maximum is {limit}.")


# -- application/x-www-form-urlencoded ---------------------------------------------------------------------------


async def _parse_urlencoded(stream: AsyncIterator[bytes], limits: Limits) -> FormData:
    reader = _UrlencodedReader(limits)
    async for chunk in stream:
        reader.feed(chunk)
    reader.end_field()
    return FormData(reader.items)


class _UrlencodedReader:
    """Splits ``a=1&b=2`` into fields as chunks arrive, holding at most one field (``max_part_size``) at a time."""

    __slots__ = ("items", "pieces", "size", "max_fields", "max_size")

    def __init__(self, limits: Limits) -> None:
        self.items: _FormItems = []
        self.pieces: list[bytes] = []  # the raw bytes of the field being read
        self.size = 0
        self.max_fields = limits.max_form_fields
        self.max_size = limits.max_part_size

    def feed(self, chunk: bytes) -> None:
        # PERF: one find per field and a C-speed skip over runs of '&', so a body of separators costs no
        # Python work per byte.
        pos, n = 0, len(chunk)
        while pos < n:
            amp = chunk.find(b"&", pos)
            end = n if amp == -1 else amp
            if end > pos:
                self.grow(end - pos)
                self.pieces.append(chunk if end - pos == n else chunk[pos:end])
            if amp == -1:
                return
            self.end_field()
            found = _NOT_AMPERSAND.search(chunk, amp)
            pos = n if found is None else found.start()

    def grow(self, size: int) -> None:
        """Check the limits before ``size`` more bytes of the current field are kept."""
        if not self.pieces and self.max_fields is not None and len(self.items) >= self.max_fields:
            raise _too_many_fields(self.max_fields)
        self.size += size
        if self.max_size is not None and self.size > self.max_size:
            raise _field_too_large(self.max_size)

    def end_field(self) -> None:
        if not self.pieces:
            return
        raw = b"".join(self.pieces)
        self.pieces, self.size = [], 0
        name, _, value = raw.partition(b"=")
        self.items.append((_unquote_plus(name), _unquote_plus(value)))


def _unquote_plus(raw: bytes) -> str:
    return _decode(unquote_to_bytes(raw.replace(b"+", b" ")))


# -- multipart/form-data ------------------------------------------------------------------------------------------


async def _parse_multipart(content_type: str, stream: AsyncIterator[bytes], limits: Limits) -> FormData:
    reader = _MultipartReader(_boundary(content_type), limits)
    try:
        async for chunk in stream:
            reader.feed(chunk)
            await reader.flush()
        reader.check_complete()
        for upload in reader.uploads:
            await upload.seek(0)
    except BaseException:
        reader.discard()
        raise
    return FormData(reader.items)


def _boundary(content_type: str) -> bytes:
    try:
        _, params = parse_options_header(content_type)
    except ValueError:
        raise HTTPException(400, "Invalid Content-Type header.") from None
    boundary = params.get("boundary")
    if not boundary:
        raise HTTPException(400, "Missing boundary in multipart.")
    if len(boundary) > MAX_BOUNDARY_LENGTH:
        raise HTTPException(400, f"Multipart boundary is too long. Maximum length is {MAX_BOUNDARY_LENGTH} bytes.")
    return boundary.encode("latin-1")


class _MultipartReader:
    """Builds the form from python-multipart's callbacks, one part at a time, under the limits.

    The callbacks are synchronous, so file data is queued in ``pending`` and written by :meth:`flush` after
    each chunk: a file that has rolled over to disk is written on the thread pool, never on the event loop.
    """

    def __init__(self, boundary: bytes, limits: Limits) -> None:
        self.limits = limits
        self.items: _FormItems = []
        self.uploads: list[UploadFile] = []  # every upload created, for seek(0) or cleanup
        self.pending: list[tuple[UploadFile, bytes]] = []
        self.fields = 0
        self.received = False
        self.ended = False
        # The part being read.
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_name: list[bytes] = []
        self.header_value: list[bytes] = []
        self.header_size = 0
        self.name = ""
        self.upload: UploadFile | None = None
        self.data: list[bytes] = []
        self.data_size = 0
        callbacks: MultipartCallbacks = {
            "on_part_begin": self.on_part_begin,
            "on_header_begin": self.on_header_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }
        if _PARSER_HAS_HEADER_LIMITS:
            self.parser = MultipartParser(
                boundary,
                callbacks,
                max_header_count=limits.max_part_headers + 1,
                max_header_size=MAX_PART_HEADER_LINE + 128,  # + ": " and leading spaces, which ours skips
            )
        else:  # pragma: no cover  # python-multipart < 0.0.27
            self.parser = MultipartParser(boundary, callbacks)

    # -- driving the parser --

    def feed(self, chunk: bytes) -> None:
        self.received = self.received or bool(chunk)
        try:
            self.parser.write(chunk)
        except FormParserError as exc:
            raise HTTPException(400, _parser_error_detail(exc, self.limits)) from None

    async def flush(self) -> None:
        pending, self.pending = self.pending, []
        for upload, data in pending:
            await upload.write(data)

    def check_complete(self) -> None:
        # An empty body is an empty form (as Starlette has it); anything else must reach the closing boundary.
        if self.received and not self.ended:
            raise HTTPException(400, "Malformed multipart body: missing final boundary.")

    def discard(self) -> None:
        """Close every upload created so far (a rolled-over one deletes its temporary file)."""
        # Synchronous on purpose: closing a temporary file is quick, and it must happen even while cancelled.
        self.pending = []
        for upload in self.uploads:
            upload.file.close()

    # -- python-multipart callbacks --

    def on_part_begin(self) -> None:
        self.headers = []
        self.upload = None
        self.data = []
        self.data_size = 0

    def on_header_begin(self) -> None:
        if len(self.headers) >= self.limits.max_part_headers:
            raise _too_many_headers(self.limits.max_part_headers)
        self.header_name, self.header_value, self.header_size = [], [], 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.grow_header(end - start)
        self.header_name.append(data[start:end])

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.grow_header(end - start)
        self.header_value.append(data[start:end])

    def grow_header(self, size: int) -> None:
        self.header_size += size
        if self.header_size > MAX_PART_HEADER_LINE:
            raise HTTPException(400, _HEADER_TOO_LARGE)

    def on_header_end(self) -> None:
        name = b"".join(self.header_name).strip().lower()
        self.headers.append((name, b"".join(self.header_value).strip()))

    def on_headers_finished(self) -> None:
        name, filename = _disposition(self.headers)
        self.name = name
        if filename is None:
            self.fields += 1
            limit = self.limits.max_form_fields
            if limit is not None and self.fields > limit:
                raise _too_many_fields(limit)
            return
        limit = self.limits.max_form_files
        if limit is not None and len(self.uploads) >= limit:
            raise HTTPException(400, f"Too many files. Maximum number of files is {limit}.")
        upload = UploadFile(
            spooled_file(self.limits.spool_max_size), size=0, filename=filename, headers=Headers(raw=self.headers)
        )
        self.uploads.append(upload)
        self.upload = upload

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.upload is not None:
            self.pending.append((self.upload, data[start:end]))
            return
        self.data_size += end - start
        limit = self.limits.max_part_size
        if limit is not None and self.data_size > limit:
            raise _field_too_large(limit)
        self.data.append(data[start:end])

    def on_part_end(self) -> None:
        if self.upload is not None:
            self.items.append((self.name, self.upload))
        else:
            self.items.append((self.name, _decode(b"".join(self.data))))

    def on_end(self) -> None:
        self.ended = True


_HEADER_TOO_LARGE = f"A multipart part header is too large. Maximum is {MAX_PART_HEADER_LINE} bytes."


def _parser_error_detail(exc: FormParserError, limits: Limits) -> str:
    message = str(exc)
    if "header size" in message:
        return _HEADER_TOO_LARGE
    if "header count" in message:
        return str(_too_many_headers(limits.max_part_headers).detail)
    return f"Malformed multipart body: {message}"


def _disposition(headers: list[tuple[bytes, bytes]]) -> tuple[str, str | None]:
    """The part's field name and filename (None for a plain field) from its ``Content-Disposition``."""
    raw = next((value for name, value in headers if name == b"content-disposition"), None)
    if raw is None:
        raise HTTPException(400, 'The Content-Disposition header field "name" must be provided.')
    try:
        _, params = parse_options_header(raw.decode("latin-1"))
    except ValueError:
        raise HTTPException(400, "Invalid Content-Disposition header in a multipart part.") from None
    if "name" not in params:
        raise HTTPException(400, 'The Content-Disposition header field "name" must be provided.')
    name = _decode(params["name"].encode("latin-1"))
    # The plain filename wins over RFC 2231's filename* (CVE-2026-24486); the raw value is kept, unsanitised:
    # UploadFile.safe_filename() and save() make it safe to use as a path.
    if "filename" in params:
        return name, _decode(params["filename"].encode("latin-1"))
    if "filename*" in params:
        return name, _decode_rfc2231(params["filename*"])
    return name, None


def _decode_rfc2231(value: str) -> str:
    """``UTF-8''na%C3%AFve.txt`` to ``naïve.txt``; an unknown charset is read as UTF-8."""
    charset, _, rest = value.partition("'")
    _, quote, encoded = rest.partition("'")
    if not quote:
        charset, encoded = "utf-8", value
    raw = unquote_to_bytes(encoded.encode("latin-1"))
    try:
        return raw.decode(charset or "utf-8", "replace")
    except LookupError:
        return _decode(raw)
