"""FastAPI tutorial: "Header Parameters", "Cookie Parameters", "Header Parameter Models", "Cookie Parameter Models",
and the advanced "Response Headers", "Response Cookies" and "Response - Change Status Code"."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

from typing import Annotated, Any

from pydantic import BaseModel

from ._diff import Req, compare


class CommonHeaders(BaseModel):
    model_config = {"extra": "forbid"}

    host: str
    save_data: bool
    if_modified_since: str | None = None
    traceparent: str | None = None
    x_tag: list[str] = []


class Cookies(BaseModel):
    model_config = {"extra": "forbid"}

    session_id: str
    fatebook_tracker: str | None = None
    googall_tracker: str | None = None


def build(fastapi: Any, starlette: Any) -> Any:
    app = fastapi.FastAPI()
    Header, Cookie, Response = fastapi.Header, fastapi.Cookie, fastapi.Response
    JSONResponse = fastapi.responses.JSONResponse

    @app.get("/items/")
    async def read_items(
        user_agent: Annotated[str | None, Header()] = None,
        strange_header: Annotated[str | None, Header(convert_underscores=False)] = None,
        x_token: Annotated[list[str] | None, Header()] = None,
    ):
        return {"User-Agent": user_agent, "strange_header": strange_header, "X-Token values": x_token}

    @app.get("/header-model/")
    async def header_model(headers: Annotated[CommonHeaders, Header()]):
        return headers

    @app.get("/cookies/")
    async def read_cookies(ads_id: Annotated[str | None, Cookie()] = None):
        return {"ads_id": ads_id}

    @app.get("/cookie-model/")
    async def cookie_model(cookies: Annotated[Cookies, Cookie()]):
        return cookies

    @app.get("/headers-and-object/")
    def headers_and_object(response: Response):
        response.headers["X-Cat-Dog"] = "alone in the world"
        return {"message": "Hello World"}

    @app.get("/headers/")
    def get_headers():
        content = {"message": "Hello World"}
        headers = {"X-Cat-Dog": "alone in the world", "Content-Language": "en-US"}
        return JSONResponse(content=content, headers=headers)

    @app.post("/cookie-and-object/")
    def create_cookie(response: Response):
        response.set_cookie(key="fakesession", value="fake-cookie-session-value")
        return {"message": "Come to the dark side, we have cookies"}

    @app.post("/cookie/")
    def create_cookie_direct():
        content = {"message": "Come to the dark side, we have cookies"}
        response = JSONResponse(content=content)
        response.set_cookie(key="fakesession", value="fake-cookie-session-value")
        response.set_cookie(key="strict", value="s", httponly=True, secure=True, max_age=60, samesite="strict")
        return response

    @app.post("/logout/")
    def logout(response: Response):
        response.delete_cookie("fakesession")
        return {}

    tasks = {"foo": "Listen to the Bar Fighters"}

    @app.put("/get-or-create-task/{task_id}", status_code=200)
    def get_or_create_task(task_id: str, response: Response):
        if task_id not in tasks:
            tasks[task_id] = "This didn't exist before"
            response.status_code = fastapi.status.HTTP_201_CREATED
        return tasks[task_id]

    return app


def test_header_parameters() -> None:
    compare(
        build,
        [
            Req("GET", "/items/", headers={"user-agent": "Mozilla/5.0"}),
            Req("GET", "/items/", headers={"strange_header": "x", "strange-header": "y"}),
            Req("GET", "/items/", headers=[("x-token", "foo"), ("x-token", "bar")]),
            Req("GET", "/items/", headers={"X-Token": "Single"}),
        ],
    )


def test_header_models() -> None:
    compare(
        build,
        [
            Req("GET", "/header-model/", headers={"save-data": "true", "x-tag": "a"}),
            Req("GET", "/header-model/", headers=[("save-data", "0"), ("x-tag", "a"), ("x-tag", "b")]),
            Req("GET", "/header-model/", headers={"save-data": "maybe"}),
            Req("GET", "/header-model/"),
        ],
    )


def test_cookie_parameters_and_models() -> None:
    compare(
        build,
        [
            Req("GET", "/cookies/"),
            Req("GET", "/cookies/", headers={"cookie": "ads_id=ads_track"}),
            Req("GET", "/cookies/", headers={"cookie": 'ads_id="quoted \\"value\\""; other=1'}),
            Req("GET", "/cookie-model/", headers={"cookie": "session_id=123; fatebook_tracker=456"}),
            Req("GET", "/cookie-model/", headers={"cookie": "session_id=123; santa_tracker=good"}),
            Req("GET", "/cookie-model/"),
        ],
    )


def test_response_headers_and_cookies() -> None:
    compare(
        build,
        [
            Req("GET", "/headers-and-object/"),
            Req("GET", "/headers/"),
            Req("POST", "/cookie-and-object/"),
            Req("POST", "/cookie/"),
            Req("POST", "/logout/", ignore_headers=["set-cookie"]),
        ],
    )


def test_delete_cookie_expires_it() -> None:
    # Both set "expires=<now>": compare the header without the moment.
    from ._diff import clients

    with clients(build) as (expected_client, actual_client):
        expected = expected_client.post("/logout/").headers["set-cookie"]
        actual = actual_client.post("/logout/").headers["set-cookie"]
    drop_expires = lambda value: [p for p in value.split("; ") if not p.startswith("expires=")]  # noqa: E731
    assert drop_expires(actual) == drop_expires(expected)


def test_change_status_code() -> None:
    compare(
        build,
        [
            Req("PUT", "/get-or-create-task/foo"),
            Req("PUT", "/get-or-create-task/bar"),
            Req("PUT", "/get-or-create-task/bar"),
        ],
    )
