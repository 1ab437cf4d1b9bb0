"""ketch's core with validation written by hand against ``Request``: what a user can write before the typed face
exists. NOT the typed face: ``ketch_typed`` (path/query markers, pydantic bodies, ``Depends``) replaces it."""

from __future__ import annotations

from typing import Any

from ketch import HTTPException, Ketch, Request

from ._shared import validate_item_query, validate_user

__all__ = ["app"]

LABEL = "ketch (core, hand-validated)"
KIND = "asgi"
ROLE = "ketch"
DISTRIBUTION = "ketch"
SCENARIOS = ("items", "users")
MISSING = {
    "plaintext": "same code as ketch",
    "json": "same code as ketch",
    "deps": "the core has no dependency injection",
    "deps_sync": "the core has no dependency injection",
    "classic": "the core has no sessions or templates",
}
SERVERS = ("uvicorn", "granian")

app = Ketch()


@app.get("/items/{item_id:int}")
async def items(request: Request, item_id: int) -> dict[str, Any]:
    params = request.query_params
    try:
        q, limit = validate_item_query(params.get("q"), params.get("limit"))
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"id": item_id, "q": q, "limit": limit}


@app.post("/users", status_code=201)
async def users(request: Request) -> dict[str, Any]:
    try:
        return validate_user(await request.json())
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
