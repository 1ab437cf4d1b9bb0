"""FastAPI's "Stream JSON Lines", "Server-Sent Events (SSE)" and ``StreamingResponse`` (custom responses)."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

import asyncio
import io
from collections.abc import AsyncIterable, Iterable
from typing import Any

from pydantic import BaseModel

from ._diff import Req, compare


class Item(BaseModel):
    name: str
    description: str | None = None


ITEMS = [
    Item(name="Plumbus", description="A multi-purpose household device."),
    Item(name="Portal Gun", description="A portal opening device."),
    Item(name="Meeseeks Box", description="A box that summons a Meeseeks."),
]


def build(fastapi: Any, starlette: Any) -> Any:
    app = fastapi.FastAPI()
    responses, sse = fastapi.responses, fastapi.sse

    @app.get("/items/stream")
    async def stream_items() -> AsyncIterable[Item]:
        for item in ITEMS:
            yield item

    @app.get("/items/stream-no-async")
    def stream_items_no_async() -> Iterable[Item]:
        yield from ITEMS

    @app.get("/items/stream-no-annotation")
    async def stream_items_no_annotation():
        for item in ITEMS:
            yield item.model_dump() | {"extra": True}

    @app.get("/items/stream-validated")
    async def stream_items_validated() -> AsyncIterable[Item]:
        yield {"name": "ok", "unknown": "dropped"}

    @app.get("/items/sse", response_class=sse.EventSourceResponse)
    async def sse_items() -> AsyncIterable[Item]:
        for item in ITEMS:
            yield item

    @app.get("/items/sse-no-async", response_class=sse.EventSourceResponse)
    def sse_items_no_async() -> Iterable[Item]:
        yield from ITEMS

    @app.get("/items/sse-events", response_class=sse.EventSourceResponse)
    async def sse_events() -> AsyncIterable[sse.ServerSentEvent]:
        yield sse.ServerSentEvent(comment="stream of item updates")
        for i, item in enumerate(ITEMS):
            yield sse.ServerSentEvent(data=item, event="item_update", id=str(i + 1), retry=5000)

    @app.get("/items/sse-raw", response_class=sse.EventSourceResponse)
    async def sse_raw() -> AsyncIterable[sse.ServerSentEvent]:
        yield sse.ServerSentEvent(raw_data="plain text\nsecond line", event="log")
        yield sse.ServerSentEvent(data="a string", id="s")

    @app.post("/items/sse-post", response_class=sse.EventSourceResponse)
    async def sse_post(item: Item) -> AsyncIterable[Item]:
        yield item

    async def fake_video_streamer():
        for i in range(5):
            yield b"some fake video bytes " + str(i).encode()
            await asyncio.sleep(0)

    @app.get("/video")
    async def video():
        return responses.StreamingResponse(fake_video_streamer(), media_type="video/mp4")

    @app.get("/sync-stream")
    def sync_stream():
        def lines():
            for i in range(3):
                yield f"line {i}\n"

        return responses.StreamingResponse(lines(), media_type="text/plain", headers={"X-Lines": "3"})

    @app.get("/file-like")
    def file_like():
        return responses.StreamingResponse(io.BytesIO(b"file-like bytes\n" * 3), media_type="application/octet-stream")

    return app


def test_json_lines() -> None:
    compare(
        build,
        [
            Req("GET", "/items/stream"),
            Req("GET", "/items/stream-no-async"),
            Req("GET", "/items/stream-no-annotation"),
            Req("GET", "/items/stream-validated"),
        ],
    )


def test_server_sent_events() -> None:
    compare(
        build,
        [
            Req("GET", "/items/sse"),
            Req("GET", "/items/sse-no-async"),
            Req("GET", "/items/sse-events"),
            Req("GET", "/items/sse-raw"),
            Req("POST", "/items/sse-post", json={"name": "Posted"}),
            Req("POST", "/items/sse-post", json={"nope": 1}),
        ],
    )


def test_streaming_response() -> None:
    compare(build, [Req("GET", "/video"), Req("GET", "/sync-stream"), Req("GET", "/file-like")])
