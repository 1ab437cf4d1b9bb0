"""ketch with validation written by hand against ``Request``, as the other hand-validating frameworks do. NOT the
typed face (that is ``ketch_typed``); kept because the difference between the two is what typed validation costs.
The targets use it only where no other ketch app covers a scenario (``STOPGAP``)."""

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
    "deps": "see ketch (typed)",
    "deps_sync": "see ketch (typed)",
    "classic": "see ketch (classic)",
}
SERVERS = ("uvicorn",)
STOPGAP = True

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
