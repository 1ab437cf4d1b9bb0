"""Streaming by yield and SSE: keep-alive pings, and cleanup when the client goes away."""

import asyncio
from collections.abc import AsyncIterator, MutableMapping
from typing import Annotated, Any

import pytest

import ketch.sse
from ketch import Ketch
from ketch._plan.typed import TypedPlanner
from ketch.params import Depends
from ketch.sse import EventSourceResponse, ServerSentEvent, format_sse_event
from ketch.testclient import TestClient


def test_sse_sends_keepalive_comments_while_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ketch.sse, "PING_INTERVAL", 0.01)
    app = Ketch(planner=TypedPlanner())

    @app.get("/slow", response_class=EventSourceResponse)
    async def slow() -> AsyncIterator[int]:
        await asyncio.sleep(0.08)
        yield 1

    body = TestClient(app).get("/slow").content
    assert body.startswith(b": ping\n\n")
    assert body.endswith(b"data: 1\n\n")


def test_server_sent_event_fields_are_checked() -> None:
    with pytest.raises(ValueError, match="single line"):
        ServerSentEvent(event="a\nb")
    with pytest.raises(ValueError, match="null"):
        ServerSentEvent(id="a\0")
    with pytest.raises(ValueError, match="both"):
        ServerSentEvent(data=1, raw_data="1")
    assert format_sse_event(data_str="a\r\nb", comment="c") == b": c\ndata: a\ndata: b\n\n"


@pytest.mark.timeout(10)
def test_disconnect_mid_stream_closes_the_generator_and_cleans_up() -> None:
    events: list[str] = []

    async def resource() -> AsyncIterator[str]:
        yield "r"
        events.append("cleanup")

    app = Ketch(planner=TypedPlanner())

    @app.get("/forever")
    async def forever(value: Annotated[str, Depends(resource)]) -> AsyncIterator[dict[str, int]]:
        try:
            n = 0
            while True:
                n += 1
                yield {"n": n}
                await asyncio.sleep(0.001)
        finally:
            events.append("generator closed")

    async def main() -> list[MutableMapping[str, Any]]:
        sent: list[MutableMapping[str, Any]] = []
        disconnect = asyncio.Event()

        async def receive() -> MutableMapping[str, Any]:
            if not sent or not disconnect.is_set():
                await disconnect.wait()
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)
            if len(sent) >= 4:
                disconnect.set()

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/forever",
            "raw_path": b"/forever",
            "query_string": b"",
            "headers": [],
            "root_path": "",
            "scheme": "http",
            "server": ("test", 80),
            "client": ("test", 1),
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
        }
        await asyncio.wait_for(app(scope, receive, send), 5)
        return sent

    sent = asyncio.run(main())
    assert sent[0]["type"] == "http.response.start"
    assert events == ["generator closed", "cleanup"]
