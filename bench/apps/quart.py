"""Quart (Flask's API on asyncio), as its docs show: async views, ``request.args``, ``await request.get_json()``,
the signed-cookie ``session`` and ``render_template``. No validator ships with it, so items and users are
validated by hand."""

from __future__ import annotations

from typing import Any

from quart import Quart, Response, abort, jsonify, render_template, request, session

from ._shared import SECRET, TEMPLATES, validate_item_query, validate_user

__all__ = ["app", "many_routes", "session_cookie"]

LABEL = "Quart"
KIND = "asgi"
ROLE = "peer"
DISTRIBUTION = "quart"
SCENARIOS = ("plaintext", "json", "items", "users", "classic")
MISSING = {"deps": "no dependency injection", "deps_sync": "no dependency injection"}
SERVERS = ("uvicorn",)

app = Quart(__name__, template_folder=TEMPLATES)
app.secret_key = SECRET


@app.get("/plaintext")
async def plaintext() -> Response:
    return Response("Hello, world!", mimetype="text/plain")


@app.get("/json")
async def json_hello() -> dict[str, str]:
    return {"message": "Hello, world!"}


@app.get("/items/<int:item_id>")
async def items(item_id: int) -> dict[str, Any]:
    try:
        q, limit = validate_item_query(request.args.get("q"), request.args.get("limit"))
    except ValueError as exc:
        abort(422, str(exc))
    return {"id": item_id, "q": q, "limit": limit}


@app.post("/users")
async def users() -> Any:
    try:
        user = validate_user(await request.get_json())  # a 400 already if the body is not JSON
    except ValueError as exc:
        abort(422, str(exc))
    return jsonify(user), 201


@app.get("/classic")
async def classic() -> str:
    return await render_template("hello.html", name=request.args.get("name", "stranger"), user=session.get("user"))


def session_cookie() -> str:
    serializer = app.session_interface.get_signing_serializer(app)
    assert serializer is not None
    return "session=" + serializer.dumps({"user": "ada"})


def many_routes(n: int) -> Any:
    many = Quart("many")
    for i in range(n):
        many.add_url_rule(f"/r{i}/<int:item_id>", f"r{i}", _numbered(i))
    return many


def _numbered(i: int) -> Any:
    async def route(item_id: int) -> dict[str, int]:
        return {"route": i, "id": item_id}

    return route
