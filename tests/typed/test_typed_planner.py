"""The typed planner's own behaviour: a superset of the core planner, start-up errors, exceptions, performance."""

import threading
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from ketch import ImproperlyConfigured, Ketch, Request, Response
from ketch._plan.typed import TypedPlanner
from ketch.exceptions import RequestValidationError, ResponseValidationError
from ketch.params import Depends, Query
from ketch.responses import JSONResponse
from ketch.testclient import TestClient


def make_app(**options: Any) -> Ketch:
    return Ketch(planner=TypedPlanner(), **options)


def test_core_planner_endpoints_still_work() -> None:
    app = make_app()

    @app.get("/plain/{item_id}")
    async def plain(request, item_id):  # type: ignore[no-untyped-def]
        return {"path": request.url.path, "item_id": item_id}

    @app.get("/ws-name")
    def ws_name(ws) -> str:  # type: ignore[no-untyped-def]
        return type(ws).__name__

    @app.get("/typed/{n:int}")
    def typed(n: int, r: Request) -> dict[str, Any]:
        return {"n": n, "method": r.method}

    client = TestClient(app)
    assert client.get("/plain/7").json() == {"path": "/plain/7", "item_id": "7"}
    assert client.get("/ws-name").json() == "Request"
    assert client.get("/typed/3").json() == {"n": 3, "method": "GET"}


def test_unresolvable_annotation_fails_at_start_up() -> None:
    app = make_app()
    app.add_route("/x", lambda q: q)

    def broken(q: "NoSuchType") -> None:  # type: ignore[name-defined]  # noqa: F821
        return None

    app.add_route("/y", broken)
    with pytest.raises(ImproperlyConfigured, match="NoSuchType"):
        app.prepare()


def test_default_inside_annotated_marker_is_rejected() -> None:
    app = make_app()

    def endpoint(q: Annotated[int, Query(3)]) -> int:
        return q

    app.add_route("/x", endpoint)
    with pytest.raises(ImproperlyConfigured, match="default value cannot be set in `Annotated`"):
        app.prepare()


class Out(BaseModel):
    name: str


def test_response_validation_error_is_a_server_error() -> None:
    app = make_app()

    @app.get("/bad", response_model=Out)
    async def bad() -> Any:
        return {"name": None}

    with pytest.raises(ResponseValidationError) as info:
        TestClient(app).get("/bad")
    assert info.value.errors() == [
        {"type": "string_type", "loc": ("response", "name"), "msg": "Input should be a valid string", "input": None}
    ]
    assert "1 validation error" in str(info.value)
    response = TestClient(app, raise_server_exceptions=False).get("/bad")
    assert response.status_code == 500


def test_request_validation_error_handler_sees_the_body() -> None:
    app = make_app()

    @app.exception_handler(RequestValidationError)
    async def handler(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"errors": len(exc.errors()), "body": exc.body}, status_code=400)

    @app.post("/items")
    async def items(item: Out, n: int) -> Out:
        return item

    client = TestClient(app)
    assert client.post("/items?n=x", json={"name": "a"}).json() == {"errors": 1, "body": {"name": "a"}}
    assert client.post("/items?n=1", json={"name": 3}).json() == {"errors": 1, "body": {"name": 3}}


def test_sync_dependencies_and_endpoint_share_one_thread_hop() -> None:
    threads: list[int] = []

    def first() -> int:
        threads.append(threading.get_ident())
        return 1

    def second(a: Annotated[int, Depends(first)]) -> int:
        threads.append(threading.get_ident())
        return a + 1

    app = make_app()

    @app.get("/hop")
    def hop(b: Annotated[int, Depends(second)]) -> int:
        threads.append(threading.get_ident())
        return b

    assert TestClient(app).get("/hop").json() == 2
    assert len(threads) == 3 and len(set(threads)) == 1
    assert threads[0] != threading.get_ident()


class _Untouchable(dict[Any, Any]):
    def __bool__(self) -> bool:
        raise AssertionError("a route without dependencies must not look at dependency_overrides")


def test_route_without_dependencies_never_enters_di() -> None:
    app = make_app()

    @app.get("/plain")
    def plain(q: int = 0) -> int:
        return q

    app.dependency_overrides = _Untouchable()
    assert TestClient(app).get("/plain?q=3").json() == 3


def test_uploaded_files_are_closed_after_the_response() -> None:
    from ketch import UploadFile

    uploads: list[UploadFile] = []
    app = make_app()

    @app.post("/upload")
    async def upload(file: UploadFile) -> int:
        uploads.append(file)
        assert not file.file.closed
        return len(await file.read())

    @app.post("/upload-fails")
    async def upload_fails(file: UploadFile) -> int:
        uploads.append(file)
        raise LookupError("after the form was read")

    client = TestClient(app, raise_server_exceptions=False)
    assert client.post("/upload", files={"file": ("a.txt", b"abc")}).json() == 3
    assert client.post("/upload-fails", files={"file": ("a.txt", b"abc")}).status_code == 500
    assert [u.file.closed for u in uploads] == [True, True]


def test_strict_content_type_can_be_switched_off() -> None:
    for app in (Ketch(planner=TypedPlanner(strict_content_type=False)), make_app(strict_content_type=False)):

        @app.post("/items")
        async def items(item: Out) -> Out:
            return item

        response = TestClient(app).post("/items", content=b'{"name": "a"}')
        assert response.status_code == 200 and response.json() == {"name": "a"}
