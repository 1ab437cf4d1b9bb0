"""The bad-input battery (RELIABILITY.md rows A1-A4, B, C1, C3, G2, G4) on typed routes: 4xx, never 500."""

import logging
import time
from datetime import date
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from ketch import Ketch
from ketch._plan.typed import TypedPlanner
from ketch.background import BackgroundTasks
from ketch.params import Form, Query
from ketch.testclient import TestClient


class Item(BaseModel):
    name: str
    data: Any = None


def make_client() -> TestClient:
    app = Ketch(planner=TypedPlanner())

    @app.post("/items")
    async def items(item: Item) -> dict[str, str]:
        return {"name": item.name}

    @app.get("/params")
    async def params(
        id: int = 0,
        flag: bool = False,
        when: date | None = None,
        limit: Annotated[float, Query(allow_inf_nan=False)] = 1,
    ) -> dict[str, Any]:
        return {"id": str(id), "flag": flag}

    @app.post("/form")
    async def form(name: Annotated[str, Form()]) -> str:
        return name

    @app.post("/background")
    async def background(tasks: BackgroundTasks) -> str:
        def fail() -> None:
            raise RuntimeError("task failed")

        tasks.add_task(fail)
        return "sent"

    @app.get("/health")
    async def health() -> str:
        return "ok"

    return TestClient(app, raise_server_exceptions=False)


JSON = {"content-type": "application/json"}


def assert_healthy(client: TestClient) -> None:
    assert client.get("/health").status_code == 200


@pytest.mark.timeout(10)
def test_a1_broken_json_is_a_422_with_the_position() -> None:
    client = make_client()
    response = client.post("/items", content=b'{"name": ', headers=JSON)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "json_invalid",
                "loc": ["body", 9],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": "Expecting value"},
            }
        ]
    }
    assert_healthy(client)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a2_json_without_a_json_content_type_is_never_parsed(content_type: str | None) -> None:
    client = make_client()
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/items", content=b'{"name": "x"}', headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert_healthy(client)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"name": "\xff\xfe"}', id="invalid-utf8"),
        pytest.param(b'{"name": "a", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", id="deep-nesting"),
        pytest.param(b'{"name": "a", "data": ' + b"7" * 5000 + b"}", id="5000-digits"),
    ],
)
def test_a3_a4_undecodable_json_is_a_400_quickly(body: bytes) -> None:
    client = make_client()
    started = time.perf_counter()
    response = client.post("/items", content=body, headers=JSON)
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 400
    assert response.json() == {"detail": "There was an error parsing the body"}
    assert_healthy(client)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("id=99999999999999999999999", 200),
        ("flag=maybe", 422),
        ("when=2026-13-45", 422),
        ("limit=1e309", 422),
        ("id=%ff", 422),
        ("id=1%002", 422),
    ],
)
def test_c1_c3_bad_query_values_are_422_naming_the_parameter(query: str, status: int) -> None:
    client = make_client()
    response = client.get(f"/params?{query}")
    assert response.status_code == status
    if status == 422:
        assert response.json()["detail"][0]["loc"][0] == "query"
    assert_healthy(client)


@pytest.mark.timeout(10)
def test_b_bad_form_bodies_are_4xx() -> None:
    client = make_client()
    assert (
        client.post(
            "/form",
            content=b"name=" + b"x" * (2 * 1024 * 1024),
            headers={"content-type": "application/x-www-form-urlencoded"},
        ).status_code
        == 413
    )
    assert client.post("/form", content=b"--x\r\n", headers={"content-type": "multipart/form-data"}).status_code == 400
    assert (
        client.post(
            "/form", content=b"a=1&" * 2000, headers={"content-type": "application/x-www-form-urlencoded"}
        ).status_code
        == 400
    )
    assert_healthy(client)


@pytest.mark.timeout(10)
def test_g4_a_failing_background_task_is_logged_and_the_response_unaffected(caplog: pytest.LogCaptureFixture) -> None:
    client = make_client()
    with caplog.at_level(logging.ERROR, logger="ketch.error"):
        response = client.post("/background")
    assert response.status_code == 200 and response.json() == "sent"
    assert any("Background task failed" in record.getMessage() for record in caplog.records)
    assert_healthy(client)
