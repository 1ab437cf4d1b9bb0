"""The differential harness: build one app on FastAPI and on ketch, send both the same requests, compare.

Both apps are driven by ketch's TestClient (an in-process ASGI client), so transport quirks cancel out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

import fastapi
import fastapi.responses
import fastapi.security

import ketch
import ketch.params
import ketch.responses
from ketch._plan.typed import TypedPlanner
from ketch.background import BackgroundTasks
from ketch.routing import Router
from ketch.testclient import TestClient as KetchClient

__all__ = ["FASTAPI", "KETCH", "Req", "compare"]


def _ketch_app(**options: Any) -> ketch.Ketch:
    return ketch.Ketch(planner=TypedPlanner(), **options)


def _surface(module: Any, **extra: Any) -> SimpleNamespace:
    names = ["Query", "Path", "Header", "Cookie", "Body", "Form", "File", "Depends", "Security"]
    return SimpleNamespace(**{name: getattr(module, name) for name in names}, **extra)


FASTAPI = _surface(
    fastapi,
    name="fastapi",
    App=fastapi.FastAPI,
    Router=fastapi.APIRouter,
    Request=fastapi.Request,
    Response=fastapi.Response,
    BackgroundTasks=fastapi.BackgroundTasks,
    HTTPException=fastapi.HTTPException,
    JSONResponse=fastapi.responses.JSONResponse,
    PlainTextResponse=fastapi.responses.PlainTextResponse,
    HTMLResponse=fastapi.responses.HTMLResponse,
    SecurityScopes=fastapi.security.SecurityScopes,
    UploadFile=fastapi.UploadFile,
    Client=KetchClient,
)
KETCH = _surface(
    ketch.params,
    name="ketch",
    App=_ketch_app,
    Router=Router,
    Request=ketch.Request,
    Response=ketch.Response,
    BackgroundTasks=BackgroundTasks,
    HTTPException=ketch.HTTPException,
    JSONResponse=ketch.responses.JSONResponse,
    PlainTextResponse=ketch.responses.PlainTextResponse,
    HTMLResponse=ketch.responses.HTMLResponse,
    SecurityScopes=ketch.params.SecurityScopes,
    UploadFile=ketch.UploadFile,
    Client=KetchClient,
)


class Req:
    """One request to send to both apps; ``exact`` compares body bytes, else the parsed JSON (or what
    ``project`` picks out of it)."""

    def __init__(
        self,
        method: str,
        url: str,
        *,
        exact: bool = True,
        headers_to_compare: Iterable[str] = (),
        project: Callable[[Any], Any] | None = None,
        **kwargs: Any,
    ):
        self.method = method
        self.url = url
        self.exact = exact and project is None
        self.project = project
        self.headers = tuple(headers_to_compare)
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"{self.method} {self.url} {self.kwargs or ''}"


def compare(build: Callable[[SimpleNamespace], Any], requests: Iterable[Req]) -> None:
    """Build the app on both surfaces and assert equal status, content type and body for every request."""
    with FASTAPI.Client(build(FASTAPI)) as expected_client, KETCH.Client(build(KETCH)) as actual_client:
        for req in requests:
            expected = expected_client.request(req.method, req.url, **req.kwargs)
            actual = actual_client.request(req.method, req.url, **req.kwargs)
            where = (
                f"{req!r}: fastapi {expected.status_code} {expected.text[:300]!r} / "
                f"ketch {actual.status_code} {actual.text[:300]!r}"
            )
            assert actual.status_code == expected.status_code, where
            if req.exact:
                assert actual.content == expected.content, where
            elif req.project is not None:
                assert req.project(actual.json()) == req.project(expected.json()), where
            else:
                assert actual.json() == expected.json(), where
            assert actual.headers.get("content-type") == expected.headers.get("content-type"), where
            for name in req.headers:
                assert actual.headers.get_list(name) == expected.headers.get_list(name), f"{where}: {name}"
