"""OpenAPI documents equal FastAPI's: operation settings, dependencies, routers, metadata, callbacks, webhooks."""

import warnings
from enum import Enum
from types import SimpleNamespace
from typing import Annotated, Any

import fastapi
import fastapi.openapi.utils
import pytest
from pydantic import BaseModel, HttpUrl

import ketch.compat.fastapi
import ketch.compat.fastapi.openapi.utils
from ketch.testclient import TestClient
from tests.openapi._diff import FASTAPI, KETCH, assert_same, compare, ketch_document


class Item(BaseModel):
    name: str
    price: float


class Tags(Enum):
    items = "items"
    users = "users"


def test_path_operation_configuration() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.post(
            "/items/",
            status_code=201,
            tags=["items"],
            summary="Create an item",
            response_description="The created item",
            deprecated=True,
        )
        async def create_item(item: Item) -> Item:
            """
            Create an item with all the information:

            - **name**: each item must have a name
            \f
            :param item: User input.
            """
            return item

        @app.get("/users/", tags=[Tags.users], description="Read all the users")
        async def read_users() -> list[str]:
            return []

        @app.get("/elements/", tags=["items"], deprecated=True)
        async def read_elements() -> list[str]:
            return []

        @app.get("/operation-id/", operation_id="some_specific_id_you_define")
        async def with_id() -> dict[str, str]:
            return {}

        @app.get("/hidden/", include_in_schema=False)
        async def hidden() -> dict[str, str]:
            return {}

        @app.post(
            "/extra/",
            openapi_extra={
                "x-aperture-labs-portal": "blue",
                "requestBody": {
                    "content": {"application/x-yaml": {"schema": Item.model_json_schema()}},
                    "required": True,
                },
            },
        )
        async def extra() -> dict[str, str]:
            return {}

        return app

    compare(build)


def test_one_route_with_two_methods() -> None:
    # FastAPI names both operations after the first method of a set, which depends on the hash seed: compare the
    # rest, and check that ketch picks the same id each time (and warns about the duplicate, as FastAPI does).
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.api_route("/multi/", methods=["GET", "POST"])
        async def multi() -> dict[str, str]:
            return {}

        return app

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected, actual = build(FASTAPI).openapi(), ketch_document(build(KETCH))
    assert any("Duplicate Operation ID" in str(w.message) for w in caught)
    for document in (expected, actual):
        for operation in document["paths"]["/multi/"].values():
            operation.pop("operationId")
            operation["responses"]["200"]["content"]["application/json"]["schema"].pop("title")
    assert_same(expected, actual)
    with pytest.warns(UserWarning, match="Duplicate Operation ID multi_multi__get"):
        document = ketch_document(build(KETCH))
    assert document["paths"]["/multi/"]["post"]["operationId"] == "multi_multi__get"


def test_dependencies() -> None:
    def build(fa: SimpleNamespace) -> Any:
        async def common_parameters(q: str | None = None, skip: int = 0, limit: int = 100) -> dict[str, Any]:
            return {"q": q, "skip": skip, "limit": limit}

        class CommonQueryParams:
            def __init__(self, q: str | None = None, skip: int = 0, limit: int = 100):
                self.q = q

        def query_extractor(q: str | None = None) -> str | None:
            return q

        def query_or_cookie_extractor(
            q: Annotated[str, fa.Depends(query_extractor)], last_query: Annotated[str | None, fa.Cookie()] = None
        ) -> str:
            return q or last_query or ""

        async def verify_token(x_token: Annotated[str, fa.Header()]) -> None:
            return None

        async def verify_key(x_key: Annotated[str, fa.Header()]) -> str:
            return x_key

        def get_db():  # type: ignore[no-untyped-def]
            yield "db"

        app = fa.FastAPI(dependencies=[fa.Depends(verify_token)])

        @app.get("/items/")
        async def read_items(commons: Annotated[dict[str, Any], fa.Depends(common_parameters)]) -> Any:
            return commons

        @app.get("/users/")
        async def read_users(commons: Annotated[CommonQueryParams, fa.Depends()]) -> Any:
            return {}

        @app.get("/sub/")
        async def sub(query: Annotated[str, fa.Depends(query_or_cookie_extractor)]) -> Any:
            return {}

        @app.get("/decorated/", dependencies=[fa.Depends(verify_key)])
        async def decorated(db: Annotated[str, fa.Depends(get_db)]) -> Any:
            return {}

        @app.get("/twice/")
        async def twice(
            a: Annotated[str | None, fa.Depends(query_extractor)],
            b: Annotated[str | None, fa.Depends(query_extractor, use_cache=False)],
        ) -> Any:
            return {}

        return app

    compare(build)


def test_bigger_applications() -> None:
    def build(fa: SimpleNamespace) -> Any:
        async def get_token_header(x_token: Annotated[str, fa.Header()]) -> None:
            return None

        async def get_query_token(token: str) -> None:
            return None

        users = fa.APIRouter()

        @users.get("/users/", tags=["users"])
        async def read_users() -> list[dict[str, str]]:
            return []

        items = fa.APIRouter(
            prefix="/items",
            tags=["items"],
            dependencies=[fa.Depends(get_token_header)],
            responses={404: {"description": "Not found"}},
        )

        @items.get("/")
        async def read_items() -> dict[str, Any]:
            return {}

        @items.put("/{item_id}", tags=["custom"], responses={403: {"description": "Operation forbidden"}})
        async def update_item(item_id: str) -> dict[str, str]:
            return {}

        admin = fa.APIRouter()

        @admin.post("/")
        async def update_admin() -> dict[str, str]:
            return {}

        nested = fa.APIRouter(prefix="/nested", tags=["nested"], deprecated=True)

        @nested.get("/deep")
        async def deep() -> dict[str, str]:
            return {}

        items.include_router(nested, tags=["inner"])

        app = fa.FastAPI(dependencies=[fa.Depends(get_query_token)])
        app.include_router(users)
        app.include_router(items)
        app.include_router(
            admin,
            prefix="/admin",
            tags=["admin"],
            dependencies=[fa.Depends(get_token_header)],
            responses={418: {"description": "I'm a teapot"}},
        )

        @app.get("/")
        async def root() -> dict[str, str]:
            return {}

        return app

    compare(build)


def test_metadata_and_tags() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI(
            title="ChimichangApp",
            summary="Deadpool's favorite app. Nuff said.",
            description="ChimichangApp API helps you do awesome stuff. 🚀\n\n## Items\n\nYou can **read items**.",
            version="0.0.1",
            terms_of_service="http://example.com/terms/",
            contact={
                "name": "Deadpoolio the Amazing",
                "url": "http://x-force.example.com/contact/",
                "email": "dp@x-force.example.com",
            },
            license_info={
                "name": "Apache 2.0",
                "identifier": "MIT",
                "url": "https://www.apache.org/licenses/LICENSE-2.0",
            },
            openapi_tags=[
                {"name": "users", "description": "Operations with users. The **login** logic is also here."},
                {
                    "name": "items",
                    "description": "Manage items. So _fancy_ they have their own docs.",
                    "externalDocs": {"description": "Items external docs", "url": "https://fastapi.tiangolo.com/"},
                },
            ],
            openapi_url="/api/v1/openapi.json",
            docs_url="/documentation",
            redoc_url=None,
            servers=[
                {"url": "https://stag.example.com", "description": "Staging environment"},
                {"url": "https://prod.example.com", "description": "Production environment"},
            ],
            openapi_external_docs={"description": "More docs", "url": "https://example.com/docs"},
        )

        @app.get("/users/", tags=["users"])
        async def get_users() -> list[dict[str, str]]:
            return []

        return app

    compare(build)


def test_generate_unique_id_function() -> None:
    def custom_generate_unique_id(route: Any) -> str:
        return f"{route.tags[0]}-{route.name}"

    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI(generate_unique_id_function=custom_generate_unique_id)

        @app.post("/items/", tags=["items"])
        async def create_item(item: Item) -> Item:
            return item

        @app.get("/users/", tags=["users"])
        async def get_users() -> list[str]:
            return []

        router = fa.APIRouter(generate_unique_id_function=lambda route: f"r-{route.name}")

        @router.post("/other/")
        async def other(item: Item) -> Item:
            return item

        app.include_router(router)
        return app

    compare(build)


def test_callbacks() -> None:
    class Invoice(BaseModel):
        id: str
        title: str | None = None
        customer: str
        total: float

    class InvoiceEvent(BaseModel):
        description: str
        paid: bool

    class InvoiceEventReceived(BaseModel):
        ok: bool

    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()
        invoices_callback_router = fa.APIRouter()

        @invoices_callback_router.post(
            "{$callback_url}/invoices/{$request.body.id}", response_model=InvoiceEventReceived
        )
        def invoice_notification(body: InvoiceEvent) -> None:
            pass

        @app.post("/invoices/", callbacks=invoices_callback_router.routes)
        def create_invoice(invoice: Invoice, callback_url: HttpUrl | None = None) -> dict[str, str]:
            return {"msg": "Invoice received"}

        return app

    compare(build)


def test_webhooks() -> None:
    class Subscription(BaseModel):
        username: str
        monthly_fee: float

    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()

        @app.webhooks.post("new-subscription")
        def new_subscription(body: Subscription) -> None:
            """When a new user subscribes to your service we'll send you a POST request with this data."""

        @app.get("/users/")
        def read_users() -> list[dict[str, str]]:
            return []

        return app

    compare(build)


@pytest.mark.parametrize("root_path_in_servers", [True, False])
def test_behind_a_proxy(root_path_in_servers: bool) -> None:
    def build(fa: SimpleNamespace) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # FastAPI deprecates root_path= in favour of the server's setting
            return make(fa)

    def make(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI(
            root_path="/api/v1",
            root_path_in_servers=root_path_in_servers,
            servers=[{"url": "https://stag.example.com", "description": "Staging environment"}],
        )

        @app.get("/app")
        def read_main(request: fa.Request) -> dict[str, Any]:
            return {"message": "Hello World", "root_path": request.scope.get("root_path")}

        return app

    fastapi_app, ketch_app = build(FASTAPI), build(KETCH)
    expected = TestClient(fastapi_app).get("/openapi.json").json()
    actual = TestClient(ketch_app).get("/openapi.json").json()
    assert_same(expected, actual)
    assert actual["servers"][0]["url"] == ("/api/v1" if root_path_in_servers else "https://stag.example.com")
    assert_same(fastapi_app.openapi(), ketch_document(ketch_app))


def test_extending_openapi_with_get_openapi() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()
        get_openapi = (fastapi if fa is FASTAPI else ketch.compat.fastapi).openapi.utils.get_openapi

        @app.get("/items/")
        async def read_items() -> list[dict[str, str]]:
            return [{"name": "Foo"}]

        def custom_openapi() -> dict[str, Any]:
            if app.openapi_schema:
                return app.openapi_schema  # type: ignore[no-any-return]
            openapi_schema = get_openapi(
                title="Custom title",
                version="2.5.0",
                summary="This is a very custom OpenAPI schema",
                description="Here's a longer description of the custom **OpenAPI** schema",
                routes=app.routes,
            )
            openapi_schema["info"]["x-logo"] = {"url": "https://fastapi.tiangolo.com/img/logo-margin/logo-teal.png"}
            app.openapi_schema = openapi_schema
            return app.openapi_schema  # type: ignore[no-any-return]

        app.openapi = custom_openapi
        return app

    with TestClient(build(FASTAPI)) as expected, TestClient(build(KETCH)) as actual:
        assert_same(expected.get("/openapi.json").json(), actual.get("/openapi.json").json())
