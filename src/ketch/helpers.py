"""The classic face's helpers: ``abort``, ``redirect``, ``url_for``, ``jsonify``, ``make_response``, files,
``stream_with_context``, ``flash`` and ``get_flashed_messages``.

They work on the current app and request (see ``globals.py``), so they are called from classic views, hooks,
templates, or inside ``app.app_context()`` / ``app.test_request_context()``.
"""

from __future__ import annotations

import dataclasses
import decimal
import json as _json
import mimetypes
import os
import unicodedata
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeVar
from urllib.parse import quote

from ketch._files import FileResponse
from ketch._plan.classic import InternalServerError, run_sync
from ketch.ctx import _cv_app, _cv_request, current_app_context, current_request_context
from ketch.exceptions import HTTPException
from ketch.responses import Response
from ketch.signals import before_render_template, message_flashed, template_rendered
from ketch.staticfiles import clean_path
from ketch.wrappers import Response as ClassicResponse

if TYPE_CHECKING:
    from ketch.ctx import RequestContext

__all__ = [
    "AbortResponse",
    "DefaultJSONProvider",
    "InternalServerError",
    "JSONProvider",
    "abort",
    "flash",
    "get_flashed_messages",
    "get_template_attribute",
    "json_dumps",
    "json_loads",
    "jsonify",
    "make_response",
    "redirect",
    "render_template",
    "render_template_string",
    "safe_join",
    "send_file",
    "send_from_directory",
    "stream_template",
    "stream_template_string",
    "stream_with_context",
    "url_for",
]

_I = TypeVar("_I", bound=Iterable[Any])


class AbortResponse(HTTPException):
    """``abort(response)``: stops the view and sends ``response`` as it is."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code if response.status_code >= 400 else 500)
        self.response = response


def abort(code: int | Response, *args: Any, **kwargs: Any) -> NoReturn:
    """Stop the view with an HTTP error: ``abort(404)``, ``abort(403, "description")``, or ``abort(response)``.

    An app may set ``app.aborter`` to raise its own exception classes (``ketch.compat.flask`` raises Werkzeug's).
    """
    if isinstance(code, Response):
        raise AbortResponse(code)
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        aborter = getattr(app_ctx.app, "aborter", None)
        if aborter is not None:
            aborter(code, *args, **kwargs)
    description = args[0] if args else kwargs.get("description")
    raise HTTPException(code, description, headers=kwargs.get("headers"))


def redirect(location: str, code: int = 302, Response: type[Response] | None = None) -> Response:
    """A redirect to ``location`` (302 by default) with Werkzeug's small HTML body."""
    app_ctx = _cv_app.get(None)
    if app_ctx is not None and Response is None:
        return app_ctx.app.redirect(location, code)  # type: ignore[no-any-return]
    return redirect_response(location, code, Response or ClassicResponse)


def redirect_response(location: str, code: int, response_class: Callable[..., Response]) -> Response:
    """The response ``redirect`` builds: ``Location`` percent-encoded (it can never split a header)."""
    from html import escape

    safe = quote(location, safe="/:?#[]@!$&'()*+,;=%~")
    body = (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
        "<p>You should be redirected automatically to the target URL: "
        f'<a href="{escape(location)}">{escape(location)}</a>. If not, click the link.\n'
    )
    return response_class(body, status=code, headers={"Location": safe})


def url_for(
    endpoint: str,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: Any,
) -> str:
    """The URL of ``endpoint`` (``"index"``, ``"blog.post"``, ``".post"`` within the current blueprint).

    Values that are not path parameters go into the query string. Inside a request the URL is relative unless
    ``_external=True``; outside one it is absolute (``SERVER_NAME`` must be set).
    """
    return current_app_context().app.url_for(  # type: ignore[no-any-return]
        endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external, **values
    )


def make_response(*args: Any) -> Response:
    """Turn a view's return value (or its parts: ``make_response(body, status, headers)``) into a response."""
    app = current_app_context().app
    if not args:
        return app.response_class()  # type: ignore[no-any-return]
    return app.make_response(args[0] if len(args) == 1 else args)  # type: ignore[no-any-return]


def jsonify(*args: Any, **kwargs: Any) -> Response:
    """A JSON response: ``jsonify(obj)``, ``jsonify(a, b)`` (a list) or ``jsonify(key=value)`` (a dict)."""
    return current_app_context().app.json.response(*args, **kwargs)  # type: ignore[no-any-return]


# -- JSON --------------------------------------------------------------------------------------------------


def _http_date(value: date) -> str:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # naive datetimes are UTC, as in Flask
    return format_datetime(value.astimezone(UTC), usegmt=True)


def _default(o: Any) -> Any:
    if isinstance(o, date):
        return _http_date(o)
    if isinstance(o, decimal.Decimal | uuid.UUID):
        return str(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if hasattr(o, "__html__"):
        return str(o.__html__())
    if hasattr(o, "model_dump"):  # a pydantic model
        return o.model_dump(mode="json")
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


class JSONProvider:
    """How the classic face reads and writes JSON (``app.json``); subclass it to use another library."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        raise NotImplementedError

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        raise NotImplementedError

    def dump(self, obj: Any, fp: IO[str], **kwargs: Any) -> None:
        fp.write(self.dumps(obj, **kwargs))

    def load(self, fp: IO[Any], **kwargs: Any) -> Any:
        return self.loads(fp.read(), **kwargs)

    def _prepare_response_obj(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if args and kwargs:
            raise TypeError("app.json.response() takes either args or kwargs, not both")
        if not args and not kwargs:
            return None
        if len(args) == 1:
            return args[0]
        return args or kwargs

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps(obj), mimetype="application/json")  # type: ignore[no-any-return]


class DefaultJSONProvider(JSONProvider):
    """Flask's JSON: sorted keys, ASCII-escaped, compact (indented in debug mode), a trailing newline; dates as
    HTTP dates, UUIDs and decimals as strings, dataclasses and pydantic models as objects."""

    default: Callable[[Any], Any] = staticmethod(_default)
    ensure_ascii = True
    sort_keys = True
    compact: bool | None = None
    mimetype = "application/json"

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return _json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return _json.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        if (self.compact is None and self._app.debug) or self.compact is False:
            text = self.dumps(obj, indent=2)
        else:
            text = self.dumps(obj, separators=(",", ":"))
        return self._app.response_class(f"{text}\n", mimetype=self.mimetype)  # type: ignore[no-any-return]


def json_dumps(obj: Any, **kwargs: Any) -> str:
    """Serialise to JSON with the current app's provider (``app.json``), or Flask's defaults outside an app."""
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        return app_ctx.app.json.dumps(obj, **kwargs)  # type: ignore[no-any-return]
    kwargs.setdefault("default", _default)
    return _json.dumps(obj, **kwargs)


def json_loads(s: str | bytes, **kwargs: Any) -> Any:
    """Parse JSON with the current app's provider, or the standard library outside an app."""
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        return app_ctx.app.json.loads(s, **kwargs)
    return _json.loads(s, **kwargs)


# -- files -------------------------------------------------------------------------------------------------


def send_file(
    path_or_file: str | os.PathLike[str] | IO[bytes],
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: int | Callable[[str | None], int | None] | None = None,
) -> Response:
    """Send a file from disk (ranges and conditional requests answered) or a binary file object.

    The path is used as given: for a name that comes from the client use :func:`send_from_directory`.
    """
    path: str | None = None
    if isinstance(path_or_file, str | os.PathLike):
        path = os.fspath(path_or_file)
        if not os.path.isabs(path):
            app_ctx = _cv_app.get(None)
            if app_ctx is not None:
                path = os.path.join(app_ctx.app.root_path, path)
    if download_name is None and path is not None:
        download_name = os.path.basename(path)
    if mimetype is None:
        if download_name is None:
            raise TypeError(
                "Unable to detect the MIME type because a file name is not available. Either set 'download_name', "
                "pass a path instead of a file, or set 'mimetype'."
            )
        mimetype = mimetypes.guess_type(download_name)[0] or "application/octet-stream"
    headers: dict[str, str] = {}
    if download_name is not None:
        headers["content-disposition"] = _disposition(download_name, as_attachment)
    elif as_attachment:
        raise TypeError("No name provided for attachment. Either set 'download_name' or pass a path instead of a file.")
    if callable(max_age):
        max_age = max_age(path)
    headers["cache-control"] = f"public, max-age={max_age}" if max_age else "no-cache"
    if path is not None:
        if not os.path.isfile(path):
            raise HTTPException(404)
        response: Response = FileResponse(path, headers=headers, media_type=mimetype)
        if isinstance(etag, str):
            response.headers["etag"] = f'"{etag}"'
        return response
    file = path_or_file
    data = file.read() if hasattr(file, "read") else b""
    return ClassicResponse(data, mimetype=mimetype, headers=headers)


def _disposition(name: str, attachment: bool) -> str:
    kind = "attachment" if attachment else "inline"
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        quoted = quote(name, safe="!#$&+-.^_`|~")
        return f"{kind}; filename={_quote_param(simple)}; filename*=UTF-8''{quoted}"
    return f"{kind}; filename={_quote_param(name)}"


def _quote_param(value: str) -> str:
    if value and all(c.isalnum() or c in "!#$%&'*+-.^_`|~" for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def safe_join(directory: str, *paths: str) -> str | None:
    """``directory`` joined with URL-style ``paths``, or None if the result could leave ``directory``.

    Refuses ``..``, absolute paths, backslashes, drive letters, NUL and Windows device names.
    """
    parts = [directory]
    for path in paths:
        cleaned = clean_path(path) if path else ""
        if cleaned is None or (path and path.startswith("/")):
            return None
        if cleaned:
            parts.append(cleaned)
    return os.path.join(*parts)


def send_from_directory(directory: str | os.PathLike[str], path: str, **kwargs: Any) -> Response:
    """Send ``path`` (usually from the URL) from inside ``directory``; a 404 for anything that would leave it.

    ``..``, encoded or not, absolute paths, NUL and symlinks that resolve outside ``directory`` are all a 404
    indistinguishable from a missing file.
    """
    root = os.fspath(directory)
    if not os.path.isabs(root):
        app_ctx = _cv_app.get(None)
        if app_ctx is not None:
            root = os.path.join(app_ctx.app.root_path, root)
    joined = safe_join(root, path)
    if joined is None:
        raise HTTPException(404)
    real_root = os.path.realpath(root)
    real = os.path.realpath(joined)
    if os.path.commonpath([real_root, real]) != real_root or not os.path.isfile(real):
        raise HTTPException(404)
    return send_file(real, download_name=kwargs.pop("download_name", os.path.basename(joined)), **kwargs)


# -- streaming ---------------------------------------------------------------------------------------------


def stream_with_context(generator_or_function: Any) -> Any:
    """Keep the request context around a streamed body: the generator can read ``request`` and ``session``
    while it runs, and teardown waits until it ends. Also a decorator for generator functions."""
    if callable(generator_or_function) and not isinstance(generator_or_function, Iterator | AsyncIterator):
        function = generator_or_function

        def decorated(*args: Any, **kwargs: Any) -> Any:
            return stream_with_context(function(*args, **kwargs))

        return decorated
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'stream_with_context' can only be used when a request context is active, such as in a view function."
        )
    ctx.streams += 1
    if isinstance(generator_or_function, AsyncIterator):
        return _async_stream(ctx, generator_or_function)
    return _sync_stream(ctx, iter(generator_or_function))


def _sync_stream(ctx: RequestContext, iterator: Iterator[Any]) -> Iterator[Any]:
    token = _cv_request.set(ctx)
    app_token = _cv_app.set(ctx.app_ctx) if ctx.app_ctx is not None else None
    error: BaseException | None = None
    try:
        yield from iterator
    except BaseException as exc:
        error = exc
        raise
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
        try:
            _end_stream(ctx, error)
        finally:
            if app_token is not None:
                _cv_app.reset(app_token)
            _cv_request.reset(token)


async def _async_stream(ctx: RequestContext, iterator: AsyncIterator[Any]) -> AsyncIterator[Any]:
    token = _cv_request.set(ctx)
    app_token = _cv_app.set(ctx.app_ctx) if ctx.app_ctx is not None else None
    error: BaseException | None = None
    try:
        async for item in iterator:
            yield item
    except BaseException as exc:
        error = exc
        raise
    finally:
        try:
            _end_stream(ctx, error)
        finally:
            if app_token is not None:
                _cv_app.reset(app_token)
            _cv_request.reset(token)


def _end_stream(ctx: RequestContext, error: BaseException | None) -> None:
    ctx.streams -= 1
    if ctx.streams == 0:
        app = ctx.app
        app.do_teardown_request(error, ctx.request.blueprints)
        app.do_teardown_appcontext(error)


# -- templates ---------------------------------------------------------------------------------------------


def _render(app: Any, template: Any, context: dict[str, Any]) -> str:
    app.update_template_context(context)
    if before_render_template._receivers:  # PERF: the dict itself, not the property
        before_render_template.send(app, _async_wrapper=_sync, template=template, context=context)
    text: str = template.render(context)
    if template_rendered._receivers:
        template_rendered.send(app, _async_wrapper=_sync, template=template, context=context)
    return text


def render_template(template_name_or_list: str | list[str], **context: Any) -> str:
    """Render a template from the app's (or a blueprint's) ``templates`` folder with ``context``.

    The template also sees ``request``, ``session``, ``g``, ``config``, ``url_for``, ``get_flashed_messages``,
    ``csrf_token`` and what the context processors return. HTML and XML templates are autoescaped.
    """
    app = current_app_context().app
    env = app.jinja_env
    if type(template_name_or_list) is str:  # PERF: what get_or_select_template does with a name, one call less
        template = env.get_template(template_name_or_list)
    else:
        template = env.get_or_select_template(template_name_or_list)
    return _render(app, template, context)


def get_template_attribute(template_name: str, attribute: str) -> Any:
    """A macro or variable a template defines, to call from Python: ``get_template_attribute("m.html", "hello")``."""
    return getattr(current_app_context().app.jinja_env.get_template(template_name).module, attribute)


def render_template_string(source: str, **context: Any) -> str:
    """Render a template given as a string (autoescaped)."""
    app = current_app_context().app
    return _render(app, app.jinja_env.from_string(source), context)


def _stream(app: Any, template: Any, context: dict[str, Any]) -> Iterator[str]:
    app.update_template_context(context)
    if before_render_template.receivers:
        before_render_template.send(app, _async_wrapper=_sync, template=template, context=context)

    def generate() -> Iterator[str]:
        yield from template.generate(context)
        if template_rendered.receivers:
            template_rendered.send(app, _async_wrapper=_sync, template=template, context=context)

    stream = generate()
    return stream_with_context(stream) if _cv_request.get(None) is not None else stream


def stream_template(template_name_or_list: str | list[str], **context: Any) -> Iterator[str]:
    """Render a template as it is sent (return the iterator from a view); the request stays available."""
    app = current_app_context().app
    return _stream(app, app.jinja_env.get_or_select_template(template_name_or_list), context)


def stream_template_string(source: str, **context: Any) -> Iterator[str]:
    """:func:`stream_template` for a template given as a string."""
    app = current_app_context().app
    return _stream(app, app.jinja_env.from_string(source), context)


# -- flashing ----------------------------------------------------------------------------------------------


def flash(message: str, category: str = "message") -> None:
    """Store ``message`` in the session for the next page to show with :func:`get_flashed_messages`."""
    ctx = current_request_context()
    session = ctx.session
    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    session["_flashes"] = flashes
    app = ctx.app
    if message_flashed.receivers:
        message_flashed.send(app, _async_wrapper=_sync, message=message, category=category)


def _sync(func: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *args, **kwargs: run_sync(func, *args, **kwargs)


def get_flashed_messages(with_categories: bool = False, category_filter: Iterable[str] = ()) -> list[Any]:
    """The flashed messages (removed from the session; the same list for the rest of the request).

    ``with_categories=True`` gives ``(category, message)`` pairs; ``category_filter`` keeps only those categories.
    """
    ctx = current_request_context()
    flashes = ctx.flashes
    if flashes is None:
        session = ctx.session
        flashes = session.pop("_flashes") if "_flashes" in session else []
        ctx.flashes = flashes
    if category_filter:
        wanted = set(category_filter)
        flashes = [item for item in flashes if item[0] in wanted]
    if not with_categories:
        return [item[1] for item in flashes]
    return [tuple(item) for item in flashes]
