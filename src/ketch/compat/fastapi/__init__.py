"""``fastapi``: FastAPI's public API, served by ketch's typed face. ``from ketch.compat.fastapi import FastAPI``.

Every name is ketch's own class or a thin subclass that sets FastAPI's defaults (see ``applications.py`` and
``routing.py``); the modules mirror FastAPI's import paths (``ketch.compat.fastapi.responses``, ``.testclient``...).
"""

from ketch.compat.fastapi import status
from ketch.compat.fastapi.applications import FastAPI
from ketch.compat.fastapi.background import BackgroundTasks
from ketch.compat.fastapi.datastructures import UploadFile
from ketch.compat.fastapi.exceptions import HTTPException, WebSocketException
from ketch.compat.fastapi.param_functions import Body, Cookie, Depends, File, Form, Header, Path, Query, Security
from ketch.compat.fastapi.requests import Request
from ketch.compat.fastapi.responses import Response
from ketch.compat.fastapi.routing import APIRouter
from ketch.compat.fastapi.websockets import WebSocket, WebSocketDisconnect

__all__ = [
    "APIRouter",
    "BackgroundTasks",
    "Body",
    "Cookie",
    "Depends",
    "FastAPI",
    "File",
    "Form",
    "HTTPException",
    "Header",
    "Path",
    "Query",
    "Request",
    "Response",
    "Security",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "status",
]
