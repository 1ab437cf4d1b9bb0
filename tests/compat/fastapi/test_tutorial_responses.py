"""FastAPI tutorial: "Response Model - Return Type", "Extra Models", "Response Status Code", and the advanced
"Return a Response Directly" and "Custom Response - HTML, Stream, File, others"."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ._diff import Req, compare


class Item(BaseModel):
    name: str
    description: str | None = None
    price: float
    tax: float = 10.5
    tags: list[str] = []


class UserBase(BaseModel):
    username: str
    email: str
    full_name: str | None = None


class UserIn(UserBase):
    password: str


class UserOut(UserBase):
    pass


class UserInDB(UserBase):
    hashed_password: str


class BaseItem(BaseModel):
    description: str
    type: str


class CarItem(BaseItem):
    type: str = "car"


class PlaneItem(BaseItem):
    type: str = "plane"
    size: int


class LegacyItem(BaseModel):
    title: str
    timestamp: datetime
    description: str | None = None


items = {
    "foo": {"name": "Foo", "price": 50.2},
    "bar": {"name": "Bar", "description": "The bartenders", "price": 62, "tax": 20.2},
    "baz": {"name": "Baz", "description": None, "price": 50.2, "tax": 10.5, "tags": []},
}
vehicles = {
    "item1": {"description": "All my friends drive a low rider", "type": "car"},
    "item2": {"description": "Music is my aeroplane, it's my aeroplane", "type": "plane", "size": 5},
}


def fake_save_user(user_in: UserIn) -> UserInDB:
    return UserInDB(**user_in.model_dump(), hashed_password="supersecret" + user_in.password)


def build(fastapi: Any, starlette: Any) -> Any:
    app = fastapi.FastAPI()
    responses = fastapi.responses

    @app.post("/items/", status_code=201)
    async def create_item(item: Item) -> Item:
        return item

    @app.get("/items/")
    async def read_items() -> list[Item]:
        return [Item(name="Portal Gun", price=42.0), Item(name="Plumbus", price=32.0)]

    @app.get("/items/{item_id}", response_model=Item, response_model_exclude_unset=True)
    async def read_item(item_id: str):
        return items[item_id]

    @app.get("/items/{item_id}/name", response_model=Item, response_model_include={"name", "description"})
    async def read_item_name(item_id: str):
        return items[item_id]

    @app.get("/items/{item_id}/public", response_model=Item, response_model_exclude={"tax"})
    async def read_item_public_data(item_id: str):
        return items[item_id]

    @app.post("/user/", response_model=UserOut)
    async def create_user(user_in: UserIn):
        return fake_save_user(user_in)

    @app.post("/user-typed/")
    async def create_user_typed(user: UserIn) -> UserBase:
        return user

    @app.get("/vehicles/{item_id}", response_model=PlaneItem | CarItem)
    async def read_vehicle(item_id: str):
        return vehicles[item_id]

    @app.get("/keyword-weights/", response_model=dict[str, float])
    async def read_keyword_weights():
        return {"foo": 2.3, "bar": 3.4}

    @app.get("/invalid-output/", response_model=Item)
    async def invalid_output():
        return {"name": "no price"}

    @app.get("/no-model/", response_model=None)
    async def no_model() -> dict[str, Any] | responses.RedirectResponse:
        return {"anything": [1, "two"]}

    @app.get("/teleport")
    async def get_teleport() -> responses.RedirectResponse:
        return responses.RedirectResponse(url="https://www.youtube.com/watch?v=dQw4w9WgXcQ")

    @app.post("/status/", status_code=fastapi.status.HTTP_201_CREATED)
    async def create_with_status(name: str):
        return {"name": name}

    @app.delete("/status/{name}", status_code=204)
    async def delete_with_status(name: str) -> None:
        return None

    @app.put("/legacy/{id}")
    def update_legacy(id: str, item: LegacyItem):
        json_compatible_item_data = fastapi.encoders.jsonable_encoder(item)
        return responses.JSONResponse(content=json_compatible_item_data)

    @app.get("/legacy/")
    def get_legacy():
        data = """<?xml version="1.0"?>
        <shampoo><Header>Apply shampoo here.</Header><Body>You'll have to use soap here.</Body></shampoo>
        """
        return fastapi.Response(content=data, media_type="application/xml")

    @app.get("/html/", response_class=responses.HTMLResponse)
    async def read_html():
        return "<html><body><h1>Look ma! HTML!</h1></body></html>"

    @app.get("/html-direct/")
    async def read_html_direct():
        return responses.HTMLResponse(content="<h1>Direct</h1>", status_code=203)

    @app.get("/plain/", response_class=responses.PlainTextResponse)
    async def plain():
        return "Hello World"

    @app.get("/redirect-class/", response_class=responses.RedirectResponse, status_code=302)
    async def redirect_class():
        return "https://docs.pydantic.dev/"

    @app.get("/json-alternate/", response_class=responses.JSONResponse)
    async def json_alternate():
        return [{"item_id": "Foo", "emoji": "\u2603", "when": datetime(2020, 1, 2, 3, 4, 5)}]

    @app.get("/unicode/")
    async def unicode():
        return {"text": "\u00e9\u4e2d\U0001f600", "escape": '"\\\n\t</script>'}

    @app.get("/file/", response_class=responses.FileResponse)
    async def file_by_path():
        return str(Path(__file__))

    @app.get("/file-direct/")
    async def file_direct():
        return responses.FileResponse(str(Path(__file__)), filename="example.py")

    return app


def test_response_model_and_return_type() -> None:
    compare(
        build,
        [
            Req("POST", "/items/", json={"name": "Foo", "price": 1, "secret": "dropped"}),
            Req("POST", "/items/", json={"name": "Foo"}),
            Req("GET", "/items/"),
            Req("GET", "/items/foo"),
            Req("GET", "/items/bar"),
            Req("GET", "/items/baz"),
            Req("GET", "/items/bar/name"),
            Req("GET", "/items/bar/public"),
            Req("GET", "/keyword-weights/"),
            Req("GET", "/no-model/"),
            Req("GET", "/teleport", follow_redirects=False),
        ],
    )


def test_response_validation_error_is_a_server_error() -> None:
    compare(build, [Req("GET", "/invalid-output/")], raise_server_exceptions=False)


def test_extra_models() -> None:
    user = {"username": "john", "password": "secret", "email": "john@example.com", "full_name": "John Doe"}
    compare(
        build,
        [
            Req("POST", "/user/", json=user),
            Req("POST", "/user/", json={**user, "email": ["not", "a", "string"]}),
            Req("POST", "/user-typed/", json=user),
            Req("GET", "/vehicles/item1"),
            Req("GET", "/vehicles/item2"),
        ],
    )


def test_response_status_codes() -> None:
    compare(
        build,
        [
            Req("POST", "/status/?name=x"),
            Req("DELETE", "/status/x"),
            Req("POST", "/items/", json={"name": "Foo", "price": 1}),
        ],
    )


def test_return_a_response_directly() -> None:
    compare(
        build,
        [
            Req("PUT", "/legacy/1", json={"title": "t", "timestamp": "2020-01-01T10:00:00"}),
            Req("PUT", "/legacy/1", json={"title": "t"}),
            Req("GET", "/legacy/"),
        ],
    )


def test_custom_response_classes() -> None:
    compare(
        build,
        [
            Req("GET", "/html/"),
            Req("GET", "/html-direct/"),
            Req("GET", "/plain/"),
            Req("GET", "/redirect-class/", follow_redirects=False),
            Req("GET", "/json-alternate/"),
            Req("GET", "/unicode/"),
            Req("GET", "/file/"),
            Req("GET", "/file-direct/"),
            Req("HEAD", "/file/"),
        ],
    )
