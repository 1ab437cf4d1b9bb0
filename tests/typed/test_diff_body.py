"""Differential tests: JSON bodies (single, several, embedded) and their errors, on FastAPI and on ketch."""

# The app is built twice, from two import surfaces held in a namespace: its annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, attr-defined, misc, assignment"

from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator

from ._diff import Req, compare


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)
    tags: list[str] = []
    description: str | None = None


class User(BaseModel):
    username: str
    full_name: str | None = None

    @field_validator("username")
    @classmethod
    def no_spaces(cls, value: str) -> str:
        if " " in value:
            raise ValueError("must not contain spaces")
        return value


class Strict(BaseModel):
    model_config = {"strict": True}
    when: datetime
    count: int


def build(api: SimpleNamespace) -> object:
    app = api.App()

    @app.post("/items")
    async def create(item: Item) -> Item:
        return item

    @app.put("/items/{item_id}")
    def update(item_id: int, item: Item, user: User, importance: Annotated[int, api.Body(gt=0)]) -> dict[str, Any]:
        return {"item_id": item_id, "item": item, "user": user, "importance": importance}

    @app.post("/embed")
    async def embed(item: Annotated[Item, api.Body(embed=True)]) -> dict[str, Any]:
        return {"item": item}

    @app.post("/optional")
    async def optional(item: Item | None = None) -> dict[str, Any]:
        return {"item": item}

    @app.post("/dict")
    async def as_dict(data: dict[str, Any]) -> dict[str, Any]:
        return data

    @app.post("/list")
    async def as_list(values: list[int]) -> list[int]:
        return values

    @app.post("/scalar")
    async def scalar(value: Annotated[int, api.Body()]) -> int:
        return value

    @app.post("/strict")
    async def strict(value: Strict) -> dict[str, Any]:
        return {"count": value.count}

    @app.post("/decimal")
    async def decimal(value: Annotated[Decimal, api.Body(max_digits=5, decimal_places=2)]) -> dict[str, Any]:
        return {"value": value}

    lax_router = api.Router(strict_content_type=False)

    @lax_router.post("/lax")
    async def lax(item: Item) -> Item:
        return item

    app.include_router(lax_router)
    return app


ITEM = {"name": "hammer", "price": 9.5}
JSON = {"content-type": "application/json"}


def test_single_body() -> None:
    compare(
        build,
        [
            Req("POST", "/items", json=ITEM),
            Req("POST", "/items", json={"name": "x", "price": -1, "tags": "nope"}),
            Req("POST", "/items", json={}),
            Req("POST", "/items", json=[1, 2]),
            Req("POST", "/items", json=None),
            Req("POST", "/items"),
            Req("POST", "/items", content=b"{bad json", headers=JSON),
            Req("POST", "/items", content=b'{"name": "x", "price": 1,}', headers=JSON),
            Req("POST", "/items", content=b'{"name": "\xff", "price": 1}', headers=JSON),
            Req("POST", "/items", content=b"[" * 100_000 + b"]" * 100_000, headers=JSON),
            Req(
                "POST",
                "/items",
                content=b'{"name": "a", "price": ' + b"1" * 5000 + b"}",
                headers=JSON,
            ),
            Req("POST", "/items", content=b'{"name": "a", "price": 2}', headers={"content-type": "text/plain"}),
            Req("POST", "/items", content=b'{"name": "a", "price": 2}'),
            Req(
                "POST",
                "/items",
                content=b'{"name": "a", "price": 2}',
                headers={"content-type": "application/vnd.api+json"},
            ),
            Req(
                "POST",
                "/items",
                content=b'{"name": "a", "price": 2}',
                headers={"content-type": "application/json; charset=utf-8"},
            ),
            Req("POST", "/items", data={"name": "a", "price": "2"}),
            Req("POST", "/lax", content=b'{"name": "a", "price": 2}'),
            Req("POST", "/lax", content=b'{"name": "a", "price": 2}', headers={"content-type": "text/plain"}),
            Req("POST", "/optional"),
            Req("POST", "/optional", json=ITEM),
            Req("POST", "/optional", json={"name": 1}),
            Req("POST", "/dict", json={"a": [1, {"b": None}]}),
            Req("POST", "/dict", json=[1]),
            Req("POST", "/list", json=[1, "2", "x"]),
            Req("POST", "/scalar", json=3),
            Req("POST", "/scalar", json="three"),
            Req("POST", "/strict", json={"when": "2024-01-01T00:00:00", "count": "3"}),
            Req("POST", "/decimal", json="123.456"),
            Req("POST", "/decimal", json=1.5),
        ],
    )


def test_multiple_and_embedded_bodies() -> None:
    user = {"username": "bob"}
    compare(
        build,
        [
            Req("PUT", "/items/1", json={"item": ITEM, "user": user, "importance": 5}),
            Req("PUT", "/items/1", json={"item": ITEM, "user": {"username": "b o b"}, "importance": 0}),
            Req("PUT", "/items/x", json={"item": ITEM}),
            Req("PUT", "/items/1", json=[ITEM]),
            Req("PUT", "/items/1", json="text"),
            Req("PUT", "/items/1"),
            Req("PUT", "/items/1", content=b'{"item": {}}', headers={"content-type": "text/plain"}),
            Req("POST", "/embed", json={"item": ITEM}),
            Req("POST", "/embed", json=ITEM),
            Req("POST", "/embed", json={"item": {"name": "a", "price": "free"}}),
        ],
    )
