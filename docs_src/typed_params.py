from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ketch import Body, Cookie, Form, Header, Ketch, Path, Query, UploadFile

app = Ketch()


class Color(str, Enum):  # noqa: UP042 - a str Enum, as pydantic and the OpenAPI document see it
    red = "red"
    blue = "blue"


class Item(BaseModel):
    name: str = Field(min_length=1)
    price: float = Field(gt=0)
    tags: list[str] = []


class Filters(BaseModel):
    model_config = {"extra": "forbid"}  # an unknown query parameter is a 422

    limit: int = Field(10, gt=0, le=100)
    order_by: Literal["created", "updated"] = "created"
    tag: list[str] = []  # ?tag=a&tag=b
    color: Color | None = None


@app.get("/items/{item_id}")
async def read_item(
    item_id: Annotated[int, Path(ge=1)],  # from the path, converted and validated
    q: Annotated[str | None, Query(max_length=20)] = None,  # ?q=..., optional
    short: bool = False,  # ?short=1, yes, true, on...
) -> dict[str, object]:
    return {"item_id": item_id, "q": q, "short": short}


@app.get("/items/")
async def list_items(filters: Annotated[Filters, Query()]) -> Filters:  # a model groups query parameters
    return filters


@app.post("/items/", status_code=201)
async def create_item(
    item: Item,  # a model: the JSON body
    importance: Annotated[int, Body(gt=0)] = 1,  # a second body value: the body becomes {"item": ..., ...}
    x_request_id: Annotated[str | None, Header()] = None,  # the X-Request-Id header
) -> dict[str, object]:
    return {"item": item, "importance": importance, "request_id": x_request_id}


@app.get("/me")
async def me(
    session: Annotated[str | None, Cookie()] = None,
    user_agent: Annotated[str | None, Header()] = None,
) -> dict[str, object]:
    return {"session": session, "user_agent": user_agent}


@app.post("/login")
async def login(username: Annotated[str, Form()], password: Annotated[str, Form(min_length=8)]) -> dict[str, str]:
    return {"username": username}


@app.post("/upload")
async def upload(file: UploadFile, note: Annotated[str, Form()] = "") -> dict[str, object]:
    content = await file.read()
    return {"filename": file.filename, "size": len(content), "note": note}
