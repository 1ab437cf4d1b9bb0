"""``ketch.compat.starlette``: the Starlette-level names FastAPI users import, and the defaults they carry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest

import ketch
from ketch.compat.fastapi import FastAPI
from ketch.compat.starlette.applications import Starlette
from ketch.compat.starlette.middleware import Middleware
from ketch.compat.starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from ketch.compat.starlette.requests import Request
from ketch.compat.starlette.responses import JSONResponse, PlainTextResponse, Response
from ketch.compat.starlette.routing import Route
from ketch.compat.starlette.templating import Jinja2Templates
from ketch.compat.starlette.testclient import TestClient

TEMPLATES = Path(__file__).parent.parent / "fastapi" / "templates"


async def homepage(request: Request) -> Response:
    return PlainTextResponse(f"Hello from {request.url.path}")


class Stamp(BaseHTTPMiddleware):
    def __init__(self, app: Any, value: str) -> None:
        super().__init__(app)
        self.value = value

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> ketch.Response:
        if request.url.path == "/blocked":
            return PlainTextResponse("blocked", status_code=403)
        response = await call_next(request)
        response.headers["X-Stamp"] = self.value
        return response


def test_starlette_app_with_routes_and_class_middleware() -> None:
    app = Starlette(
        routes=[Route("/", homepage), Route("/blocked", homepage)],
        middleware=[Middleware(Stamp, value="s1")],
    )
    client = TestClient(app)
    response = client.get("/")
    assert (response.text, response.headers["x-stamp"]) == ("Hello from /", "s1")
    assert client.get("/blocked").status_code == 403
    assert client.head("/").status_code == 200  # Starlette's Route answers HEAD for GET
    options = client.options("/")
    assert (options.status_code, options.headers["allow"]) == (405, "GET, HEAD")


def test_base_http_middleware_with_a_dispatch_function() -> None:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> ketch.Response:
        response = await call_next(request)
        response.headers["X-Function"] = "yes"
        return response

    app = FastAPI()
    app.add_middleware(BaseHTTPMiddleware, dispatch=dispatch)

    @app.get("/")
    def index() -> dict[str, str]:
        return {"ok": "yes"}

    assert TestClient(app).get("/").headers["x-function"] == "yes"


def test_base_http_middleware_without_dispatch_is_an_error() -> None:
    app = Starlette(routes=[Route("/", homepage)], middleware=[Middleware(BaseHTTPMiddleware)])
    with pytest.raises(NotImplementedError):
        TestClient(app).get("/")


def test_cookie_defaults() -> None:
    # Starlette's responses add HttpOnly only when asked; ketch's own responses add it unless told not to.
    ours = JSONResponse({})
    ours.set_cookie("a", "1")
    ours.set_cookie("b", "2", httponly=True)
    ours.delete_cookie("c")
    cookies = [value.decode() for key, value in ours.raw_headers if key == b"set-cookie"]
    assert cookies[0] == "a=1; Path=/; SameSite=lax"
    assert cookies[1].endswith("HttpOnly")
    assert "HttpOnly" not in cookies[2]
    core = ketch.JSONResponse({})
    core.set_cookie("a", "1")
    core.set_cookie("b", "2", httponly=False)
    assert [value.decode() for key, value in core.raw_headers if key == b"set-cookie"] == [
        "a=1; Path=/; SameSite=lax; HttpOnly",
        "b=2; Path=/; SameSite=lax",
    ]


def test_response_parameter_takes_the_annotated_class_defaults() -> None:
    app = ketch.Ketch()

    @app.get("/compat")
    def compat(response: Response) -> dict[str, str]:
        response.set_cookie("a", "1")
        return {}

    @app.get("/core")
    def core(response: ketch.Response) -> dict[str, str]:
        response.set_cookie("a", "1")
        return {}

    client = TestClient(app)
    assert client.get("/compat").headers["set-cookie"] == "a=1; Path=/; SameSite=lax"
    assert client.get("/core").headers["set-cookie"] == "a=1; Path=/; SameSite=lax; HttpOnly"


def test_automatic_head_is_a_router_default() -> None:
    app = FastAPI()
    core = ketch.Router()

    @app.get("/fastapi")
    def fastapi_route() -> str:
        return "x"

    @core.get("/core")
    def core_route() -> str:
        return "x"

    app.include_router(core)
    client = TestClient(app)
    assert client.head("/fastapi").status_code == 405
    assert client.head("/core").status_code == 200


def test_jinja2_templates_options() -> None:
    seen: list[str] = []

    def processor(request: Request) -> dict[str, Any]:
        seen.append(request.url.path)
        return {"note": "from a processor"}

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    templates = Jinja2Templates(env=env, context_processors=[processor])
    app = FastAPI()

    @app.get("/items/{id}")
    def read_item(request: Request, id: str) -> ketch.Response:
        return templates.TemplateResponse(request, "item.html", {"id": id}, status_code=203, headers={"X-T": "1"})

    app.mount("/static", ketch.StaticFiles(directory=str(TEMPLATES)), name="static")
    response = TestClient(app).get("/items/<x>")
    assert response.status_code == 203 and response.headers["x-t"] == "1"
    assert "Item ID: &lt;x&gt;" in response.text and "from a processor" in response.text
    assert 'href="http://testserver/items/&lt;x&gt;"' in response.text
    assert seen == ["/items/%3Cx%3E"]
    plain = Jinja2Templates(env=jinja2.Environment(loader=jinja2.DictLoader({"t.txt": "id={{ id }}"})))
    rendered = plain.TemplateResponse(Request({"type": "http", "path": "/", "headers": []}), "t.txt", {"id": 1})
    assert (rendered.body, rendered.template.name, rendered.context["id"]) == (b"id=1", "t.txt", 1)
    with pytest.raises(TypeError):
        Jinja2Templates()
    with pytest.raises(TypeError):
        Jinja2Templates(directory=str(TEMPLATES), env=env)
