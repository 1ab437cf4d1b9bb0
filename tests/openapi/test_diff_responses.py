"""OpenAPI documents equal FastAPI's: response models, status codes, additional responses, response classes,
streams."""

from collections.abc import AsyncIterable, AsyncIterator
from types import SimpleNamespace
from typing import Any, Union

from pydantic import BaseModel, EmailStr, computed_field

from tests.openapi._diff import compare


class UserIn(BaseModel):
    username: str
    password: str
    email: str
    full_name: str | None = None


class UserOut(BaseModel):
    username: str
    email: str
    full_name: str | None = None


class Item(BaseModel):
    name: str
    description: str | None = None
    price: float
    tax: float = 10.5
    tags: list[str] = []


class Message(BaseModel):
    message: str


class BaseItem(BaseModel):
    description: str
    type: str


class CarItem(BaseItem):
    type: str = "car"


class PlaneItem(BaseItem):
    type: str = "plane"
    size: int


class Rectangle(BaseModel):
    width: int
    length: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def area(self) -> int:
        return self.width * self.length


_ = EmailStr


def test_response_models() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.post("/user/", response_model=UserOut)
        async def create_user(user: UserIn) -> Any:
            return user

        @app.get("/items/", response_model=list[Item])
        async def read_items() -> Any:
            return []

        @app.get("/items/{item_id}", response_model=Item, response_model_exclude_unset=True)
        async def read_item(item_id: str) -> Any:
            return {}

        @app.get("/union/{item_id}", response_model=Union[PlaneItem, CarItem])  # noqa: UP007
        async def read_union(item_id: str) -> Any:
            return {}

        @app.get("/keyword-weights/", response_model=dict[str, float])
        async def read_keyword_weights() -> Any:
            return {}

        @app.get("/annotated/")
        async def annotated() -> UserOut:
            return UserOut(username="a", email="b")

        @app.get("/none/", response_model=None)
        async def no_model() -> Any:
            return {}

        @app.get("/portal")
        async def get_portal(teleport: bool = False) -> fa.Response:
            return fa.Response()

        @app.get("/rectangle")
        async def rectangle() -> Rectangle:
            return Rectangle(width=1, length=2)

        @app.post("/rectangle")
        async def post_rectangle(rectangle: Rectangle) -> Rectangle:
            return rectangle

        return app

    compare(build)


def test_status_codes() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.post("/items/", status_code=201)
        async def create_item(name: str) -> dict[str, str]:
            return {"name": name}

        @app.delete("/items/{item_id}", status_code=fa.status.HTTP_204_NO_CONTENT)
        async def delete_item(item_id: int) -> None:
            return None

        @app.get("/redirect", response_class=fa.responses.RedirectResponse)
        async def redirect() -> Any:
            return "https://example.com"

        @app.get("/redirect-302", response_class=fa.responses.RedirectResponse, status_code=302)
        async def redirect_302() -> Any:
            return "https://example.com"

        return app

    compare(build)


def test_additional_responses() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.get("/items/{item_id}", response_model=Item, responses={404: {"model": Message}})
        async def read_item(item_id: str) -> Any:
            return {}

        @app.get(
            "/images/{item_id}",
            response_model=Item,
            responses={
                200: {"content": {"image/png": {}}, "description": "Return the JSON item or an image."},
                404: {"description": "Item not found"},
                "4XX": {"description": "Client error"},
                "default": {"description": "Anything else"},
            },
        )
        async def read_image(item_id: str, img: bool | None = None) -> Any:
            return {}

        @app.get(
            "/combined/{item_id}",
            response_model=Item,
            responses={
                404: {"model": Message, "description": "The item was not found"},
                200: {
                    "description": "Item requested by ID",
                    "content": {"application/json": {"example": {"id": "bar", "value": "The bar tenders"}}},
                },
                302: {"description": "The item was moved"},
                403: {"description": "Not enough privileges"},
            },
        )
        async def combined(item_id: str) -> Any:
            return {}

        return app

    compare(build)


def test_response_classes() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.get("/html/", response_class=fa.responses.HTMLResponse)
        async def html() -> str:
            return "<html></html>"

        @app.get("/text/", response_class=fa.responses.PlainTextResponse)
        async def text() -> str:
            return "hi"

        @app.get("/json/", response_class=fa.responses.JSONResponse)
        async def json_class() -> dict[str, str]:
            return {}

        @app.get("/direct/")
        async def direct() -> Any:
            return fa.responses.JSONResponse({"a": 1})

        return app

    compare(build)


def test_default_response_class_on_app_and_router() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI(default_response_class=fa.responses.HTMLResponse)
        router = fa.APIRouter(default_response_class=fa.responses.PlainTextResponse)

        @app.get("/a")
        async def a() -> str:
            return ""

        @router.get("/b")
        async def b() -> str:
            return ""

        @router.get("/c", response_class=fa.responses.JSONResponse)
        async def c() -> dict[str, str]:
            return {}

        app.include_router(router, prefix="/r")
        return app

    compare(build)


def test_streams() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.get("/items/stream")
        async def stream_items() -> AsyncIterable[Item]:
            yield Item(name="a", price=1)

        @app.get("/items/stream-plain")
        async def stream_plain() -> AsyncIterator[str]:
            yield "a"

        @app.get("/items/stream-untyped")
        async def stream_untyped():  # type: ignore[no-untyped-def]
            yield {"a": 1}

        @app.get("/sse", response_class=fa.sse.EventSourceResponse)
        async def sse() -> AsyncIterable[Item]:
            yield Item(name="a", price=1)

        @app.get("/sse-raw", response_class=fa.sse.EventSourceResponse)
        async def sse_raw() -> AsyncIterable[fa.sse.ServerSentEvent]:
            yield fa.sse.ServerSentEvent(data="x")

        return app

    compare(build)


def test_separate_input_output_schemas() -> None:
    class Model(BaseModel):
        name: str
        description: str | None = None

    def build(fa: SimpleNamespace, separate: bool = True) -> Any:
        app = fa.FastAPI(separate_input_output_schemas=separate)

        @app.post("/items/")
        def create_item(item: Model) -> Model:
            return item

        @app.get("/items/")
        def read_items() -> list[Model]:
            return []

        @app.post("/rect")
        def rect(r: Rectangle) -> Rectangle:
            return r

        return app

    document = compare(build)
    assert "Rectangle-Output" in document["components"]["schemas"]
    compare(lambda fa: build(fa, separate=False))
