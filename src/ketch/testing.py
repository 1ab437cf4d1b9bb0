"""The Flask-shaped test client: ``app.test_client()`` (Flask's ``flask.testing``).

``FlaskClient`` is a :class:`ketch.testclient.TestClient` (so an in-process httpx client) with Flask's calling
conventions: ``client.post("/login", data={"username": "a"})`` sends a form, ``data`` with ``(file, name)``
tuples sends multipart, ``query_string=`` and ``json=`` work, redirects are not followed unless
``follow_redirects=True``. Responses have Flask's API (``.data``, ``.text``, ``.get_json()``, ``.status``,
``.mimetype``, ``.headers.getlist()``). ``with client:`` keeps the last request's context pushed, so ``request``,
``session`` and ``g`` can be inspected after a request; ``session_transaction()`` edits the session cookie.
:func:`build_request` makes the request of ``app.test_request_context()``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx

from ketch._plan.classic_rules import normalize_host
from ketch.ctx import RequestContext
from ketch.datastructures import FormData
from ketch.json import loads
from ketch.testclient import TestClient
from ketch.types import Receive, Scope, Send
from ketch.wrappers import Response as ClassicResponse
from ketch.wrappers import status_line

__all__ = ["FlaskClient", "TestResponse", "build_request"]


class _Headers(httpx.Headers):
    """httpx headers with Werkzeug's ``getlist``."""

    def getlist(self, key: str) -> list[str]:
        return self.get_list(key)


class _RequestInfo:
    """What ``response.request`` tells a test about the request that produced it."""

    def __init__(self, request: httpx.Request) -> None:
        self.method = request.method
        self.url = str(request.url)
        self.path = request.url.path
        self.headers = _Headers(request.headers)
        self.query_string = request.url.query

    @property
    def args(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string.decode("latin-1")))


class TestResponse:
    """A response as Flask's test client returns it."""

    __test__ = False

    def __init__(self, response: httpx.Response, history: list[TestResponse] | None = None) -> None:
        self._response = response
        self.status_code = response.status_code
        self.headers = _Headers(response.headers)
        self.data = response.content
        self.request = _RequestInfo(response.request)
        self.history = history or []

    @property
    def status(self) -> str:
        return status_line(self.status_code)

    def get_data(self, as_text: bool = False) -> Any:
        return self.data.decode("utf-8", "replace") if as_text else self.data

    @property
    def text(self) -> str:
        return self.get_data(as_text=True)  # type: ignore[no-any-return]

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")  # type: ignore[no-any-return]

    @property
    def mimetype(self) -> str | None:
        value = self.content_type
        return value.split(";")[0].strip().lower() if value else None

    @property
    def is_json(self) -> bool:
        mimetype = self.mimetype or ""
        return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        if not (force or self.is_json):
            return None
        try:
            return loads(self.data)
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self) -> Any:
        return self.get_json()

    @property
    def location(self) -> str | None:
        return self.headers.get("location")  # type: ignore[no-any-return]

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value is not None else None

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> TestResponse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<TestResponse {len(self.data)} bytes [{self.status}]>"


def _body_options(data: Any, json: Any, content_type: str | None) -> dict[str, Any]:
    """httpx arguments for Flask's ``data=`` (form fields, files, or a raw body) and ``json=``."""
    options: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if json is not None:
        options["json"] = json
    elif isinstance(data, Mapping):
        fields: list[tuple[str, str]] = []
        files: list[tuple[str, Any]] = []
        for key, value in data.items():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, tuple):
                    files.append((key, _file_tuple(item)))
                elif hasattr(item, "read"):
                    files.append((key, (getattr(item, "name", key) or key, item)))
                else:
                    fields.append((key, str(item)))
        if files:
            options["files"] = files
            options["data"] = dict(fields)
            if len({key for key, _ in fields}) != len(fields):
                raise ValueError("Repeated form fields with files are not supported by this client")
        else:
            options["content"] = urlencode(fields).encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
    elif data is not None:
        options["content"] = data.encode() if isinstance(data, str) else data
    if content_type is not None:
        headers["content-type"] = content_type
    if headers:
        options["headers"] = headers
    return options


def _file_tuple(item: tuple[Any, ...]) -> tuple[Any, ...]:
    file, *rest = item
    if isinstance(file, bytes | str):
        file = io.BytesIO(file.encode() if isinstance(file, str) else file)
    name = rest[0] if rest else getattr(file, "name", "file")
    if len(rest) > 1:
        return (name, file, rest[1])
    return (name, file)


def _same_domain(stored: str, wanted: str) -> bool:
    stored = stored.lstrip(".")
    return stored in (wanted, wanted + ".local")


class FlaskClient(TestClient):
    """``app.test_client()``: Flask's test client API over ketch's in-process client."""

    __test__ = False

    def __init__(self, app: Any, use_cookies: bool = True, **kwargs: Any) -> None:
        self.application = app
        self._preserved: RequestContext | None = None
        self._last_context: RequestContext | None = None
        self._preserve = False
        self.use_cookies = use_cookies
        kwargs.setdefault("base_url", "http://localhost")
        kwargs.setdefault("follow_redirects", False)
        super().__init__(self._asgi, **kwargs)

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._preserve:
            scope["ketch.preserve_context"] = self._keep_context
        await self.application(scope, receive, send)

    def _keep_context(self, ctx: RequestContext) -> None:
        self._last_context = ctx

    # -- requests --------------------------------------------------------------------------------------------

    def open(
        self,
        path: str = "/",
        method: str = "GET",
        data: Any = None,
        json: Any = None,
        headers: Any = None,
        query_string: Any = None,
        content_type: str | None = None,
        follow_redirects: bool = False,
        base_url: str | None = None,
        environ_base: dict[str, Any] | None = None,
        buffered: bool = False,
    ) -> TestResponse:
        """Send a request the way Flask's test client does and return a :class:`TestResponse`."""
        self._pop_preserved()
        options = _body_options(data, json, content_type)
        all_headers = {**(dict(headers) if headers else {}), **options.pop("headers", {})}
        if query_string is not None:
            query = query_string if isinstance(query_string, str | bytes) else urlencode(query_string, doseq=True)
            path += ("&" if "?" in path else "?") + (query.decode() if isinstance(query, bytes) else query)
        url = path if base_url is None else base_url.rstrip("/") + path
        if not self.use_cookies:
            self.cookies.clear()
        response = self.request(method.upper(), url, headers=all_headers, **options)
        history = [TestResponse(item) for item in response.history]
        if follow_redirects:
            while response.is_redirect and len(history) < 20:
                history.append(TestResponse(response))
                location = response.headers["location"]
                target = urlsplit(location)
                next_path = target.path + (f"?{target.query}" if target.query else "")
                code = response.status_code
                next_method = method.upper() if code in (307, 308) else ("HEAD" if method.upper() == "HEAD" else "GET")
                response = self.request(next_method, next_path, headers=dict(headers or {}))
        result = TestResponse(response, history)
        self._push_preserved()
        return result

    def get(self, path: str = "/", **kwargs: Any) -> TestResponse:  # type: ignore[override]
        return self.open(path, method="GET", **kwargs)

    def post(self, path: str = "/", **kwargs: Any) -> TestResponse:  # type: ignore[override]
        return self.open(path, method="POST", **kwargs)

    def put(self, path: str = "/", **kwargs: Any) -> TestResponse:  # type: ignore[override]
        return self.open(path, method="PUT", **kwargs)

    def patch(self, path: str = "/", **kwargs: Any) -> TestResponse:  # type: ignore[override]
        return self.open(path, method="PATCH", **kwargs)

    def delete(self, path: str = "/", **kwargs: Any) -> TestResponse:  # type: ignore[override]
        return self.open(path, method="DELETE", **kwargs)

    def head(self, path: str = "/", **kwargs: Any) -> TestResponse:  # type: ignore[override]
        return self.open(path, method="HEAD", **kwargs)

    def options(self, path: str = "/", **kwargs: Any) -> TestResponse:  # type: ignore[override]
        return self.open(path, method="OPTIONS", **kwargs)

    def trace(self, path: str = "/", **kwargs: Any) -> TestResponse:
        return self.open(path, method="TRACE", **kwargs)

    # -- cookies ---------------------------------------------------------------------------------------------

    def get_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> Any:
        """The cookie ``key`` the client holds (with ``.value``), or None."""
        for cookie in self.cookies.jar:
            if cookie.name == key and _same_domain(cookie.domain, domain) and cookie.path == path:
                return cookie
        return None

    def set_cookie(self, key: str, value: str = "", *, domain: str = "localhost", path: str = "/", **_: Any) -> None:
        """Give the client a cookie, as if the app had set it."""
        self.delete_cookie(key, domain=domain, path=path)
        # NOTE: the standard cookie jar files a dotless host such as "localhost" as "localhost.local".
        self.cookies.set(key, value, domain=domain if "." in domain else domain + ".local", path=path)

    def delete_cookie(self, key: str, *, domain: str = "localhost", path: str = "/", **_: Any) -> None:
        """Remove a cookie from the client."""
        for cookie in list(self.cookies.jar):
            if cookie.name == key and _same_domain(cookie.domain, domain) and cookie.path == path:
                self.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)

    @contextmanager
    def session_transaction(self, **kwargs: Any) -> Iterator[Any]:
        """Open the session the client's cookie holds; changes made in the ``with`` block are saved back."""
        app = self.application
        name = app.config["SESSION_COOKIE_NAME"]
        cookie = self.get_cookie(name)
        headers = {"Cookie": f"{name}={cookie.value}"} if cookie is not None else {}
        with app.test_request_context(headers=headers, **kwargs) as ctx:
            interface = app.session_interface
            session = interface.open_session(app, ctx.request)
            if session is None:
                raise RuntimeError("Session backend did not open a session.")
            yield session
            response = ClassicResponse()
            if not interface.is_null_session(session):
                interface.save_session(app, session, response)
        for header in response.headers.getlist("set-cookie"):
            key, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            expired = "Max-Age=0" in header
            self.delete_cookie(key)
            if not expired:
                self.set_cookie(key, value)

    # -- keeping the last request's context ------------------------------------------------------------------

    def _pop_preserved(self) -> None:
        ctx, self._preserved = self._preserved, None
        if ctx is not None:
            ctx.pop(None, teardown=False)
            if ctx.app_ctx is not None and ctx.app_ctx._tokens:
                ctx.app_ctx.pop(None, teardown=False)

    def _push_preserved(self) -> None:
        ctx, self._last_context = self._last_context, None
        if ctx is not None and self._preserve:
            if ctx.app_ctx is not None:
                ctx.app_ctx.push()
            ctx.push()
            self._preserved = ctx

    def __enter__(self) -> FlaskClient:
        if self._preserve:
            raise RuntimeError("Cannot nest client invocations")
        super().__enter__()
        self._preserve = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self._preserve = False
        self._pop_preserved()
        super().__exit__(exc_type, exc_value, traceback)


def build_request(
    app: Any,
    path: str,
    base_url: str | None,
    method: str,
    headers: Any,
    query_string: str | bytes | dict[str, Any] | None,
    data: str | bytes | dict[str, Any] | None,
    json: Any,
    content_type: str | None,
) -> Any:
    """A classic request for ``test_request_context``: an ASGI scope built from the arguments, body attached."""
    path, _, query = path.partition("?")
    if query_string is not None:
        query = urlencode(query_string, doseq=True) if isinstance(query_string, dict) else query_string  # type: ignore[assignment]
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    if base_url is None:
        server = app.config["SERVER_NAME"] or "localhost"
        base_url = f"{app.config['PREFERRED_URL_SCHEME']}://{server}{str(app.config['APPLICATION_ROOT']).rstrip('/')}"
    base = urlsplit(base_url)
    root = base.path.rstrip("/")
    body = b""
    if json is not None:
        body = app.json.dumps(json).encode()
        content_type = content_type or "application/json"
    elif isinstance(data, dict):
        body = urlencode(data, doseq=True).encode()
        content_type = content_type or "application/x-www-form-urlencoded"
    elif data is not None:
        body = data.encode() if isinstance(data, str) else data
    raw_headers = [(b"host", base.netloc.encode("latin-1"))]
    if content_type:
        raw_headers.append((b"content-type", content_type.encode("latin-1")))
    if body:
        raw_headers.append((b"content-length", str(len(body)).encode()))
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    raw_headers += [(str(k).lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in items]
    port = base.port or (443 if base.scheme == "https" else 80)
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": base.scheme or "http",
        "path": root + (path or "/"),
        "raw_path": quote(root + (path or "/")).encode("ascii"),
        "root_path": root,
        "query_string": query.encode("latin-1"),
        "headers": raw_headers,
        "server": (base.hostname or "localhost", port),
        "client": ("127.0.0.1", 0),
    }
    request = app.request_class(scope)
    request._body = body
    if content_type and content_type.startswith("application/x-www-form-urlencoded"):
        request._form = FormData(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    scheme = base.scheme or "http"
    server_name = app.config["SERVER_NAME"]
    host = normalize_host(base.netloc, scheme)
    domain = app.url_map.domain_of(host, normalize_host(server_name, scheme) if server_name else None)
    matched = app.url_map.match(path or "/", method.upper(), domain)
    if matched is not None:
        request.url_rule, request.view_args = matched
    return request
