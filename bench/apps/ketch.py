"""ketch on its core: ``Ketch`` with ``@app.get`` handlers. The typed face and the classic face are separate
apps (``ketch_typed``, ``ketch_classic``) once they exist."""

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
    "items": "typed face not built yet (see ketch (core, hand-validated))",
    "users": "typed face not built yet (see ketch (core, hand-validated))",
    "deps": "typed face (Depends) not built yet",
    "deps_sync": "typed face (Depends) not built yet",
    "classic": "classic face not built yet",
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
