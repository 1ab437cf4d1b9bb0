"""``fastapi.sse``: ``EventSourceResponse`` (with Starlette's cookie defaults) and ``ServerSentEvent``."""

from ketch import sse as _sse
from ketch.compat.starlette.responses import StreamingResponse
from ketch.sse import KEEPALIVE_COMMENT, ServerSentEvent, format_sse_event

__all__ = ["KEEPALIVE_COMMENT", "EventSourceResponse", "ServerSentEvent", "format_sse_event"]


class EventSourceResponse(_sse.EventSourceResponse, StreamingResponse):
    pass
