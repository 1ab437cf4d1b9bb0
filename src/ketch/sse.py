"""Server-Sent Events: ``EventSourceResponse`` and ``ServerSentEvent`` (FastAPI parity).

A typed endpoint declared with ``response_class=EventSourceResponse`` that ``yield``\\ s streams each item as one
event: a ``ServerSentEvent`` controls the event's fields; anything else is JSON-encoded into ``data:``. While the
generator is idle, a ``: ping`` comment goes out every ``PING_INTERVAL`` seconds so proxies keep the connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, model_validator

from ketch.responses import StreamingResponse

__all__ = [
    "KEEPALIVE_COMMENT",
    "PING_INTERVAL",
    "EventSourceResponse",
    "ServerSentEvent",
    "format_sse_event",
    "with_keepalive",
]

KEEPALIVE_COMMENT = b": ping\n\n"
"""What is sent while the generator is idle (a comment line: clients ignore it)."""

PING_INTERVAL: float = 15.0
"""Seconds of silence before a keep-alive comment is sent."""


class EventSourceResponse(StreamingResponse):
    """A ``text/event-stream`` response; as ``response_class`` of a generator endpoint it marks it as SSE."""

    media_type = "text/event-stream"


def _single_line(value: str | None, name: str) -> str | None:
    if value is not None and ("\r" in value or "\n" in value):
        raise ValueError(f"SSE '{name}' must be a single line")
    return value


def _check_event(value: str | None) -> str | None:
    return _single_line(value, "event")


def _check_id(value: str | None) -> str | None:
    if value is not None and "\0" in value:
        raise ValueError("SSE 'id' must not contain null characters")
    return _single_line(value, "id")


class ServerSentEvent(BaseModel):
    """One event. ``data`` is always JSON-encoded (``"hello"`` goes out with its quotes); ``raw_data`` goes out
    as is. ``event`` names the event type, ``id`` is echoed back as ``Last-Event-ID`` on reconnection, ``retry``
    is the reconnection delay in milliseconds, ``comment`` lines are ignored by clients."""

    data: Any = None
    raw_data: str | None = None
    event: Annotated[str | None, AfterValidator(_check_event)] = None
    id: Annotated[str | None, AfterValidator(_check_id)] = None
    retry: Annotated[int | None, Field(ge=0)] = None
    comment: str | None = None

    @model_validator(mode="after")
    def _data_or_raw_data(self) -> ServerSentEvent:
        if self.data is not None and self.raw_data is not None:
            raise ValueError(
                "Cannot set both 'data' and 'raw_data' on the same ServerSentEvent. Use 'data' for JSON-serialized "
                "payloads or 'raw_data' for pre-formatted strings."
            )
        return self


def _lines(value: str) -> list[str]:
    # The SSE line terminators are \n, \r\n and \r; a trailing empty line is kept.
    return value.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def format_sse_event(
    *,
    data_str: str | None = None,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
) -> bytes:
    """The wire bytes of one event from already-serialised ``data_str``; always ends with a blank line."""
    lines: list[str] = []
    if comment is not None:
        lines += [f": {line}" for line in _lines(comment)]
    if event is not None:
        lines.append(f"event: {event}")
    if data_str is not None:
        lines += [f"data: {line}" for line in _lines(data_str)]
    if id is not None:
        lines.append(f"id: {id}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    lines += ["", ""]
    return "\n".join(lines).encode("utf-8")


async def with_keepalive(events: AsyncIterator[bytes], interval: float | None = None) -> AsyncIterator[bytes]:
    """Pass ``events`` through, sending ``KEEPALIVE_COMMENT`` whenever none came for ``interval`` seconds.

    The next event is awaited in a task that a ping never cancels, so a slow generator is never interrupted.
    """
    pending: asyncio.Future[bytes] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(events.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=PING_INTERVAL if interval is None else interval)
            if not done:
                yield KEEPALIVE_COMMENT
                continue
            finished, pending = pending, None
            try:
                item = finished.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
