"""FastAPI tutorial: "Query Parameters", "Query Parameters and String Validations" and "Query Parameter Models"."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from ._diff import Req, compare

fake_items_db = [{"item_name": "Foo"}, {"item_name": "Bar"}, {"item_name": "Baz"}]
DATA = {"isbn-9781529046137": "The Hitchhiker's Guide", "imdb-tt0371724": "The Hitchhiker's Guide to the Galaxy"}


def check_valid_id(id: str) -> str:
    if not id.startswith(("isbn-", "imdb-")):
        raise ValueError('Invalid ID format, it must start with "isbn-" or "imdb-"')
    return id


class FilterParams(BaseModel):
    model_config = {"extra": "forbid"}

    limit: int = Field(100, gt=0, le=100)
    offset: int = Field(0, ge=0)
    order_by: Literal["created_at", "updated_at"] = "created_at"
    tags: list[str] = []


def build(fastapi: Any, starlette: Any) -> Any:
    app = fastapi.FastAPI()

    @app.get("/items/")
    async def read_items(skip: int = 0, limit: int = 10):
        return fake_items_db[skip : skip + limit]

    @app.get("/items/{item_id}")
    async def read_item(item_id: str, q: str | None = None, short: bool = False):
        item: dict[str, Any] = {"item_id": item_id}
        if q:
            item.update({"q": q})
        if not short:
            item.update({"description": "This is an amazing item that has a long description"})
        return item

    @app.get("/users/{user_id}/items/{item_id}")
    async def read_user_item(user_id: int, item_id: str, needy: str, skip: int = 0, limit: int | None = None):
        return {"item_id": item_id, "owner_id": user_id, "needy": needy, "skip": skip, "limit": limit}

    @app.get("/validated/")
    async def validated(
        q: Annotated[
            str | None,
            fastapi.Query(
                alias="item-query",
                title="Query string",
                description="Query string for the items to search in the database",
                min_length=3,
                max_length=50,
                pattern="^fixedquery$",
                deprecated=True,
            ),
        ] = None,
    ):
        results: dict[str, Any] = {"items": [{"item_id": "Foo"}, {"item_id": "Bar"}]}
        if q:
            results.update({"q": q})
        return results

    @app.get("/required/")
    async def required(q: Annotated[str, fastapi.Query(min_length=3)]):
        return {"q": q}

    @app.get("/lists/")
    async def lists(q: Annotated[list[str] | None, fastapi.Query()] = None):
        return {"q": q}

    @app.get("/list-defaults/")
    async def list_defaults(q: Annotated[list[str], fastapi.Query()] = ["foo", "bar"]):  # noqa: B006
        return {"q": q}

    @app.get("/hidden/")
    async def hidden(hidden_query: Annotated[str | None, fastapi.Query(include_in_schema=False)] = None):
        return {"hidden_query": hidden_query} if hidden_query else {"hidden_query": "Not found"}

    @app.get("/books/")
    async def books(id: Annotated[str | None, AfterValidator(check_valid_id)] = None):
        return {"id": id, "name": DATA.get(id or "")}

    @app.get("/filtered/")
    async def filtered(filter_query: Annotated[FilterParams, fastapi.Query()]):
        return filter_query

    return app


def test_defaults_optional_and_bool_conversion() -> None:
    compare(
        build,
        [
            Req("GET", "/items/"),
            Req("GET", "/items/?skip=1"),
            Req("GET", "/items/?skip=1&limit=1"),
            Req("GET", "/items/?skip=x"),
            Req("GET", "/items/foo"),
            Req("GET", "/items/foo?q=hi"),
            *[Req("GET", f"/items/foo?short={value}") for value in ("1", "True", "true", "on", "yes", "0", "off", "x")],
        ],
    )


def test_required_query_parameters() -> None:
    compare(
        build,
        [
            Req("GET", "/users/1/items/a?needy=sooo"),
            Req("GET", "/users/1/items/a"),
            Req("GET", "/users/x/items/a?skip=y&limit=z"),
            Req("GET", "/users/1/items/a?needy=n&skip=2&limit=3"),
        ],
    )


def test_string_validations_alias_and_deprecated() -> None:
    compare(
        build,
        [
            Req("GET", "/validated/"),
            Req("GET", "/validated/?item-query=fixedquery"),
            Req("GET", "/validated/?item-query=nonregexquery"),
            Req("GET", "/validated/?item-query=ab"),
            Req("GET", "/validated/?item-query=" + "x" * 51),
            Req("GET", "/validated/?q=fixedquery"),
            Req("GET", "/required/?q=abc"),
            Req("GET", "/required/?q=ab"),
            Req("GET", "/required/"),
            Req("GET", "/hidden/?hidden_query=x"),
            Req("GET", "/hidden/"),
        ],
    )


def test_query_lists() -> None:
    compare(
        build,
        [
            Req("GET", "/lists/?q=foo&q=bar"),
            Req("GET", "/lists/"),
            Req("GET", "/lists/?q="),
            Req("GET", "/list-defaults/"),
            Req("GET", "/list-defaults/?q=baz"),
        ],
    )


def test_custom_validation() -> None:
    compare(
        build,
        [
            Req("GET", "/books/"),
            Req("GET", "/books/?id=isbn-9781529046137"),
            Req("GET", "/books/?id=imdb-tt0371724"),
            Req("GET", "/books/?id=wiki-123"),
        ],
    )


def test_query_parameter_models() -> None:
    compare(
        build,
        [
            Req("GET", "/filtered/"),
            Req("GET", "/filtered/?limit=10&offset=2&order_by=updated_at&tags=a&tags=b"),
            Req("GET", "/filtered/?limit=0&order_by=name"),
            Req("GET", "/filtered/?tool=plumbus"),
            Req("GET", "/filtered/?limit=x&offset=-1"),
        ],
    )
