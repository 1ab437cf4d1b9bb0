"""Differential tests: parameter models (one pydantic model for a group of query, header or cookie values)."""

# The app is built twice, from two import surfaces held in a namespace: its annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, attr-defined, misc, assignment"

from types import SimpleNamespace
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ._diff import Req, compare


class FilterParams(BaseModel):
    model_config = {"extra": "forbid"}

    limit: int = Field(100, gt=0, le=100)
    offset: int = Field(0, ge=0)
    order_by: Literal["created_at", "updated_at"] = "created_at"
    tags: list[str] = []


class LooseParams(BaseModel):
    q: str | None = None
    n: int = 1


class CommonHeaders(BaseModel):
    host: str
    save_data: bool
    if_modified_since: str | None = None
    x_tag: list[str] = []


class StrictHeaders(BaseModel):
    model_config = {"extra": "forbid"}
    x_token: str


class Cookies(BaseModel):
    model_config = {"extra": "forbid"}

    session_id: str
    fatebook_tracker: str | None = None


def build(api: SimpleNamespace) -> object:
    app = api.App()

    @app.get("/items")
    async def items(filters: Annotated[FilterParams, api.Query()]) -> FilterParams:
        return filters

    @app.get("/loose")
    async def loose(params: Annotated[LooseParams, api.Query()], other: int = 0) -> dict[str, object]:
        return {"params": params.model_dump(), "other": other}

    @app.get("/optional")
    async def optional(params: Annotated[LooseParams | None, api.Query()] = None) -> dict[str, object]:
        return {"params": params.model_dump() if params else None}

    @app.get("/headers")
    async def headers(values: Annotated[CommonHeaders, api.Header()]) -> CommonHeaders:
        return values

    @app.get("/strict-headers")
    async def strict_headers(values: Annotated[StrictHeaders, api.Header()]) -> StrictHeaders:
        return values

    @app.get("/cookies")
    async def cookies(values: Annotated[Cookies, api.Cookie()]) -> Cookies:
        return values

    return app


def test_query_models() -> None:
    compare(
        build,
        [
            Req("GET", "/items"),
            Req("GET", "/items?limit=5&offset=2&order_by=updated_at&tags=a&tags=b"),
            Req("GET", "/items?limit=0&offset=-1&order_by=name"),
            Req("GET", "/items?unknown=1&tags=x"),
            Req("GET", "/loose?q=a&n=2&other=3"),
            Req("GET", "/loose?n=x&extra=1"),
            Req("GET", "/optional"),
            Req("GET", "/optional?q=a"),
            Req("GET", "/optional?unrelated=1"),
        ],
    )


def test_header_and_cookie_models() -> None:
    compare(
        build,
        [
            Req("GET", "/headers", headers={"save-data": "true", "x-tag": "a"}),
            Req("GET", "/headers", headers=[("save-data", "maybe"), ("x-tag", "a"), ("x-tag", "b")]),
            Req("GET", "/headers", headers={"save_data": "true"}),
            Req("GET", "/strict-headers", headers={"x-token": "t"}),
            Req("GET", "/cookies", headers={"cookie": "session_id=1; fatebook_tracker=2"}),
            Req("GET", "/cookies", headers={"cookie": "session_id=1; other=2"}),
            Req("GET", "/cookies"),
        ],
    )
