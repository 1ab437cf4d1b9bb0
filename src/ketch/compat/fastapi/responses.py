"""``fastapi.responses``: Starlette's response classes (``ketch.compat.starlette.responses``) and SSE.

``ORJSONResponse`` and ``UJSONResponse`` (deprecated in FastAPI) are ``JSONResponse``: ketch's JSON encoder is
already pydantic-core's, and neither orjson nor ujson is needed.
"""

from ketch.compat.fastapi.sse import EventSourceResponse
from ketch.compat.starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from ketch.compat.starlette.responses import JSONResponse as ORJSONResponse
from ketch.compat.starlette.responses import JSONResponse as UJSONResponse

__all__ = [
    "EventSourceResponse",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "ORJSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "UJSONResponse",
]
