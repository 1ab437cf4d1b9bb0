"""Falcon on ASGI, as its docs show: resource classes with ``on_get``/``on_post`` responders, ``req.get_param*``
with its built-in bounds, ``req.get_media()``; field checks are by hand (Falcon ships no schema validator)."""

from __future__ import annotations

from typing import Any

import falcon
import falcon.asgi

from ._shared import validate_user

__all__ = ["app", "many_routes"]

LABEL = "Falcon"
KIND = "asgi"
ROLE = "peer"
DISTRIBUTION = "falcon"
SCENARIOS = ("plaintext", "json", "items", "users")
MISSING = {
    "deps": "no dependency injection",
    "deps_sync": "no dependency injection",
    "classic": "no sessions or templates",
}
SERVERS = ("uvicorn",)


class PlainText:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, world!"


class Json:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"message": "Hello, world!"}


class Items:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, item_id: int) -> None:
        limit = req.get_param_as_int("limit", min_value=1, max_value=100, default=10)
        q = req.get_param("q")
        if q is not None and len(q) > 50:
            raise falcon.HTTPInvalidParam("at most 50 characters", "q")
        resp.media = {"id": item_id, "q": q, "limit": limit}


class Users:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        data = await req.get_media()  # a 400 already if the body is not JSON
        try:
            resp.media = validate_user(data)
        except ValueError as exc:
            raise falcon.HTTPUnprocessableEntity(description=str(exc)) from None
        resp.status = falcon.HTTP_201


app = falcon.asgi.App()
app.add_route("/plaintext", PlainText())
app.add_route("/json", Json())
app.add_route("/items/{item_id:int}", Items())
app.add_route("/users", Users())


class Numbered:
    def __init__(self, i: int) -> None:
        self.i = i

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, item_id: int) -> None:
        resp.media = {"route": self.i, "id": item_id}


def many_routes(n: int) -> Any:
    many = falcon.asgi.App()
    for i in range(n):
        many.add_route(f"/r{i}/{{item_id:int}}", Numbered(i))
    return many
