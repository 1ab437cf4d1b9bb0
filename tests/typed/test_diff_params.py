"""Differential tests: path, query, header and cookie parameters, on FastAPI and on ketch."""

# The app is built twice, from two import surfaces held in a namespace: its annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, attr-defined, misc, assignment"

from enum import Enum
from types import SimpleNamespace
from typing import Annotated, Literal

from ._diff import Req, compare


class Color(str, Enum):  # noqa: UP042 - written the way the FastAPI docs write it
    red = "red"
    blue = "blue"


def build(api: SimpleNamespace) -> object:
    app = api.App()

    @app.get("/items/{item_id}")
    async def item(item_id: int, q: str | None = None, short: bool = False) -> dict[str, object]:
        return {"item_id": item_id, "q": q, "short": short}

    @app.get("/users/{user_id}/items/{name}")
    def user_item(user_id: Annotated[int, api.Path(gt=0, le=1000)], name: str, limit: int = 10) -> dict[str, object]:
        return {"user_id": user_id, "name": name, "limit": limit}

    @app.get("/search")
    async def search(
        q: Annotated[str, api.Query(min_length=3, max_length=10, pattern="^[a-z]+$")],
        page: Annotated[int, api.Query(ge=1)] = 1,
        tags: Annotated[list[str] | None, api.Query()] = None,
        ids: Annotated[list[int], api.Query()] = [],  # noqa: B006
        color: Color | None = None,
        mode: Literal["fast", "slow"] = "fast",
        price: Annotated[float, api.Query(gt=0, multiple_of=0.5)] = 1.0,
    ) -> dict[str, object]:
        return {"q": q, "page": page, "tags": tags, "ids": ids, "color": color, "mode": mode, "price": price}

    @app.get("/alias")
    async def alias(
        item_query: Annotated[str, api.Query(alias="item-query")],
        other: Annotated[str | None, api.Query(validation_alias="otherName")] = None,
    ) -> dict[str, object]:
        return {"item_query": item_query, "other": other}

    @app.get("/headers")
    async def headers(
        user_agent: Annotated[str | None, api.Header()] = None,
        x_token: Annotated[list[str] | None, api.Header()] = None,
        strange_header: Annotated[str | None, api.Header(convert_underscores=False)] = None,
        x_num: Annotated[int | None, api.Header(alias="X-Num")] = None,
    ) -> dict[str, object]:
        return {"ua": user_agent, "x_token": x_token, "strange": strange_header, "x_num": x_num}

    @app.get("/required-header")
    async def required_header(x_key: Annotated[str, api.Header()]) -> dict[str, str]:
        return {"x_key": x_key}

    @app.get("/cookies")
    async def cookies(
        session: Annotated[str | None, api.Cookie()] = None, n: Annotated[int, api.Cookie()] = 0
    ) -> dict[str, object]:
        return {"session": session, "n": n}

    @app.get("/request")
    async def with_request(request: api.Request, x: int = 0) -> dict[str, object]:
        return {"path": request.url.path, "x": x}

    @app.get("/none")
    async def none() -> None:
        return None

    @app.get("/str")
    def text() -> str:
        return "hello"

    return app


def test_path_and_query_params() -> None:
    compare(
        build,
        [
            Req("GET", "/items/3"),
            Req("GET", "/items/3?q=x&short=yes"),
            Req("GET", "/items/3?short=maybe"),
            Req("GET", "/items/abc"),
            Req("GET", "/items/99999999999999999999999"),
            Req("GET", "/items/3?short=1&q="),
            Req("GET", "/users/5/items/book"),
            Req("GET", "/users/0/items/book?limit=x"),
            Req("GET", "/users/1001/items/book"),
            Req("GET", "/search"),
            Req("GET", "/search?q=ab"),
            Req("GET", "/search?q=abcdefghijkl"),
            Req("GET", "/search?q=ABC"),
            Req("GET", "/search?q=abc&page=0"),
            Req("GET", "/search?q=abc&tags=a&tags=b&ids=1&ids=2"),
            Req("GET", "/search?q=abc&ids=1&ids=x&ids=3"),
            Req("GET", "/search?q=abc&color=red&mode=slow"),
            Req("GET", "/search?q=abc&color=green&mode=medium"),
            Req("GET", "/search?q=abc&price=1.25"),
            Req("GET", "/search?q=abc&price=-1"),
            Req("GET", "/search?q=abc&price=1e309"),
            Req("GET", "/search?q=abc&page=1&page=x"),
            Req("GET", "/alias?item-query=1&otherName=2"),
            Req("GET", "/alias?item_query=1&other=2"),
            Req("GET", "/none"),
            Req("GET", "/str"),
            Req("GET", "/request?x=2"),
            Req("GET", "/request?x=two"),
        ],
    )


def test_headers_and_cookies() -> None:
    compare(
        build,
        [
            Req("GET", "/headers", headers={"user-agent": "ua", "x-token": "a"}),
            Req(
                "GET", "/headers", headers=[("x-token", "a"), ("x-token", "b"), ("strange_header", "s"), ("x-num", "4")]
            ),
            Req("GET", "/headers", headers={"strange-header": "s", "X-Num": "four"}),
            Req("GET", "/required-header"),
            Req("GET", "/required-header", headers={"x-key": ""}),
            Req("GET", "/required-header", headers={"x_key": "v"}),
            Req("GET", "/cookies", headers={"cookie": "session=abc; n=5"}),
            Req("GET", "/cookies", headers={"cookie": "n=five"}),
        ],
    )
