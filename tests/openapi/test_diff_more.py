"""OpenAPI documents equal FastAPI's: special parameters, dataclasses, aliases, sub-applications, models in several
places."""

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, Field

from ketch.testclient import TestClient
from tests.openapi._diff import FASTAPI, KETCH, assert_same, compare


@dataclass
class DataItem:
    name: str
    price: float
    tags: list[str] = field(default_factory=list)
    description: str | None = None


class Author(BaseModel):
    name: str = Field(alias="authorName")
    age: int | None = None


class Book(BaseModel):
    title: str
    author: Author
    kind: Literal["novel", "essay"] = "novel"


def test_special_parameters_are_not_documented() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        def dep(request: fa.Request, scopes: fa.security.SecurityScopes, q: str | None = None) -> str | None:
            return q

        @app.post("/items/{item_id}")
        async def create(
            item_id: int,
            request: fa.Request,
            response: fa.Response,
            background: fa.BackgroundTasks,
            value: Annotated[str | None, fa.Depends(dep)],
        ) -> dict[str, Any]:
            return {}

        return app

    compare(build)


def test_dataclasses_and_aliases() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.post("/items/", response_model=DataItem)
        async def create_item(item: DataItem) -> Any:
            return item

        @app.post("/books/")
        async def create_book(book: Book) -> Book:
            return book

        @app.get("/search/")
        async def search(
            query: Annotated[str, fa.Query(alias="q", max_length=10)],
            page: Annotated[int, fa.Query(validation_alias=AliasChoices("page", "p"))] = 1,
            x_request_id: Annotated[str | None, fa.Header(alias="X-Request-ID")] = None,
        ) -> dict[str, Any]:
            return {}

        return app

    compare(build)


def test_models_shared_between_routes_and_directions() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.post("/books/", response_model=list[Book], responses={409: {"model": Author}})
        async def create(books: list[Book], owner: Annotated[Author, fa.Body()]) -> Any:
            return books

        @app.get("/authors/{name}", response_model=Author, response_model_by_alias=False)
        async def read_author(name: str) -> Any:
            return {}

        return app

    compare(build)


def test_sub_application_documents() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.get("/app")
        def read_main() -> dict[str, str]:
            return {"message": "Hello World from main app"}

        subapi = fa.FastAPI()

        @subapi.get("/sub")
        def read_sub() -> dict[str, str]:
            return {"message": "Hello World from sub API"}

        app.mount("/subapi", subapi)
        return app

    with TestClient(build(FASTAPI)) as expected, TestClient(build(KETCH)) as actual:
        for url in ("/openapi.json", "/subapi/openapi.json"):
            assert_same(expected.get(url).json(), actual.get(url).json())
        assert actual.get("/subapi/docs").status_code == 200
        assert 'url: "/subapi/openapi.json"' in actual.get("/subapi/docs").text


def test_custom_openapi_recipe_with_app_routes_keeps_include_prefixes() -> None:
    # FastAPI's "Extending OpenAPI" recipe: get_openapi(routes=app.routes) in a replacement app.openapi.
    import fastapi.openapi.utils

    import ketch.compat.fastapi.openapi.utils

    def build(fa: SimpleNamespace) -> Any:
        utils = fastapi.openapi.utils if fa is FASTAPI else ketch.compat.fastapi.openapi.utils
        app = fa.FastAPI()
        items = fa.APIRouter(prefix="/items", tags=["items"])

        @items.get("/{item_id}")
        def read_item(item_id: int) -> dict[str, int]:
            return {"item_id": item_id}

        app.include_router(items, prefix="/api", tags=["api"])

        @app.get("/health")
        def health() -> str:
            return "ok"

        def custom_openapi() -> dict[str, Any]:
            if not app.openapi_schema:
                schema = utils.get_openapi(title="Custom", version="2.5.0", routes=app.routes)
                schema["info"]["x-logo"] = {"url": "/logo.png"}
                app.openapi_schema = schema
            return app.openapi_schema  # type: ignore[no-any-return]

        app.openapi = custom_openapi  # type: ignore[method-assign]
        return app

    expected = build(FASTAPI).openapi()
    actual = build(KETCH).openapi()
    assert_same(expected, actual)
    assert sorted(actual["paths"]) == ["/api/items/{item_id}", "/health"]
