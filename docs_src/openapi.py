from typing import Annotated

from pydantic import BaseModel, Field

from ketch import Ketch, Router
from ketch.openapi import WebhookRouter
from ketch.params import Body, Query


class Item(BaseModel):
    """Something for sale."""

    name: str = Field(examples=["Hammer"])
    price: float = Field(gt=0)


class Message(BaseModel):
    detail: str


webhooks = WebhookRouter()

app = Ketch(
    title="Shop",
    version="2.0.0",
    summary="Items for sale.",
    description="Everything in **Markdown**.",
    contact={"name": "Shop support", "url": "https://shop.example.com/support"},
    license_info={"name": "MIT", "identifier": "MIT"},
    openapi_tags=[{"name": "items", "description": "Browse and sell items."}],
    servers=[{"url": "https://shop.example.com", "description": "Production"}],
    swagger_ui_parameters={"defaultModelsExpandDepth": -1},
    webhooks=webhooks,
)
items = Router(prefix="/items", tags=["items"], responses={404: {"model": Message, "description": "No such item"}})


@items.get("/{item_id:int}")
async def read_item(item_id: int, details: Annotated[bool, Query(description="Include the details")] = False) -> Item:
    """Read one item.

    \f
    Lines after a form feed stay out of the document.
    """
    return Item(name="Hammer", price=9.5)


@items.post("", status_code=201, summary="Sell an item", operation_id="sell_item")
async def create_item(
    item: Annotated[
        Item,
        Body(openapi_examples={"hammer": {"summary": "A hammer", "value": {"name": "Hammer", "price": 9.5}}}),
    ],
) -> Item:
    return item


@items.get("/legacy", deprecated=True, openapi_extra={"x-internal": True})
async def legacy() -> list[Item]:
    return []


@app.get("/health", include_in_schema=False)
async def health() -> dict[str, str]:
    return {"status": "ok"}


@webhooks.post("item-sold")
def item_sold(item: Item) -> None:
    """Sent to your URL when an item is sold."""


app.include_router(items)
