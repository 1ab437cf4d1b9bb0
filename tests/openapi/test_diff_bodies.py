"""OpenAPI documents equal FastAPI's: request bodies (JSON, forms, files), nested models, examples."""

from types import SimpleNamespace
from typing import Annotated, Any

from pydantic import BaseModel, Field, HttpUrl

from tests.openapi._diff import compare


class Image(BaseModel):
    url: HttpUrl
    name: str


class Item(BaseModel):
    name: str
    description: str | None = Field(default=None, title="The description of the item", max_length=300)
    price: float = Field(gt=0, description="The price must be greater than zero")
    tax: float | None = None
    tags: set[str] = set()
    images: list[Image] | None = None


class User(BaseModel):
    username: str
    full_name: str | None = None


class ExampleItem(BaseModel):
    name: str
    price: float

    model_config = {"json_schema_extra": {"examples": [{"name": "Foo", "price": 35.4}]}}


class FormData(BaseModel):
    username: str
    password: str
    model_config = {"extra": "forbid"}


def test_json_bodies() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.post("/items/")
        async def create_item(item: Item) -> Item:
            return item

        @app.put("/items/{item_id}")
        async def update_item(
            item_id: int, item: Item, user: User, importance: Annotated[int, fa.Body(gt=0)], q: str | None = None
        ) -> dict[str, Any]:
            return {}

        @app.put("/embed/{item_id}")
        async def embed_item(item_id: int, item: Annotated[Item, fa.Body(embed=True)]) -> dict[str, Any]:
            return {}

        @app.post("/images/multiple/")
        async def create_multiple_images(images: list[Image]) -> list[Image]:
            return images

        @app.post("/index-weights/")
        async def create_index_weights(weights: dict[int, float]) -> dict[int, float]:
            return weights

        @app.post("/optional/")
        async def optional_body(item: Item | None = None) -> Any:
            return item

        return app

    compare(build)


def test_schema_examples() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.put("/items/{item_id}")
        async def update_item(item_id: int, item: ExampleItem) -> Any:
            return item

        @app.put("/body-examples/{item_id}")
        async def body_examples(
            item_id: int,
            item: Annotated[Item, fa.Body(examples=[{"name": "Foo", "price": 35.4}, {"name": "Bar", "price": "35.4"}])],
        ) -> Any:
            return item

        @app.put("/openapi-examples/{item_id}")
        async def openapi_examples(
            *,
            item_id: int,
            item: Annotated[
                Item,
                fa.Body(
                    openapi_examples={
                        "normal": {
                            "summary": "A normal example",
                            "description": "A **normal** item works correctly.",
                            "value": {"name": "Foo", "price": 35.4, "tax": 3.2},
                        },
                        "invalid": {"summary": "Invalid data is rejected", "value": {"name": "Baz", "price": None}},
                    }
                ),
            ],
        ) -> Any:
            return item

        return app

    compare(build)


def test_forms_and_files() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.post("/login/")
        async def login(username: Annotated[str, fa.Form()], password: Annotated[str, fa.Form()]) -> Any:
            return {}

        @app.post("/form-model/")
        async def form_model(data: Annotated[FormData, fa.Form()]) -> Any:
            return data

        @app.post("/files/")
        async def create_file(file: Annotated[bytes | None, fa.File(description="A file read as bytes")] = None) -> Any:
            return {}

        @app.post("/uploadfile/")
        async def create_upload_file(file: fa.UploadFile) -> Any:
            return {}

        @app.post("/uploadfiles/")
        async def create_upload_files(
            files: Annotated[list[fa.UploadFile], fa.File(description="Multiple files as UploadFile")],
        ) -> Any:
            return {}

        @app.post("/mixed/")
        async def mixed(
            file: Annotated[bytes, fa.File()],
            fileb: Annotated[fa.UploadFile, fa.File()],
            token: Annotated[str, fa.Form()],
        ) -> Any:
            return {}

        return app

    compare(build)


def test_form_model_with_other_fields() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.post("/mixed-model/")
        async def mixed_model(data: Annotated[FormData, fa.Form()], extra: Annotated[str, fa.Form()]) -> Any:
            return {}

        @app.post("/optional-model/")
        async def optional_model(data: Annotated[FormData | None, fa.Form()] = None) -> Any:
            return {}

        return app

    compare(build)


def test_body_in_dependencies() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        def common(item: Item, flag: Annotated[bool, fa.Body()] = False) -> Item:
            return item

        @app.post("/with-dep/")
        async def with_dep(item: Annotated[Item, fa.Depends(common)], note: Annotated[str, fa.Body()]) -> Any:
            return {}

        @app.post("/only-dep/")
        async def only_dep(item: Annotated[Item, fa.Depends(common)]) -> Any:
            return {}

        return app

    compare(build)
