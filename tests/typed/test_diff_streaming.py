"""Differential tests: streaming by yield (JSON Lines, raw bytes) and Server-Sent Events."""

# The app is built twice, from two import surfaces held in a namespace: its annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, attr-defined, misc, assignment"

from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Annotated, Any

import fastapi.sse
from pydantic import BaseModel

import ketch.sse
from ketch.responses import StreamingResponse as KetchStreamingResponse

from ._diff import Req, compare


class Item(BaseModel):
    name: str
    price: float | None = None


def build(api: SimpleNamespace) -> object:
    sse = fastapi.sse if api.name == "fastapi" else ketch.sse
    if api.name == "fastapi":
        from fastapi.responses import StreamingResponse
    else:
        StreamingResponse = KetchStreamingResponse

    app = api.App()

    @app.get("/jsonl")
    async def jsonl() -> AsyncIterator[Item]:
        yield Item(name="a", price=1.5)
        yield {"name": "b", "extra": True}

    @app.get("/jsonl-plain")
    def jsonl_plain(n: int = 2):  # type: ignore[no-untyped-def]
        for i in range(n):
            yield {"i": i, "f": float("nan") if i else 0.5, "s": "\u00e9"}

    @app.get("/jsonl-invalid")
    async def jsonl_invalid(q: Annotated[int, api.Query(gt=0)]) -> AsyncIterator[Item]:
        yield Item(name="x")

    @app.get("/raw", response_class=StreamingResponse)
    async def raw() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b"def"

    @app.get("/sse", response_class=sse.EventSourceResponse)
    async def events() -> AsyncIterator[Any]:
        yield {"n": 1}
        yield sse.ServerSentEvent(data="hello", event="greet", id="1", retry=100)
        yield sse.ServerSentEvent(raw_data="line1\nline2", comment="note")
        yield sse.ServerSentEvent(data=Item(name="m"))
        yield "plain"

    @app.post("/sse-typed", response_class=sse.EventSourceResponse, status_code=201)
    def typed_events(response: api.Response) -> Iterator[Item]:
        response.headers["X-Stream"] = "1"
        yield Item(name="t")

    return app


def test_json_lines() -> None:
    compare(
        build,
        [
            Req("GET", "/jsonl"),
            Req("GET", "/jsonl-plain?n=3"),
            Req("GET", "/jsonl-invalid?q=0"),
            Req("GET", "/raw"),
        ],
    )


def test_server_sent_events() -> None:
    compare(
        build,
        [
            Req("GET", "/sse", headers_to_compare=["cache-control", "x-accel-buffering"]),
            Req("POST", "/sse-typed", headers_to_compare=["x-stream", "cache-control"]),
        ],
    )
