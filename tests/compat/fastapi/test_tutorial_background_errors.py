"""FastAPI tutorial: "Background Tasks" and "Handling Errors" (HTTPException, custom headers, custom handlers,
overriding the default handlers, reusing FastAPI's handlers)."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

from typing import Annotated, Any

from pydantic import BaseModel

from ._diff import Req, check, clients, compare


class Item(BaseModel):
    title: str
    size: int


class UnicornException(Exception):
    def __init__(self, name: str):
        self.name = name


def build_background(fastapi: Any, starlette: Any) -> Any:
    app = fastapi.FastAPI()
    log: list[str] = []
    app.state.log = log
    BackgroundTasks, Depends = fastapi.BackgroundTasks, fastapi.Depends

    def write_notification(email: str, message: str = ""):
        log.append(f"notification for {email}: {message}")

    async def write_async(line: str):
        log.append(f"async {line}")

    @app.post("/send-notification/{email}")
    async def send_notification(email: str, background_tasks: BackgroundTasks):
        background_tasks.add_task(write_notification, email, message="some notification")
        return {"message": "Notification sent in the background"}

    def get_query(background_tasks: BackgroundTasks, q: str | None = None):
        if q:
            background_tasks.add_task(write_async, f"found query: {q}")
        return q

    @app.post("/send-with-dependency/{email}")
    async def send_with_dependency(
        email: str, background_tasks: BackgroundTasks, q: Annotated[str | None, Depends(get_query)] = None
    ):
        background_tasks.add_task(write_notification, email, message=f"q={q}")
        return {"message": "Message sent"}

    @app.get("/direct-task/")
    async def direct_task():
        task = starlette.background.BackgroundTask(write_notification, "direct@example.com", message="direct")
        return fastapi.responses.JSONResponse({"ok": True}, background=task)

    @app.get("/log/")
    def read_log():
        return log

    return app


def test_background_tasks() -> None:
    with clients(build_background) as (expected_client, actual_client):
        for req in [
            Req("POST", "/send-notification/a@example.com"),
            Req("POST", "/send-with-dependency/b@example.com?q=term"),
            Req("POST", "/send-with-dependency/c@example.com"),
            Req("GET", "/direct-task/"),
            Req("GET", "/log/"),
        ]:
            check(req, expected_client.request(req.method, req.url), actual_client.request(req.method, req.url))
        assert actual_client.app.state.log == expected_client.app.state.log


def build_errors(fastapi: Any, starlette: Any) -> Any:
    app = fastapi.FastAPI()
    HTTPException, Request = fastapi.HTTPException, fastapi.Request
    JSONResponse, PlainTextResponse = fastapi.responses.JSONResponse, fastapi.responses.PlainTextResponse
    items = {"foo": "The Foo Wrestlers"}

    @app.exception_handler(UnicornException)
    async def unicorn_exception_handler(request: Request, exc: UnicornException):
        return JSONResponse(
            status_code=418, content={"message": f"Oops! {exc.name} did something. There goes a rainbow..."}
        )

    @app.exception_handler(fastapi.exceptions.RequestValidationError)
    async def validation_exception_handler(request: Request, exc: Any):
        if request.url.path.startswith("/plain-errors/"):
            return PlainTextResponse(str(exc), status_code=400)
        if request.url.path.startswith("/reuse/"):
            return await fastapi.exception_handlers.request_validation_exception_handler(request, exc)
        return JSONResponse(
            status_code=422,
            content=fastapi.encoders.jsonable_encoder({"detail": exc.errors(), "body": exc.body}),
        )

    @app.exception_handler(starlette.exceptions.HTTPException)
    async def http_exception_handler(request: Request, exc: Any):
        if request.url.path.startswith("/reuse/"):
            return await fastapi.exception_handlers.http_exception_handler(request, exc)
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    @app.get("/items/{item_id}")
    async def read_item(item_id: str):
        if item_id not in items:
            raise HTTPException(status_code=404, detail="Item not found")
        return {"item": items[item_id]}

    @app.get("/items-header/{item_id}")
    async def read_item_header(item_id: str):
        if item_id not in items:
            raise HTTPException(status_code=404, detail="Item not found", headers={"X-Error": "There goes my error"})
        return {"item": items[item_id]}

    @app.get("/detail-object/")
    async def detail_object():
        raise HTTPException(status_code=400, detail={"reason": "structured", "codes": [1, 2]})

    @app.get("/unicorns/{name}")
    async def read_unicorn(name: str):
        if name == "yolo":
            raise UnicornException(name=name)
        return {"unicorn_name": name}

    @app.get("/plain-errors/{item_id}")
    async def plain_errors(item_id: int):
        if item_id == 3:
            raise HTTPException(status_code=418, detail="Nope! I don't like 3.")
        return {"item_id": item_id}

    @app.post("/body-errors/")
    async def body_errors(item: Item):
        return item

    @app.get("/reuse/{item_id}")
    async def reuse(item_id: int):
        if item_id == 3:
            raise HTTPException(status_code=418, detail="Nope! I don't like 3.")
        return {"item_id": item_id}

    @app.get("/crash/")
    async def crash():
        raise RuntimeError("boom")

    return app


def test_http_exceptions() -> None:
    compare(
        build_errors,
        [
            Req("GET", "/items/foo"),
            Req("GET", "/items/bar"),
            Req("GET", "/items-header/bar"),
            Req("GET", "/detail-object/"),
            Req("GET", "/unicorns/yolo"),
            Req("GET", "/unicorns/ok"),
        ],
    )


def test_overriding_the_default_handlers() -> None:
    compare(
        build_errors,
        [
            Req("GET", "/plain-errors/foo"),
            Req("GET", "/plain-errors/3"),
            Req("GET", "/plain-errors/2"),
            Req("POST", "/body-errors/", json={"title": "towel", "size": "XL"}),
            Req("GET", "/no-such-route"),
            Req("POST", "/items/foo"),
            Req("GET", "/reuse/3"),
            Req("GET", "/reuse/x"),
        ],
    )


def test_unhandled_exception_is_a_plain_500() -> None:
    compare(build_errors, [Req("GET", "/crash/")], raise_server_exceptions=False)
