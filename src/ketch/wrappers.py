"""The classic face's request and response: Flask's ``Request`` and ``Response`` API over ketch's own.

A classic route gets a :class:`Request` whose body was read (under the route's limits) before the view runs, so
``request.form``, ``request.files``, ``request.get_json()`` and ``request.data`` are plain attributes, as in
Flask, in sync and async views alike. :class:`Response` takes Flask's constructor (``status``, ``mimetype``,
``content_type``, iterables that stream) and is an ordinary ketch ASGI response.
"""

from __future__ import annotations

import base64
import http
import io
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from ketch.datastructures import Headers, ImmutableMultiDict, MutableHeaders, UploadFile, encode_header
from ketch.exceptions import HTTPException
from ketch.json import loads
from ketch.limits import DEFAULT_LIMITS, Limits
from ketch.requests import Request as CoreRequest
from ketch.requests import empty_receive
from ketch.responses import Response as CoreResponse
from ketch.responses import StreamingResponse, build_cookie
from ketch.types import Receive, Scope, Send

__all__ = [
    "AfterRequestCallable",
    "AppOrBlueprintKey",
    "Authorization",
    "BadRequestKeyError",
    "BeforeRequestCallable",
    "ErrorHandlerCallable",
    "FileStorage",
    "FormMultiDict",
    "HeaderValue",
    "HeadersValue",
    "Request",
    "Response",
    "ResponseClass",
    "ResponseHeaders",
    "ResponseReturnValue",
    "ResponseValue",
    "RouteCallable",
    "ShellContextProcessorCallable",
    "TeardownCallable",
    "TemplateContextProcessorCallable",
    "TemplateFilterCallable",
    "TemplateGlobalCallable",
    "TemplateTestCallable",
    "URLDefaultCallable",
    "URLValuePreprocessorCallable",
    "content_type_for",
    "status_line",
]

_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Werkzeug adds a charset to text types and to these (and to any "+xml" type).
_CHARSET_TYPES = frozenset(
    {
        "application/ecmascript",
        "application/javascript",
        "application/sql",
        "application/xml",
        "application/xml-dtd",
        "application/xml-external-parsed-entity",
    }
)


def content_type_for(mimetype: str, charset: str = "utf-8") -> str:
    """``text/html`` -> ``text/html; charset=utf-8``; types that are not text stay as they are."""
    if mimetype.startswith("text/") or mimetype in _CHARSET_TYPES or mimetype.endswith("+xml"):
        return f"{mimetype}; charset={charset}"
    return mimetype


_CONTENT_TYPE_HEADERS: dict[tuple[str, str], bytes] = {}


def _content_type_header(mimetype: str, charset: str) -> bytes:
    """The encoded, validated ``Content-Type`` value for a mimetype (cached: a few types cover most responses)."""
    key = (mimetype, charset)
    value = _CONTENT_TYPE_HEADERS.get(key)
    if value is None:
        value = encode_header("content-type", content_type_for(mimetype, charset))[1]
        if len(_CONTENT_TYPE_HEADERS) < 256:
            _CONTENT_TYPE_HEADERS[key] = value
    return value


def status_line(code: int) -> str:
    """``404`` -> ``"404 NOT FOUND"``, the form Werkzeug's ``response.status`` has."""
    try:
        return f"{code} {http.HTTPStatus(code).phrase.upper()}"
    except ValueError:
        return f"{code} UNKNOWN"


class BadRequestKeyError(HTTPException, KeyError):
    """``request.form["missing"]``: a ``KeyError`` that answers 400 when nobody catches it."""

    def __init__(self, key: str) -> None:
        super().__init__(400, "The browser (or proxy) sent a request that this server could not understand.")
        self.key = key

    def __str__(self) -> str:
        return f"400 Bad Request: {self.detail}"


class FormMultiDict(ImmutableMultiDict[Any]):
    """Flask's ``MultiDict`` reading API: ``d[key]`` is the first value (a 400 if missing), ``get(type=)``."""

    __slots__ = ("_key_error",)

    def __init__(
        self,
        items: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        key_error: Callable[[str], Exception] | None = None,
    ) -> None:
        if type(items) is list:  # PERF: pairs already (a parsed query string or form): no type checks
            self._list = list(items)
            self._dict = dict(self._list)
        else:
            super().__init__(items)
        self._key_error = key_error or BadRequestKeyError
        # The first value wins for d[key], as in Werkzeug (ketch's own multi-dicts keep the last).
        # PERF: only a key given twice needs another pass (the keys are already in first-seen order).
        if len(self._dict) != len(self._list):
            first: dict[str, Any] = {}
            for key, value in self._list:
                first.setdefault(key, value)
            self._dict = first

    def __getitem__(self, key: str) -> Any:
        try:
            return self._dict[key]
        except KeyError:
            raise self._key_error(key) from None

    def get(self, key: str, default: Any = None, type: Callable[[Any], Any] | None = None) -> Any:
        """The first value for ``key`` converted by ``type``; ``default`` if missing or if ``type`` raises."""
        if key not in self._dict:
            return default
        value = self._dict[key]
        if type is None:
            return value
        try:
            return type(value)
        except (ValueError, TypeError):
            return default

    def getlist(self, key: str, type: Callable[[Any], Any] | None = None) -> list[Any]:
        """Every value for ``key``; with ``type``, the ones it converts (the rest are skipped)."""
        values = super().getlist(key)
        if type is None:
            return values
        converted = []
        for value in values:
            try:
                converted.append(type(value))
            except (ValueError, TypeError):
                continue
        return converted

    def to_dict(self, flat: bool = True) -> dict[str, Any]:
        """``{key: first value}``, or ``{key: [values]}`` with ``flat=False``."""
        if flat:
            return dict(self._dict)
        return {key: self.getlist(key) for key in self._dict}

    def lists(self) -> Iterator[tuple[str, list[Any]]]:
        for key in self._dict:
            yield key, self.getlist(key)


class FileStorage:
    """An uploaded file with Werkzeug's synchronous API (``save``, ``read``, ``stream``, ``filename``)."""

    def __init__(self, upload: UploadFile, name: str | None = None) -> None:
        self.upload = upload
        self.name = name
        self.filename = upload.filename
        self.headers = upload.headers

    @property
    def stream(self) -> Any:
        return self.upload.file

    @property
    def content_type(self) -> str | None:
        return self.upload.content_type

    @property
    def mimetype(self) -> str:
        return (self.content_type or "").split(";")[0].strip().lower()

    @property
    def content_length(self) -> int:
        return self.upload.size or 0

    def read(self, size: int = -1) -> bytes:
        return self.upload.file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.upload.file.seek(offset, whence)

    def save(self, dst: Any, buffer_size: int = 16384) -> None:
        """Copy the file to ``dst`` (a path or a writable file). The path is used as given: pass it through
        ``ketch.datastructures.safe_filename`` when it comes from the client."""
        self.upload.file.seek(0)
        if isinstance(dst, str | bytes) or hasattr(dst, "__fspath__"):
            with open(dst, "wb") as out:
                _copy(self.upload.file, out, buffer_size)
        else:
            _copy(self.upload.file, dst, buffer_size)

    def close(self) -> None:
        self.upload.file.close()

    def __bool__(self) -> bool:
        return bool(self.filename)

    def __repr__(self) -> str:
        return f"<FileStorage: {self.filename!r} ({self.content_type!r})>"


def _copy(source: Any, target: Any, size: int) -> None:
    while chunk := source.read(size):
        target.write(chunk)


class Authorization:
    """A parsed ``Authorization`` header: ``type``, and ``username``/``password`` (basic) or ``token``."""

    def __init__(self, auth_type: str, data: dict[str, str] | None = None, token: str | None = None) -> None:
        self.type = auth_type
        self.parameters = data or {}
        self.token = token

    @property
    def username(self) -> str | None:
        return self.parameters.get("username")

    @property
    def password(self) -> str | None:
        return self.parameters.get("password")

    def get(self, key: str, default: Any = None) -> Any:
        return self.parameters.get(key, default)

    def __getitem__(self, key: str) -> str:
        return self.parameters[key]

    @classmethod
    def from_header(cls, value: str | None) -> Authorization | None:
        if not value or " " not in value:
            return None
        scheme, rest = value.split(" ", 1)
        scheme, rest = scheme.lower(), rest.strip()
        if scheme == "basic":
            try:
                decoded = base64.b64decode(rest, validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return None
            username, _, password = decoded.partition(":")
            return cls("basic", {"username": username, "password": password})
        return cls(scheme, token=rest)


def _parse_options(header: str) -> tuple[str, dict[str, str]]:
    mimetype, _, rest = header.partition(";")
    params: dict[str, str] = {}
    for part in rest.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            params[key.strip().lower()] = value.strip().strip('"')
    return mimetype.strip().lower(), params


class Request(CoreRequest):
    """The request a classic view sees as ``request``: Flask's attributes over a ketch request.

    ``form``, ``files``, ``values``, ``data``, ``json`` and ``stream`` are properties here (the body was read
    before the view ran); the core's ``await request.form()`` is not used on this class. ``url`` and
    ``base_url`` are strings, as in Flask.
    """

    # Flask's request takes arbitrary attributes (``request.user = ...``): no __slots__ here, on purpose.

    #: What ``args[...]``/``form[...]``/``files[...]`` raise for a missing key (a KeyError that answers 400).
    key_error_class: Callable[[str], Exception] = BadRequestKeyError

    def __init__(self, scope: Scope, receive: Receive = empty_receive, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(scope, receive, limits)
        self.url_rule: Any = None
        self.view_args: dict[str, Any] | None = None
        self.routing_exception: BaseException | None = None
        # A body error (bad multipart...) found while reading ahead: raised when the body is first touched.
        self.body_error: HTTPException | None = None
        self._args: FormMultiDict | None = None
        self._form_fields: FormMultiDict | None = None
        self._files: FormMultiDict | None = None
        self._cached_json: Any = _UNSET

    # -- routing ---------------------------------------------------------------------------------------------

    @property
    def endpoint(self) -> str | None:
        return getattr(self.url_rule, "endpoint", None)

    @property
    def blueprint(self) -> str | None:
        endpoint = self.endpoint
        if endpoint is not None and "." in endpoint:
            return endpoint.rpartition(".")[0]
        return None

    @property
    def blueprints(self) -> list[str]:
        """The current blueprint and its parents, innermost first (``["a.b", "a"]``)."""
        name = self.blueprint
        if name is None:
            return []
        parts = name.split(".")
        return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]

    # -- URL -------------------------------------------------------------------------------------------------

    @property
    def script_root(self) -> str:
        return str(self.scope.get("root_path", "")).rstrip("/")

    @property
    def path(self) -> str:
        path: str = self.scope["path"]
        root = self.script_root
        if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
            path = path[len(root) :]
        return path or "/"

    @property
    def query_string(self) -> bytes:
        return self.scope.get("query_string", b"")  # type: ignore[no-any-return]

    @property
    def full_path(self) -> str:
        return f"{self.path}?{self.query_string.decode('latin-1')}"

    @property
    def scheme(self) -> str:
        return str(self.scope.get("scheme", "http"))

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    @property
    def host_url(self) -> str:
        return f"{self.scheme}://{self.host}/"

    @property
    def url_root(self) -> str:
        return f"{self.scheme}://{self.host}{_quote_path(self.script_root)}/"

    root_url = url_root

    @property
    def base_url(self) -> str:  # type: ignore[override]  # Flask's is a string
        return f"{self.scheme}://{self.host}{_quote_path(self.script_root)}{_quote_path(self.path)}"

    @property
    def url(self) -> str:  # type: ignore[override]  # Flask's is a string
        query = self.query_string
        if query:
            return f"{self.base_url}?{quote(query.decode('latin-1'), safe=_QUERY_SAFE)}"
        return self.base_url

    @property
    def args(self) -> FormMultiDict:
        """The query string (``?page=2``) as a multi-dict; ``args["missing"]`` is a 400."""
        if self._args is None:
            self._args = FormMultiDict(self.query_params._list, self.key_error_class)  # copied by FormMultiDict
        return self._args

    @property
    def remote_addr(self) -> str | None:
        client = self.scope.get("client")
        return str(client[0]) if client else None

    @property
    def access_route(self) -> list[str]:
        forwarded = self.headers.get("x-forwarded-for")
        if forwarded:
            return [part.strip() for part in forwarded.split(",") if part.strip()]
        return [self.remote_addr] if self.remote_addr else []

    # -- headers ---------------------------------------------------------------------------------------------

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def mimetype(self) -> str:
        return _parse_options(self.content_type or "")[0]

    @property
    def mimetype_params(self) -> dict[str, str]:
        return _parse_options(self.content_type or "")[1]

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    @property
    def max_content_length(self) -> int | None:
        return self.limits.max_body_size

    @property
    def referrer(self) -> str | None:
        return self.headers.get("referer")

    @property
    def origin(self) -> str | None:
        return self.headers.get("origin")

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent", "")

    @property
    def authorization(self) -> Authorization | None:
        return Authorization.from_header(self.headers.get("authorization"))

    @property
    def is_json(self) -> bool:
        mimetype = self.mimetype
        return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))

    # -- body ------------------------------------------------------------------------------------------------

    async def load_body(self) -> None:
        """Read the body now (under the limits), so the properties below never wait: a multipart body is parsed
        as it streams in (files spooled); any other body is kept as bytes, and a urlencoded one parsed from them."""
        from ketch.formparsers import parse_form

        content_type = self.headers.get("content-type", "")
        mimetype = self.mimetype
        if mimetype == "multipart/form-data":
            self._form = await parse_form(content_type, CoreRequest.stream(self), self.limits)
            return
        self._body = b"".join([chunk async for chunk in CoreRequest.stream(self)])
        if mimetype == "application/x-www-form-urlencoded":
            self._form = await parse_form(content_type, CoreRequest.stream(self), self.limits)

    def _check_body(self) -> None:
        if self.body_error is not None:
            raise self.body_error

    def _split_form(self) -> None:
        self._check_body()
        fields: list[tuple[str, Any]] = []
        files: list[tuple[str, Any]] = []
        if self._form is not None:
            for key, value in self._form.multi_items():
                if isinstance(value, UploadFile):
                    files.append((key, FileStorage(value, key)))
                else:
                    fields.append((key, value))
        self._form_fields = FormMultiDict(fields, self.key_error_class)
        self._files = FormMultiDict(files, self.key_error_class)

    @property
    def form(self) -> FormMultiDict:  # type: ignore[override]  # Flask's is a property, read ahead of the view
        """The form fields of a urlencoded or multipart body; ``form["missing"]`` is a 400."""
        if self._form_fields is None:
            self._split_form()
        assert self._form_fields is not None
        return self._form_fields

    @property
    def files(self) -> FormMultiDict:
        """The uploaded files of a multipart body, as :class:`FileStorage`."""
        if self._files is None:
            self._split_form()
        assert self._files is not None
        return self._files

    @property
    def values(self) -> FormMultiDict:  # type: ignore[override]  # Flask's is a property
        """``args`` then ``form`` (``form`` only counts for methods other than GET)."""
        pairs = list(self.args.multi_items())
        if self.method != "GET":
            pairs += self.form.multi_items()
        return FormMultiDict(pairs, self.key_error_class)

    def get_data(self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False) -> Any:
        """The raw body (empty for a multipart body, which was parsed as it arrived)."""
        self._check_body()
        if parse_form_data and self.mimetype in _FORM_TYPES:
            data = b""
        else:
            data = self._body or b""
        return data.decode("utf-8", "replace") if as_text else data

    @property
    def data(self) -> bytes:
        """The body when it is not form data (Flask gives ``b""`` for forms)."""
        return self.get_data(parse_form_data=True)  # type: ignore[no-any-return]

    @property
    def stream(self) -> io.BytesIO:  # type: ignore[override]  # Flask's is a file-like object
        return io.BytesIO(self.get_data())

    @property
    def json(self) -> Any:  # Flask's is a property
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The body parsed as JSON: 415 if the body is not JSON (unless ``force``), 400 if it does not parse,
        ``None`` instead of either error with ``silent``."""
        if cache and self._cached_json is not _UNSET:
            return self._cached_json
        if not (force or self.is_json):
            if silent:
                return None
            return self.on_json_loading_failed(None)
        try:
            value = loads(self.get_data())
        except ValueError as exc:
            if silent:
                return None
            value = self.on_json_loading_failed(exc)
        if cache:
            self._cached_json = value
        return value

    def on_json_loading_failed(self, exc: ValueError | None) -> Any:
        """Called when the body is not (valid) JSON: 400, or 415 when the Content-Type is not JSON."""
        if exc is not None:
            raise HTTPException(400, f"Failed to decode JSON object: {exc}")
        raise HTTPException(
            415,
            "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.",
        )

    @property
    def environ(self) -> dict[str, Any]:
        """A WSGI-like view of the request, for code that reads ``request.environ``."""
        client = self.scope.get("client") or ("", 0)
        server = self.scope.get("server") or ("", 0)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.method,
            "SCRIPT_NAME": self.script_root,
            "PATH_INFO": self.path,
            "QUERY_STRING": self.query_string.decode("latin-1"),
            "REMOTE_ADDR": client[0],
            "SERVER_NAME": server[0],
            "SERVER_PORT": str(server[1]),
            "SERVER_PROTOCOL": f"HTTP/{self.scope.get('http_version', '1.1')}",
            "wsgi.url_scheme": self.scheme,
            "asgi.scope": self.scope,
        }
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[name] = value
            else:
                environ["HTTP_" + name] = value
        return environ

    def __repr__(self) -> str:
        return f"<Request {self.url!r} [{self.method}]>"


_UNSET: Any = object()
_PATH_SAFE = "!$&'()*+,/:;=@%"
_QUERY_SAFE = "!$&'()*+,/:;=?@%"


def _quote_path(path: str) -> str:
    return quote(path, safe=_PATH_SAFE)


class ResponseHeaders(MutableHeaders):
    """Response headers with Werkzeug's methods too: ``add``, ``set``, ``extend``, ``get(type=)``."""

    __slots__ = ()

    def add(self, key: str, value: Any, **params: Any) -> None:
        """Add a header line (``params`` become ``; key=value`` options, as for Content-Disposition)."""
        text = str(value)
        for name, param in params.items():
            text += f'; {name.replace("_", "-")}="{param}"' if param is not None else f"; {name}"
        self.append(key, text)

    add_header = add

    def set(self, key: str, value: Any) -> None:
        self[key] = str(value)

    def extend(self, *args: Any, **kwargs: Any) -> None:
        for arg in args:
            items = arg.items() if isinstance(arg, Mapping | Headers) else arg
            for key, value in items:
                self.append(key, str(value))
        for key, value in kwargs.items():
            self.append(key, str(value))

    def get(self, key: str, default: Any = None, type: Callable[[str], Any] | None = None) -> Any:
        try:
            value = self[key]
        except KeyError:
            return default
        if type is None:
            return value
        try:
            return type(value)
        except (ValueError, TypeError):
            return default

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Replace each named header with the given value(s), as Werkzeug's ``Headers.update`` does."""
        pairs: list[tuple[str, Any]] = []
        for arg in args:
            items = arg.items() if isinstance(arg, Mapping | Headers) else arg
            pairs.extend(items)
        pairs.extend(kwargs.items())
        seen: set[str] = set()
        for key, value in pairs:
            if key.lower() not in seen:
                del self[key]
                seen.add(key.lower())
            for item in value if isinstance(value, list | tuple) else [value]:
                self.append(key, str(item))


# Bodies sent in one piece (a tuple: ``str | bytes | ...`` would build a union object on every call).
_SIZED_BODIES = (str, bytes, bytearray, memoryview)


class Response(StreamingResponse):
    """Flask's response: ``Response(body, status=200, headers=None, mimetype=None, content_type=None)``.

    ``body`` may be ``str``, ``bytes`` or an iterable of either (streamed as it is produced). ``status`` may be an
    int or a status line (``"201 CREATED"``). ``response.data``, ``response.status`` and ``response.mimetype`` can
    be read and set.
    """

    default_mimetype: str | None = "text/html"
    default_status = 200
    charset = "utf-8"

    def __init__(
        self,
        response: Any = None,
        status: int | str | http.HTTPStatus | None = None,
        headers: Any = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
        background: Any = None,
    ) -> None:
        self.background = background
        self.direct_passthrough = direct_passthrough
        self.status_code = self.default_status
        if status is not None:
            self.status = status
        self.body_iterator: Any = None
        if type(response) is str and headers is None and content_type is None:
            # PERF: the usual response (a view returned a rendered template): two known headers, no other checks.
            self.body = body = response.encode(self.charset)
            mimetype = mimetype or self.default_mimetype
            if mimetype is None:
                self.raw_headers = [(b"content-length", b"%d" % len(body))]
            else:
                content_type_value = _content_type_header(mimetype, self.charset)
                self.raw_headers = [(b"content-type", content_type_value), (b"content-length", b"%d" % len(body))]
            return
        self.body = b""
        self.raw_headers = []
        sized = response is None or isinstance(response, _SIZED_BODIES)
        if headers is None and content_type is None:
            # PERF: the common case (a view returned a str): two known headers, no lookups or re-validation.
            if sized:
                self.body = response.encode(self.charset) if isinstance(response, str) else bytes(response or b"")
            else:
                self.body_iterator = response
            mimetype = mimetype or self.default_mimetype
            if mimetype is not None:
                self.raw_headers.append((b"content-type", _content_type_header(mimetype, self.charset)))
            if sized:
                self.raw_headers.append((b"content-length", str(len(self.body)).encode()))
            return
        headers_out = self.headers
        if headers is not None:
            headers_out.extend(headers)
        if content_type is None and "content-type" not in headers_out:
            mimetype = mimetype or self.default_mimetype
            if mimetype is not None:
                content_type = content_type_for(mimetype, self.charset)
        if content_type is not None:
            headers_out["content-type"] = content_type
        if sized:
            self.set_data(response or b"")
        else:
            self.body_iterator = response

    # -- body ------------------------------------------------------------------------------------------------

    @property
    def sized_body(self) -> bool:  # type: ignore[override]
        return self.body_iterator is None

    @property
    def is_streamed(self) -> bool:
        return self.body_iterator is not None

    def set_data(self, value: str | bytes | bytearray | memoryview) -> None:
        """Replace the body (and its Content-Length)."""
        self.body = value.encode(self.charset) if isinstance(value, str) else bytes(value)
        self.body_iterator = None
        headers = self.headers
        headers["content-length"] = str(len(self.body))

    def get_data(self, as_text: bool = False) -> Any:
        """The body as bytes (or text); a streamed body that is a list or tuple is joined, others are not read."""
        if self.body_iterator is not None and isinstance(self.body_iterator, list | tuple):
            self.set_data(b"".join(c.encode(self.charset) if isinstance(c, str) else c for c in self.body_iterator))
        return self.body.decode(self.charset) if as_text else self.body

    @property
    def data(self) -> bytes:
        return self.get_data()  # type: ignore[no-any-return]

    @data.setter
    def data(self, value: str | bytes) -> None:
        self.set_data(value)

    @property
    def text(self) -> str:
        return self.get_data(as_text=True)  # type: ignore[no-any-return]

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        if not (force or self.is_json):
            return None
        try:
            return loads(self.get_data())
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self) -> Any:
        return self.get_json()

    # -- status and headers ----------------------------------------------------------------------------------

    @property
    def status(self) -> str:
        return status_line(self.status_code)

    @status.setter
    def status(self, value: int | str | http.HTTPStatus) -> None:
        if isinstance(value, int):
            self.status_code = int(value)
            return
        code = value.strip().split(" ", 1)[0]
        if not code.isdigit():
            raise ValueError("Empty status argument") if not code else ValueError(f"Invalid status {value!r}")
        self.status_code = int(code)

    @property
    def headers(self) -> ResponseHeaders:
        return ResponseHeaders(raw=self.raw_headers)

    @headers.setter
    def headers(self, value: Any) -> None:
        self.raw_headers = []
        self.headers.extend(value)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")  # type: ignore[no-any-return]

    @content_type.setter
    def content_type(self, value: str) -> None:
        self.headers["content-type"] = value

    @property
    def mimetype(self) -> str | None:
        value = self.content_type
        return _parse_options(value)[0] if value else None

    @mimetype.setter
    def mimetype(self, value: str) -> None:
        self.headers["content-type"] = content_type_for(value, self.charset)

    @property
    def mimetype_params(self) -> dict[str, str]:
        return _parse_options(self.content_type or "")[1]

    @property
    def is_json(self) -> bool:
        mimetype = self.mimetype or ""
        return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value is not None and value.isdigit() else None

    @property
    def location(self) -> str | None:
        return self.headers.get("location")  # type: ignore[no-any-return]

    @location.setter
    def location(self, value: str) -> None:
        self.headers["location"] = value

    @property
    def vary(self) -> list[str]:
        return [v.strip() for line in self.headers.getlist("vary") for v in line.split(",") if v.strip()]

    def add_vary(self, value: str) -> None:
        """Add ``value`` to ``Vary`` unless it is there."""
        self.headers.add_vary_header(value)

    def set_cookie(  # Flask's defaults: no HttpOnly, no SameSite unless asked
        self,
        key: str,
        value: str = "",
        max_age: Any = None,
        expires: datetime | str | int | float | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool | None = False,
        samesite: Literal["Lax", "Strict", "None", "lax", "strict", "none"] | None = None,
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header with Flask's defaults; ``;``, CR, LF and control characters raise."""
        if hasattr(max_age, "total_seconds"):
            max_age = int(max_age.total_seconds())
        if isinstance(expires, int | float) and not isinstance(expires, bool):
            expires = datetime.fromtimestamp(expires).astimezone()
        cookie = build_cookie(
            key, value, max_age=max_age, expires=expires, path=path, domain=domain, secure=secure,
            httponly=bool(httponly), samesite=samesite.lower() if samesite else None, partitioned=partitioned,
        )  # fmt: skip
        self.raw_headers.append((b"set-cookie", cookie.encode("latin-1")))

    def delete_cookie(
        self,
        key: str,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool | None = False,
        samesite: Literal["Lax", "Strict", "None", "lax", "strict", "none"] | None = None,
        partitioned: bool = False,
    ) -> None:
        """Expire the cookie ``key`` now."""
        self.set_cookie(
            key, "", max_age=0, expires=0, path=path, domain=domain, secure=secure, httponly=httponly,
            samesite=samesite, partitioned=partitioned,
        )  # fmt: skip

    # -- sending ---------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.body_iterator is None:
            await CoreResponse.__call__(self, scope, receive, send)
            return
        if not isinstance(self.body_iterator, AsyncIterable):
            from ketch.concurrency import iterate_in_threadpool

            self.body_iterator = iterate_in_threadpool(self.body_iterator)
        await StreamingResponse.__call__(self, scope, receive, send)

    def __repr__(self) -> str:
        size = "streamed" if self.is_streamed else f"{len(self.body)} bytes"
        return f"<{type(self).__name__} {size} [{self.status}]>"


# -- what views and hooks may be (Flask's ``flask.typing``) ---------------------------------------------------

ResponseValue = Any
"""What a view may return as a body: a Response, str, bytes, a list or dict (JSON), or an iterator."""
HeaderValue = str | list[str] | tuple[str, ...]
HeadersValue = Any
ResponseReturnValue = Any
"""A body, or ``(body, status)``, ``(body, headers)``, ``(body, status, headers)``."""
ResponseClass = Response
AppOrBlueprintKey = str | None
AfterRequestCallable = Callable[..., Any]
BeforeRequestCallable = Callable[[], Any]
ShellContextProcessorCallable = Callable[[], dict[str, Any]]
TeardownCallable = Callable[[BaseException | None], None]
TemplateContextProcessorCallable = Callable[[], dict[str, Any]]
TemplateFilterCallable = Callable[..., Any]
TemplateGlobalCallable = Callable[..., Any]
TemplateTestCallable = Callable[..., bool]
URLDefaultCallable = Callable[[str, dict[str, Any]], None]
URLValuePreprocessorCallable = Callable[[str | None, dict[str, Any] | None], None]
ErrorHandlerCallable = Callable[[Any], Any]
RouteCallable = Callable[..., Any]
