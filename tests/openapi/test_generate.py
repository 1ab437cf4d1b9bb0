"""The document of a ketch app: what ketch adds (its own error statuses, classic-face routes) and validity."""

from typing import Annotated, Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel

from ketch import Ketch, Router
from ketch.openapi import WebhookRouter, get_openapi
from ketch.params import Body, Depends
from ketch.security import HTTPBearer


class Item(BaseModel):
    name: str


def typed_app(**options: Any) -> Ketch:
    app = Ketch(title="Shop", **options)
    bearer = HTTPBearer()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None) -> Item:
        return Item(name="x")

    @app.post("/items", status_code=201)
    async def create_item(item: Item, token: Annotated[Any, Depends(bearer)]) -> Item:
        return item

    @app.delete("/items/{item_id}", status_code=204, responses={404: {"description": "No such item"}})
    async def delete_item(item_id: int) -> None:
        return None

    @app.get("/plain")
    async def plain() -> dict[str, str]:
        return {}

    return app


def test_ketch_lists_the_statuses_it_answers_with() -> None:
    document = typed_app().openapi()
    validate(document)  # type: ignore[arg-type]
    read = document["paths"]["/items/{item_id}"]["get"]["responses"]
    assert set(read) == {"200", "400", "422"}  # 400: too many query parameters
    create = document["paths"]["/items"]["post"]["responses"]
    assert set(create) == {"201", "400", "401", "413", "422"}
    assert create["413"]["description"] == "Content Too Large"
    assert create["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/HTTPError"}
    delete = document["paths"]["/items/{item_id}"]["delete"]["responses"]
    assert set(delete) == {"204", "404", "413", "422"}
    assert set(document["paths"]["/plain"]["get"]["responses"]) == {"200"}
    assert document["components"]["schemas"]["HTTPError"]["required"] == ["detail"]


def test_no_413_without_a_body_limit() -> None:
    document = typed_app(max_body_size=None).openapi()
    assert "413" not in document["paths"]["/items"]["post"]["responses"]


def test_classic_routes_appear_with_what_is_known() -> None:
    app = Ketch(__name__)
    app.config["SECRET_KEY"] = "test"

    @app.route("/users/<int:user_id>", methods=["GET", "POST"])
    def user(user_id: int) -> str:
        """Show a user.\f Internal notes."""
        return "hi"

    @app.route("/about/", strict_slashes=False)
    def about() -> str:
        return "about"

    @app.get("/typed")
    async def typed() -> dict[str, str]:
        return {}

    document = app.openapi()
    validate(document)  # type: ignore[arg-type]
    assert set(document["paths"]) == {"/users/{user_id}", "/about/", "/typed"}
    get = document["paths"]["/users/{user_id}"]["get"]
    assert get["description"] == "Show a user."
    assert get["operationId"] == "user_users__user_id__get"
    assert document["paths"]["/users/{user_id}"]["post"]["operationId"] == "user_users__user_id__post"
    assert get["parameters"] == [
        {"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer", "title": "User Id"}}
    ]
    assert set(document["paths"]["/about/"]) == {"get"}


def test_include_router_settings_add_up_as_in_fastapi() -> None:
    app = Ketch()
    inner = Router(prefix="/inner", tags=["inner"], responses={404: {"description": "Missing"}}, deprecated=True)

    @inner.get("/x", tags=["x"], responses={403: {"description": "Forbidden"}})
    async def x() -> dict[str, str]:
        return {}

    @inner.get("/hidden", include_in_schema=False)
    async def hidden() -> dict[str, str]:
        return {}

    outer = Router(prefix="/outer", tags=["outer"])
    outer.include_router(inner, tags=["included"])
    app.include_router(outer, tags=["top"])
    operation = app.openapi()["paths"]["/outer/inner/x"]["get"]
    assert operation["tags"] == ["top", "outer", "included", "inner", "x"]
    assert set(operation["responses"]) == {"200", "403", "404"}
    assert operation["deprecated"] is True
    assert "/outer/inner/hidden" not in app.openapi()["paths"]


def test_webhooks_and_get_openapi_on_any_routes() -> None:
    webhooks = WebhookRouter()

    @webhooks.post("new-item")
    def new_item(item: Item) -> None:
        """Sent when an item is created."""

    app = Ketch(webhooks=webhooks)
    document = app.openapi()
    validate(document)  # type: ignore[arg-type]
    assert document["webhooks"]["new-item"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Item"
    }
    router = Router()

    @router.put("/things/{thing_id}")
    async def put_thing(thing_id: int, item: Annotated[Item, Body(embed=True)]) -> Item:
        return item

    built = get_openapi(title="T", version="1", routes=router.routes, webhooks=webhooks, servers=[{"url": "/x"}])
    validate(built)  # type: ignore[arg-type]
    assert "Body_put_thing_things__thing_id__put" in built["components"]["schemas"]
    assert built["servers"] == [{"url": "/x"}]


@pytest.mark.parametrize("openapi_url", ["/openapi.json", None])
def test_openapi_method_works_even_when_not_served(openapi_url: str | None) -> None:
    assert typed_app(openapi_url=openapi_url).openapi()["info"] == {"title": "Shop", "version": "0.1.0"}
