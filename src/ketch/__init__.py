"""ketch: one fast ASGI core with two faces, FastAPI's typed API and Flask's classic API."""

from ketch.app import Ketch
from ketch.background import BackgroundTask, BackgroundTasks
from ketch.datastructures import URL, FormData, Headers, MutableHeaders, QueryParams, State, UploadFile
from ketch.encoders import jsonable_encoder
from ketch.exceptions import (
    ClientDisconnect,
    HTTPException,
    ImproperlyConfigured,
    RequestTooLarge,
    RequestValidationError,
    ResponseValidationError,
    WebSocketException,
    WebSocketRequestValidationError,
)
from ketch.limits import Limits
from ketch.params import Body, Cookie, Depends, File, Form, Header, Path, Query, Security, SecurityScopes
from ketch.requests import Request
from ketch.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from ketch.routing import Middleware, Mount, Route, Router, WebSocketRoute
from ketch.sse import EventSourceResponse, ServerSentEvent
from ketch.staticfiles import StaticFiles
from ketch.websockets import WebSocket, WebSocketDisconnect

__version__ = "0.1.0"

__all__ = [
    "URL",
    "BackgroundTask",
    "BackgroundTasks",
    "Body",
    "ClientDisconnect",
    "Cookie",
    "Depends",
    "EventSourceResponse",
    "File",
    "FileResponse",
    "Form",
    "FormData",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "Headers",
    "ImproperlyConfigured",
    "JSONResponse",
    "Ketch",
    "Limits",
    "Middleware",
    "Mount",
    "MutableHeaders",
    "Path",
    "PlainTextResponse",
    "Query",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestTooLarge",
    "RequestValidationError",
    "Response",
    "ResponseValidationError",
    "Route",
    "Router",
    "Security",
    "SecurityScopes",
    "ServerSentEvent",
    "State",
    "StaticFiles",
    "StreamingResponse",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "WebSocketRequestValidationError",
    "WebSocketRoute",
    "jsonable_encoder",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "ketch").startswith("ketch."):
        try:
            _obj.__module__ = "ketch"
        except (AttributeError, TypeError):
            pass
del _name, _obj
