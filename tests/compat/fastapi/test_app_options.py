"""``FastAPI(...)`` and ``APIRouter(...)`` constructor options, and ``include_router`` options, on both surfaces."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

from typing import Any

from ._diff import Req, clients, compare


class Teapot(Exception):
    pass


def build(fastapi: Any, starlette: Any) -> Any:
    responses = fastapi.responses
    events: list[str] = []

    async def teapot(request: Any, exc: Teapot):
        return responses.PlainTextResponse("short and stout", status_code=418)

    app = fastapi.FastAPI(
        title="Options",
        default_response_class=responses.PlainTextResponse,
        redirect_slashes=False,
        strict_content_type=False,
        exception_handlers={Teapot: teapot},
        on_startup=[lambda: events.append("started")],
        on_shutdown=[lambda: events.append("stopped")],
    )
    app.state.events = events

    @app.get("/text")
    def text():
        return "plain by default"

    @app.get("/json", response_class=responses.JSONResponse)
    def json():
        return {"explicit": "json"}

    @app.post("/lax")
    def lax(data: dict[str, int]):
        return str(data)

    @app.get("/tea")
    def tea():
        raise Teapot()

    @app.get("/events")
    def read_events():
        return ",".join(events)

    html = fastapi.APIRouter(prefix="/html", default_response_class=responses.HTMLResponse)

    @html.get("/page")
    def page():
        return "<p>html</p>"

    strict = fastapi.APIRouter(strict_content_type=True)

    @strict.post("/strict")
    def strict_body(data: dict[str, int]):
        return str(data)

    plain_json = fastapi.APIRouter()

    @plain_json.get("/data")
    def data():
        return {"a": 1}

    app.include_router(html)
    app.include_router(strict)
    app.include_router(plain_json, prefix="/included", default_response_class=responses.JSONResponse)
    return app


def test_constructor_and_include_options() -> None:
    compare(
        build,
        [
            Req("GET", "/text"),
            Req("GET", "/json"),
            Req("GET", "/text/", follow_redirects=False),
            Req("POST", "/lax", content=b'{"a": 1}'),
            Req("POST", "/lax", content=b'{"a": 1}', headers={"content-type": "text/plain"}),
            Req("POST", "/strict", content=b'{"a": 1}'),
            Req("GET", "/tea"),
            Req("GET", "/html/page"),
            Req("GET", "/included/data"),
            Req("GET", "/events"),
        ],
    )


def test_startup_and_shutdown_hooks() -> None:
    apps = []
    with clients(build) as (expected_client, actual_client):
        apps = [expected_client.app, actual_client.app]
    assert [app.state.events for app in apps] == [["started", "stopped"]] * 2


def test_openapi_settings_are_attributes() -> None:
    with clients(build) as (expected_client, actual_client):
        for name in ("title", "version", "openapi_url", "docs_url", "redoc_url", "servers", "openapi_tags", "debug"):
            assert getattr(actual_client.app, name) == getattr(expected_client.app, name), name
        assert actual_client.app.router is actual_client.app
