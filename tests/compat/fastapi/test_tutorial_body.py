"""FastAPI tutorial: "Request Body", "Body - Multiple Parameters", "Body - Fields", "Body - Nested Models",
"Extra Data Types" and "Body - Updates"."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

from datetime import datetime, time, timedelta
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field, HttpUrl

from ._diff import Req, compare


class Item(BaseModel):
    name: str
    description: str | None = None
    price: float
    tax: float | None = None


class User(BaseModel):
    username: str
    full_name: str | None = None


class FieldItem(BaseModel):
    name: str
    description: str | None = Field(default=None, title="The description of the item", max_length=300)
    price: float = Field(gt=0, description="The price must be greater than zero")
    tax: float | None = None


class Image(BaseModel):
    url: HttpUrl
    name: str


class NestedItem(BaseModel):
    name: str
    price: float
    tags: set[str] = set()
    images: list[Image] | None = None


class Offer(BaseModel):
    name: str
    items: list[NestedItem]


class StoredItem(BaseModel):
    name: str | None = None
    description: str | None = None
    price: float | None = None
    tax: float = 10.5
    tags: list[str] = []


def build(fastapi: Any, starlette: Any) -> Any:
    app = fastapi.FastAPI()

    @app.post("/items/")
    async def create_item(item: Item):
        item_dict = item.model_dump()
        if item.tax is not None:
            item_dict.update({"price_with_tax": item.price + item.tax})
        return item_dict

    @app.put("/items/{item_id}")
    async def update_item(item_id: int, item: Item, q: str | None = None):
        result: dict[str, Any] = {"item_id": item_id, **item.model_dump()}
        if q:
            result.update({"q": q})
        return result

    @app.put("/multi/{item_id}")
    async def multi(item_id: int, item: Item, user: User, importance: Annotated[int, fastapi.Body(gt=0)]):
        return {"item_id": item_id, "item": item, "user": user, "importance": importance}

    @app.put("/optional-body/{item_id}")
    async def optional_body(item_id: int, item: Item | None = None):
        return {"item_id": item_id, "item": item}

    @app.put("/embed/{item_id}")
    async def embed(item_id: int, item: Annotated[Item, fastapi.Body(embed=True)]):
        return {"item_id": item_id, "item": item}

    @app.put("/fields/{item_id}")
    async def fields(item_id: int, item: Annotated[FieldItem, fastapi.Body(embed=True)]):
        return {"item_id": item_id, "item": item}

    @app.put("/nested/{item_id}")
    async def nested(item_id: int, item: NestedItem):
        return {"item_id": item_id, "item": item}

    @app.post("/offers/")
    async def offers(offer: Offer):
        return offer

    @app.post("/images/multiple/")
    async def images(images: list[Image]):
        return images

    @app.post("/index-weights/")
    async def weights(weights: dict[int, float]):
        return weights

    @app.put("/extra/{item_id}")
    async def extra(
        item_id: UUID,
        start_datetime: Annotated[datetime, fastapi.Body()],
        end_datetime: Annotated[datetime, fastapi.Body()],
        process_after: Annotated[timedelta, fastapi.Body()],
        repeat_at: Annotated[time | None, fastapi.Body()] = None,
    ):
        start_process = start_datetime + process_after
        return {
            "item_id": item_id,
            "start_datetime": start_datetime,
            "end_datetime": end_datetime,
            "process_after": process_after,
            "repeat_at": repeat_at,
            "start_process": start_process,
            "duration": end_datetime - start_process,
        }

    store = {
        "foo": {"name": "Foo", "price": 50.2},
        "bar": {"name": "Bar", "description": "The bartenders", "price": 62, "tax": 20.2},
        "baz": {"name": "Baz", "description": None, "price": 50.2, "tax": 10.5, "tags": []},
    }

    @app.get("/stored/{item_id}", response_model=StoredItem)
    async def read_stored(item_id: str):
        return store[item_id]

    @app.put("/stored/{item_id}", response_model=StoredItem)
    async def replace_stored(item_id: str, item: StoredItem):
        store[item_id] = fastapi.encoders.jsonable_encoder(item)
        return item

    @app.patch("/stored/{item_id}", response_model=StoredItem)
    async def patch_stored(item_id: str, item: StoredItem):
        stored_item_model = StoredItem(**store[item_id])
        updated_item = stored_item_model.model_copy(update=item.model_dump(exclude_unset=True))
        store[item_id] = fastapi.encoders.jsonable_encoder(updated_item)
        return updated_item

    return app


ITEM = {"name": "Foo", "description": "An optional description", "price": 45.2, "tax": 3.5}


def test_request_body() -> None:
    compare(
        build,
        [
            Req("POST", "/items/", json=ITEM),
            Req("POST", "/items/", json={"name": "Foo", "price": "50.5"}),
            Req("POST", "/items/", json={"name": "Foo"}),
            Req("POST", "/items/", json={"name": "Foo", "price": "fifty"}),
            Req("POST", "/items/", json=[1, 2]),
            Req("POST", "/items/", json=None),
            Req("POST", "/items/"),
            Req("POST", "/items/", content=b"{bad json", headers={"content-type": "application/json"}),
            Req("POST", "/items/", content=b'{"name": "x", "price": 1}', headers={"content-type": "text/plain"}),
            Req("POST", "/items/", data={"name": "x", "price": "1"}),
            Req("PUT", "/items/5?q=hey", json=ITEM),
            Req("PUT", "/items/x", json={"name": "Foo"}),
        ],
    )


def test_multiple_body_parameters() -> None:
    user = {"username": "dave", "full_name": "Dave Grohl"}
    compare(
        build,
        [
            Req("PUT", "/multi/5", json={"item": ITEM, "user": user, "importance": 5}),
            Req("PUT", "/multi/5", json={"item": ITEM, "user": user, "importance": 0}),
            Req("PUT", "/multi/5", json={"item": ITEM, "user": user}),
            Req("PUT", "/multi/5", json={"item": {}, "user": {}, "importance": "x"}),
            Req("PUT", "/multi/5", json=ITEM),
            Req("PUT", "/optional-body/3", json=ITEM),
            Req("PUT", "/optional-body/3"),
            Req("PUT", "/embed/3", json={"item": ITEM}),
            Req("PUT", "/embed/3", json=ITEM),
        ],
    )


def test_body_fields() -> None:
    compare(
        build,
        [
            Req("PUT", "/fields/1", json={"item": {"name": "Foo", "price": 3}}),
            Req("PUT", "/fields/1", json={"item": {"name": "Foo", "price": -3, "description": "x" * 301}}),
        ],
    )


def test_nested_models() -> None:
    image = {"url": "http://example.com/baz.jpg", "name": "The Foo live"}
    compare(
        build,
        [
            Req("PUT", "/nested/1", json={"name": "Foo", "price": 1, "tags": ["a", "a"], "images": [image]}),
            Req("PUT", "/nested/1", json={"name": "Foo", "price": 1, "images": [{"url": "not a url", "name": "x"}]}),
            Req("POST", "/offers/", json={"name": "o", "items": [{"name": "Foo", "price": 1}]}),
            Req("POST", "/offers/", json={"name": "o", "items": [{"name": "Foo"}, {"price": "x"}]}),
            Req("POST", "/images/multiple/", json=[image, image]),
            Req("POST", "/images/multiple/", json=image),
            Req("POST", "/index-weights/", json={"1": 0.5, "2": 2}),
            Req("POST", "/index-weights/", json={"one": 0.5}),
        ],
    )


def test_extra_data_types() -> None:
    body = {
        "start_datetime": "2018-12-22T14:00:00+00:00",
        "end_datetime": "2018-12-24T15:00:00+00:00",
        "process_after": 85000,
        "repeat_at": "15:30:00",
    }
    compare(
        build,
        [
            Req("PUT", "/extra/3fa85f64-5717-4562-b3fc-2c963f66afa6", json=body),
            Req("PUT", "/extra/not-a-uuid", json=body),
            Req("PUT", "/extra/3fa85f64-5717-4562-b3fc-2c963f66afa6", json={**body, "process_after": "P1D"}),
            Req("PUT", "/extra/3fa85f64-5717-4562-b3fc-2c963f66afa6", json={"start_datetime": "yesterday"}),
        ],
    )


def test_body_updates() -> None:
    compare(
        build,
        [
            Req("GET", "/stored/foo"),
            Req("PUT", "/stored/bar", json={"name": "Barz", "price": 3, "description": None}),
            Req("GET", "/stored/bar"),
            Req("PATCH", "/stored/baz", json={"description": "patched", "tags": ["x"]}),
            Req("GET", "/stored/baz"),
            Req("PATCH", "/stored/foo", json={"price": "cheap"}),
        ],
    )
