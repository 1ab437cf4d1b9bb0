"""The ASGI floor: every scenario written by hand against the bare protocol, with the standard library, itsdangerous
and Jinja2. What a framework costs is measured against this."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader

from ._shared import SECRET, TEMPLATES, Db, Repo, Settings, validate_item_query, validate_user

__all__ = ["app", "session_cookie"]

LABEL = "raw ASGI"
KIND = "asgi"
ROLE = "floor"
DISTRIBUTION = None
SCENARIOS = ("plaintext", "json", "items", "users", "deps", "deps_sync", "classic")
SERVERS = ("uvicorn", "granian")

_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_JSON = [(b"content-type", b"application/json")]
_HTML = [(b"content-type", b"text/html; charset=utf-8")]
_signer = URLSafeSerializer(SECRET, salt="session")
_encode = json.JSONEncoder(separators=(",", ":")).encode  # built once: the C fast path
_templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)


def session_cookie() -> str:
    return "session=" + _signer.dumps({"user": "ada"})


async def _respond(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [*headers, (b"content-length", b"%d" % len(body))]}
    )
    await send({"type": "http.response.body", "body": body})


async def _json(send: Any, data: Any, status: int = 200) -> None:
    await _respond(send, status, _JSON, _encode(data).encode())


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _settings() -> Settings:
    return Settings()


async def _db() -> Db:
    return Db(await _settings())


async def _repo() -> Repo:
    return Repo(await _db())


async def plaintext(scope: Any, receive: Any, send: Any) -> None:
    await _respond(send, 200, _TEXT, b"Hello, world!")


async def json_hello(scope: Any, receive: Any, send: Any) -> None:
    await _json(send, {"message": "Hello, world!"})


async def items(scope: Any, receive: Any, send: Any) -> None:
    try:
        item_id = int(scope["path"][len("/items/") :])
    except ValueError:
        await _respond(send, 404, _TEXT, b"Not Found")
        return
    query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
    try:
        q, limit = validate_item_query(query.get("q"), query.get("limit"))
    except ValueError as exc:
        await _json(send, {"detail": str(exc)}, 422)
        return
    await _json(send, {"id": item_id, "q": q, "limit": limit})


async def users(scope: Any, receive: Any, send: Any) -> None:
    try:
        user = validate_user(json.loads(await _read_body(receive)))
    except ValueError as exc:
        await _json(send, {"detail": str(exc)}, 422)
        return
    await _json(send, user, 201)


async def deps(scope: Any, receive: Any, send: Any) -> None:
    await _json(send, (await _repo()).get_user(1))


async def deps_sync(scope: Any, receive: Any, send: Any) -> None:
    await _json(send, Repo(Db(Settings())).get_user(1))


async def classic(scope: Any, receive: Any, send: Any) -> None:
    query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
    session: dict[str, Any] = {}
    for name, value in scope["headers"]:
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, token = part.strip().partition("=")
                if key == "session":
                    try:
                        session = _signer.loads(token)
                    except BadSignature:
                        session = {}
    page = _templates.get_template("hello.html").render(name=query.get("name", "stranger"), user=session.get("user"))
    await _respond(send, 200, _HTML, page.encode())


ROUTES = {
    ("GET", "/plaintext"): plaintext,
    ("GET", "/json"): json_hello,
    ("POST", "/users"): users,
    ("GET", "/deps"): deps,
    ("GET", "/deps-sync"): deps_sync,
    ("GET", "/classic"): classic,
}


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        return
    handler = ROUTES.get((scope["method"], scope["path"]))
    if handler is None and scope["method"] == "GET" and scope["path"].startswith("/items/"):
        handler = items
    if handler is None:
        await _respond(send, 404, _TEXT, b"Not Found")
        return
    await handler(scope, receive, send)


def many_routes(n: int) -> Any:
    """``n`` routes ``/r{i}/{id}``, matched by hand in a loop, as a raw app would."""
    prefixes = [f"/r{i}/" for i in range(n)]

    async def many(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await _lifespan(receive, send)
            return
        path = scope["path"]
        for i, prefix in enumerate(prefixes):
            if path.startswith(prefix):
                await _json(send, {"route": i, "id": int(path[len(prefix) :])})
                return
        await _respond(send, 404, _TEXT, b"Not Found")

    return many
