"""The WSGI floor: every scenario written by hand against PEP 3333, with the standard library, itsdangerous and
Jinja2. Flask is measured against this."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader

from ._shared import SECRET, TEMPLATES, Db, Repo, Settings, validate_item_query, validate_user

__all__ = ["app", "session_cookie"]

LABEL = "raw WSGI"
KIND = "wsgi"
ROLE = "floor"
DISTRIBUTION = None
SCENARIOS = ("plaintext", "json", "items", "users", "deps_sync", "classic")
MISSING = {"deps": "WSGI has no async providers"}
SERVERS = ("gunicorn",)

StartResponse = Callable[..., Any]
_signer = URLSafeSerializer(SECRET, salt="session")
_encode = json.JSONEncoder(separators=(",", ":")).encode  # built once: the C fast path
_templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
_STATUS = {200: "200 OK", 201: "201 Created", 404: "404 Not Found", 422: "422 Unprocessable Content"}


def session_cookie() -> str:
    return "session=" + _signer.dumps({"user": "ada"})


def _respond(start_response: StartResponse, status: int, media_type: str, body: bytes) -> Iterable[bytes]:
    start_response(_STATUS[status], [("Content-Type", media_type), ("Content-Length", str(len(body)))])
    return [body]


def _json(start_response: StartResponse, data: Any, status: int = 200) -> Iterable[bytes]:
    return _respond(start_response, status, "application/json", _encode(data).encode())


def plaintext(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    return _respond(start_response, 200, "text/plain; charset=utf-8", b"Hello, world!")


def json_hello(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    return _json(start_response, {"message": "Hello, world!"})


def items(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    try:
        item_id = int(environ["PATH_INFO"][len("/items/") :])
    except ValueError:
        return _respond(start_response, 404, "text/plain", b"Not Found")
    query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    try:
        q, limit = validate_item_query(query.get("q"), query.get("limit"))
    except ValueError as exc:
        return _json(start_response, {"detail": str(exc)}, 422)
    return _json(start_response, {"id": item_id, "q": q, "limit": limit})


def users(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        user = validate_user(json.loads(environ["wsgi.input"].read(length)))
    except ValueError as exc:
        return _json(start_response, {"detail": str(exc)}, 422)
    return _json(start_response, user, 201)


def deps_sync(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    return _json(start_response, Repo(Db(Settings())).get_user(1))


def classic(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    session: dict[str, Any] = {}
    for part in environ.get("HTTP_COOKIE", "").split(";"):
        key, _, token = part.strip().partition("=")
        if key == "session":
            try:
                session = _signer.loads(token)
            except BadSignature:
                session = {}
    page = _templates.get_template("hello.html").render(name=query.get("name", "stranger"), user=session.get("user"))
    return _respond(start_response, 200, "text/html; charset=utf-8", page.encode())


ROUTES = {
    ("GET", "/plaintext"): plaintext,
    ("GET", "/json"): json_hello,
    ("POST", "/users"): users,
    ("GET", "/deps-sync"): deps_sync,
    ("GET", "/classic"): classic,
}


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    handler = ROUTES.get((method, path))
    if handler is None and method == "GET" and path.startswith("/items/"):
        handler = items
    if handler is None:
        return _respond(start_response, 404, "text/plain", b"Not Found")
    return handler(environ, start_response)


def many_routes(n: int) -> Any:
    """``n`` routes ``/r{i}/{id}``, matched by hand in a loop, as a raw app would."""
    prefixes = [f"/r{i}/" for i in range(n)]

    def many(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        for i, prefix in enumerate(prefixes):
            if path.startswith(prefix):
                return _json(start_response, {"route": i, "id": int(path[len(prefix) :])})
        return _respond(start_response, 404, "text/plain", b"Not Found")

    return many
