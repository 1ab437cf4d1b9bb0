"""ketch's hello-world routes as its docs write them: ``Ketch()`` and ``@app.get`` handlers returning a
``PlainTextResponse`` or a dict. The other scenarios are in ``ketch_typed`` and ``ketch_classic``."""

from __future__ import annotations

from typing import Any

from ketch import Ketch, PlainTextResponse

__all__ = ["app", "many_routes"]

LABEL = "ketch"
KIND = "asgi"
ROLE = "ketch"
DISTRIBUTION = "ketch"
SCENARIOS = ("plaintext", "json")
MISSING = {
    "items": "see ketch (typed)",
    "users": "see ketch (typed)",
    "deps": "see ketch (typed)",
    "deps_sync": "see ketch (typed)",
    "classic": "see ketch (classic)",
}
SERVERS = ("uvicorn", "granian")

app = Ketch()


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse("Hello, world!")


@app.get("/json")
async def json_hello() -> dict[str, str]:
    return {"message": "Hello, world!"}


def many_routes(n: int) -> Any:
    many = Ketch()
    for i in range(n):
        many.add_route(f"/r{i}/{{item_id:int}}", _numbered(i), name=f"r{i}")
    return many


def _numbered(i: int) -> Any:
    async def route(item_id: int) -> dict[str, int]:
        return {"route": i, "id": item_id}

    return route
