"""``ketch.compat.fastapi`` and ``ketch.compat.starlette`` mirror the originals' import paths: every name they export
exists under the same path in FastAPI/Starlette, and the names FastAPI users import are all there."""

import importlib
import warnings
from types import ModuleType
from typing import Any

import pytest

import ketch
import ketch.compat.fastapi.responses
import ketch.compat.fastapi.testclient
import ketch.compat.starlette.exceptions
import ketch.compat.starlette.requests
import ketch.testclient
from ketch.compat import fastapi as compat_fastapi
from ketch.compat import starlette as compat_starlette

from ._diff import FASTAPI_MODULES, STARLETTE_MODULES, load

load("fastapi", FASTAPI_MODULES)
load("starlette", STARLETTE_MODULES)

MIRRORS = [("fastapi", "ketch.compat.fastapi", m) for m in ("", *FASTAPI_MODULES, "status")] + [
    ("starlette", "ketch.compat.starlette", m) for m in STARLETTE_MODULES
]

# What FastAPI's docs and users import, module by module.
USED: dict[str, list[str]] = {
    "fastapi": [
        "APIRouter", "BackgroundTasks", "Body", "Cookie", "Depends", "FastAPI", "File", "Form", "HTTPException",
        "Header", "Path", "Query", "Request", "Response", "Security", "UploadFile", "WebSocket",
        "WebSocketDisconnect", "WebSocketException", "status",
    ],
    "fastapi.responses": [
        "EventSourceResponse", "FileResponse", "HTMLResponse", "JSONResponse", "ORJSONResponse",
        "PlainTextResponse", "RedirectResponse", "Response", "StreamingResponse", "UJSONResponse",
    ],
    "fastapi.exceptions": [
        "HTTPException", "RequestValidationError", "ResponseValidationError", "WebSocketException",
        "WebSocketRequestValidationError", "FastAPIError",
    ],
    "fastapi.exception_handlers": ["http_exception_handler", "request_validation_exception_handler"],
    "fastapi.encoders": ["jsonable_encoder"],
    "fastapi.testclient": ["TestClient"],
    "fastapi.requests": ["Request", "HTTPConnection"],
    "fastapi.routing": ["APIRouter", "APIRoute", "APIWebSocketRoute"],
    "fastapi.websockets": ["WebSocket", "WebSocketDisconnect", "WebSocketState"],
    "fastapi.sse": ["EventSourceResponse", "ServerSentEvent", "format_sse_event"],
    "fastapi.staticfiles": ["StaticFiles"],
    "fastapi.templating": ["Jinja2Templates"],
    "fastapi.params": ["Body", "Depends", "Path", "Query", "Security", "Param", "ParamTypes"],
    "fastapi.param_functions": ["Body", "Depends", "Path", "Query", "Form", "File", "Header", "Cookie"],
    "fastapi.background": ["BackgroundTasks"],
    "fastapi.concurrency": ["run_in_threadpool", "iterate_in_threadpool"],
    "fastapi.datastructures": ["UploadFile", "URL", "Address", "FormData", "Headers", "QueryParams", "State"],
    "fastapi.status": ["HTTP_200_OK", "HTTP_404_NOT_FOUND", "HTTP_422_UNPROCESSABLE_CONTENT", "WS_1008_POLICY_VIOLATION"],  # noqa: E501
    "fastapi.middleware": ["Middleware"],
    "fastapi.middleware.cors": ["CORSMiddleware"],
    "fastapi.middleware.gzip": ["GZipMiddleware"],
    "fastapi.middleware.trustedhost": ["TrustedHostMiddleware"],
    "fastapi.middleware.httpsredirect": ["HTTPSRedirectMiddleware"],
    "fastapi.middleware.wsgi": ["WSGIMiddleware"],
    "starlette.exceptions": ["HTTPException", "WebSocketException"],
    "starlette.testclient": ["TestClient"],
    "starlette.requests": ["Request", "HTTPConnection", "ClientDisconnect"],
    "starlette.responses": ["Response", "JSONResponse", "StreamingResponse", "FileResponse", "RedirectResponse"],
    "starlette.middleware.base": ["BaseHTTPMiddleware", "RequestResponseEndpoint", "DispatchFunction"],
    "starlette.middleware.cors": ["CORSMiddleware"],
    "starlette.background": ["BackgroundTask", "BackgroundTasks"],
    "starlette.applications": ["Starlette"],
    "starlette.routing": ["Route", "Mount", "WebSocketRoute", "Router", "BaseRoute", "NoMatchFound"],
    "starlette.types": ["ASGIApp", "Scope", "Receive", "Send", "Message", "Lifespan"],
    "starlette.status": ["HTTP_201_CREATED", "WS_1000_NORMAL_CLOSURE"],
    "starlette.datastructures": ["URL", "Headers", "MutableHeaders", "QueryParams", "State", "UploadFile", "FormData"],
}  # fmt: skip


def compat_name(original: str) -> str:
    return "ketch.compat." + original


def module(path: str) -> ModuleType:
    """The module at ``path``; ``fastapi.status`` is an attribute of ``fastapi``, not a module of its own."""
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        parent, _, name = path.rpartition(".")
        found: ModuleType = getattr(importlib.import_module(parent), name)
        return found


def has(obj: Any, name: str) -> bool:
    # Starlette's status module warns when a deprecated constant is looked up: a lookup is all this is.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return hasattr(obj, name)


@pytest.mark.parametrize(("root", "compat_root", "name"), MIRRORS, ids=lambda v: v if isinstance(v, str) else "")
def test_every_compat_name_exists_in_the_original(root: str, compat_root: str, name: str) -> None:
    original = module(f"{root}.{name}" if name else root)
    mirror = importlib.import_module(f"{compat_root}.{name}" if name else compat_root)
    assert [item for item in mirror.__all__ if not has(original, item)] == []


@pytest.mark.parametrize(("path", "names"), USED.items(), ids=list(USED))
def test_names_fastapi_users_import(path: str, names: list[str]) -> None:
    mirror = importlib.import_module(compat_name(path))
    original = module(path)
    assert [name for name in names if not has(mirror, name)] == []
    assert [name for name in names if not has(original, name)] == []


def test_compat_names_are_ketch_classes() -> None:
    assert compat_fastapi.HTTPException is compat_starlette.exceptions.HTTPException is ketch.HTTPException
    assert compat_fastapi.Request is compat_starlette.requests.Request is ketch.Request
    assert compat_fastapi.Depends is ketch.Depends
    assert compat_fastapi.UploadFile is ketch.UploadFile
    assert issubclass(compat_fastapi.FastAPI, ketch.Ketch)
    assert issubclass(compat_fastapi.APIRouter, ketch.Router)
    assert issubclass(compat_fastapi.responses.JSONResponse, ketch.JSONResponse)
    assert issubclass(compat_fastapi.responses.JSONResponse, compat_fastapi.Response)
    assert issubclass(compat_fastapi.responses.EventSourceResponse, compat_fastapi.responses.StreamingResponse)
    assert compat_fastapi.testclient.TestClient is ketch.testclient.TestClient


def test_status_constants_match() -> None:
    import fastapi

    names = [name for name in dir(fastapi.status) if name.startswith(("HTTP_", "WS_"))]
    ours: Any = compat_fastapi.status
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Starlette warns on its deprecated names (HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        theirs = {name: getattr(fastapi.status, name) for name in names}
    assert {name: getattr(ours, name, None) for name in names} == theirs
