"""Differential tests: markers given as default values, the older FastAPI style most existing apps use."""

from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel

from ._diff import Req, compare

# ruff: noqa: B008 - markers as default values are the style under test
# The app is built twice, from two import surfaces held in a namespace: its annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, attr-defined, misc, assignment"


class Item(BaseModel):
    name: str


def build(api: SimpleNamespace) -> object:
    app = api.App()

    def common(q: str | None = api.Query(None, max_length=5), skip: int = api.Query(0, ge=0)) -> dict[str, Any]:
        return {"q": q, "skip": skip}

    @app.post("/items/{item_id}")
    async def update(
        item_id: int = api.Path(..., gt=0),
        item: Item = api.Body(..., embed=True),
        x_token: str = api.Header(...),
        commons: dict[str, Any] = api.Depends(common),
        ads_id: str | None = api.Cookie(None),
    ) -> dict[str, Any]:
        return {"item_id": item_id, "item": item, "token": x_token, "commons": commons, "ads_id": ads_id}

    @app.post("/form")
    async def form(username: str = api.Form(...), data: bytes = api.File(b"")) -> dict[str, Any]:
        return {"username": username, "size": len(data)}

    return app


def test_markers_as_defaults() -> None:
    compare(
        build,
        [
            Req("POST", "/items/1?q=abc", json={"item": {"name": "n"}}, headers={"x-token": "t", "cookie": "ads_id=a"}),
            Req("POST", "/items/0?q=abcdefg&skip=-1", json={"item": {}}),
            Req("POST", "/items/1", json={"name": "n"}, headers={"x-token": "t"}),
            Req("POST", "/form", data={"username": "u"}),
            Req("POST", "/form", files={"data": ("d", b"123")}, data={"username": "u"}),
            Req("POST", "/form"),
        ],
    )
