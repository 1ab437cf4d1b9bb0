"""ketch: one fast ASGI core with two faces, FastAPI's typed API and Flask's classic API."""

from ketch.app import Ketch
from ketch.background import BackgroundTask, BackgroundTasks
from ketch.blueprints import Blueprint
from ketch.csrf import csrf_exempt
from ketch.ctx import after_this_request, copy_current_request_context, has_app_context, has_request_context
from ketch.datastructures import URL, FormData, Headers, MutableHeaders, QueryParams, State, UploadFile
from ketch.encoders import jsonable_encoder
from ketch.exceptions import (
    ClientDisconnect,
    HTTPException,
    ImproperlyConfigured,
    RequestTimeout,
    RequestTooLarge,
    RequestValidationError,
    ResponseValidationError,
    WebSocketException,
    WebSocketRequestValidationError,
)
from ketch.globals import current_app, g, request, session
from ketch.helpers import (
    abort,
    flash,
    get_flashed_messages,
    jsonify,
    make_response,
    redirect,
    render_template,
    render_template_string,
    send_file,
    send_from_directory,
    stream_with_context,
    url_for,
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
from ketch.views import MethodView, View
from ketch.websockets import WebSocket, WebSocketDisconnect

__version__ = "0.1.0"

__all__ = [
    "URL",
    "BackgroundTask",
    "BackgroundTasks",
    "Blueprint",
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
    "MethodView",
    "Middleware",
    "Mount",
    "MutableHeaders",
    "Path",
    "PlainTextResponse",
    "Query",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestTimeout",
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
    "View",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "WebSocketRequestValidationError",
    "WebSocketRoute",
    "abort",
    "after_this_request",
    "copy_current_request_context",
    "csrf_exempt",
    "current_app",
    "flash",
    "g",
    "get_flashed_messages",
    "has_app_context",
    "has_request_context",
    "jsonable_encoder",
    "jsonify",
    "make_response",
    "redirect",
    "render_template",
    "render_template_string",
    "request",
    "send_file",
    "send_from_directory",
    "session",
    "stream_with_context",
    "url_for",
]


def _claim_public_names(namespace: dict[str, object]) -> None:
    """Show public classes and functions as ``ketch.X`` (context proxies such as ``request`` are left alone)."""
    from types import FunctionType

    for name in __all__:
        obj = namespace[name]
        if isinstance(obj, (type, FunctionType)) and obj.__module__.startswith("ketch."):
            obj.__module__ = "ketch"


_claim_public_names(vars())
