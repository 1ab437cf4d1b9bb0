"""OpenAPI documents equal FastAPI's: path, query, header and cookie parameters, parameter models, validations."""

import datetime
import uuid
from decimal import Decimal
from enum import Enum
from types import SimpleNamespace
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from tests.openapi._diff import compare


class ModelName(str, Enum):  # noqa: UP042 - the tutorial's spelling, which FastAPI documents as a string enum
    alexnet = "alexnet"
    resnet = "resnet"
    lenet = "lenet"


class FilterParams(BaseModel):
    model_config = {"extra": "forbid"}

    limit: int = Field(100, gt=0, le=100)
    offset: int = Field(0, ge=0)
    order_by: Literal["created_at", "updated_at"] = "created_at"
    tags: list[str] = []


class CommonHeaders(BaseModel):
    host: str
    save_data: bool
    if_modified_since: str | None = None
    traceparent: str | None = None
    x_tag: list[str] = []


class Cookies(BaseModel):
    session_id: str
    fatebook_tracker: str | None = None
    googall_tracker: str | None = None


def test_path_params_and_enums() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.get("/items/{item_id}")
        async def read_item(item_id: int) -> dict[str, int]:
            return {"item_id": item_id}

        @app.get("/users/me")
        async def read_user_me() -> dict[str, str]:
            return {"user_id": "the current user"}

        @app.get("/models/{model_name}")
        async def get_model(model_name: ModelName) -> dict[str, Any]:
            return {}

        @app.get("/files/{file_path:path}")
        async def read_file(file_path: str) -> dict[str, str]:
            return {}

        return app

    compare(build)


def test_query_params_and_string_validations() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.get("/items/")
        async def read_items(
            skip: int = 0,
            limit: int = 10,
            q: Annotated[
                str | None,
                fa.Query(
                    alias="item-query",
                    title="Query string",
                    description="Query string for the items to search in the database that have a good match",
                    min_length=3,
                    max_length=50,
                    pattern="^fixedquery$",
                    deprecated=True,
                ),
            ] = None,
            hidden_query: Annotated[str | None, fa.Query(include_in_schema=False)] = None,
            tags: Annotated[list[str] | None, fa.Query()] = None,
            defaults: Annotated[list[str], fa.Query()] = ["foo", "bar"],  # noqa: B006
            needy: str = "x",
            short: bool = False,
        ) -> dict[str, Any]:
            return {}

        @app.get("/old/")
        async def old_style(q: str | None = fa.Query(default=None, max_length=50)) -> dict[str, Any]:
            return {}

        return app

    compare(build)


def test_numeric_validations_and_path() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.get("/items/{item_id}")
        async def read_items(
            *,
            item_id: Annotated[int, fa.Path(title="The ID of the item to get", ge=0, le=1000)],
            q: str,
            size: Annotated[float, fa.Query(gt=0, lt=10.5)],
        ) -> dict[str, Any]:
            return {}

        return app

    compare(build)


def test_headers_and_cookies() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.get("/items/")
        async def read_items(
            user_agent: Annotated[str | None, fa.Header()] = None,
            strange_header: Annotated[str | None, fa.Header(convert_underscores=False)] = None,
            x_token: Annotated[list[str] | None, fa.Header()] = None,
            ads_id: Annotated[str | None, fa.Cookie()] = None,
        ) -> dict[str, Any]:
            return {}

        return app

    compare(build)


def test_parameter_models() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.get("/items/")
        async def read_items(filter_query: Annotated[FilterParams, fa.Query()]) -> Any:
            return filter_query

        @app.get("/headers/")
        async def read_headers(headers: Annotated[CommonHeaders, fa.Header()]) -> Any:
            return headers

        @app.get("/cookies/")
        async def read_cookies(cookies: Annotated[Cookies, fa.Cookie()]) -> Any:
            return cookies

        return app

    compare(build)


def test_extra_data_types() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.put("/items/{item_id}")
        async def read_items(
            item_id: uuid.UUID,
            start_datetime: Annotated[datetime.datetime, fa.Body()],
            end_datetime: Annotated[datetime.datetime, fa.Body()],
            process_after: Annotated[datetime.timedelta, fa.Body()],
            repeat_at: Annotated[datetime.time | None, fa.Body()] = None,
            price: Annotated[Decimal, fa.Query()] = Decimal("1.5"),
            when: datetime.date | None = None,
            raw: Annotated[bytes | None, fa.Body()] = None,
        ) -> dict[str, Any]:
            return {}

        return app

    compare(build)


def test_examples_on_parameters() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.get("/items/")
        async def read_items(
            q: Annotated[
                str | None,
                fa.Query(
                    examples=["foo", "bar"],
                    openapi_examples={
                        "normal": {"summary": "A normal example", "value": "foo"},
                        "other": {"summary": "Other", "description": "More", "value": "bar"},
                    },
                ),
            ] = None,
            n: Annotated[int, fa.Query(examples=[1])] = 1,
        ) -> dict[str, Any]:
            return {}

        return app

    compare(build)
