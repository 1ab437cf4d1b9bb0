"""The typed face's docs examples (docs_src/typed_*.py), exercised as the pages describe them."""

from __future__ import annotations

from ketch.testclient import TestClient


def test_parameters_and_validation() -> None:
    from docs_src.typed_params import app

    client = TestClient(app)
    assert client.get("/items/3?q=hi&short=yes").json() == {"item_id": 3, "q": "hi", "short": True}
    invalid = client.get("/items/0?q=" + "x" * 21)
    assert invalid.status_code == 422
    assert [(e["loc"], e["type"]) for e in invalid.json()["detail"]] == [
        (["path", "item_id"], "greater_than_equal"),
        (["query", "q"], "string_too_long"),
    ]
    assert client.get("/items/?limit=5&tag=a&tag=b&color=red").json() == {
        "limit": 5,
        "order_by": "created",
        "tag": ["a", "b"],
        "color": "red",
    }
    assert client.get("/items/?limits=5").json()["detail"][0]["type"] == "extra_forbidden"
    created = client.post(
        "/items/",
        json={"item": {"name": "Plumbus", "price": 3}, "importance": 2},
        headers={"x-request-id": "r1"},
    )
    assert created.status_code == 201
    assert created.json() == {
        "item": {"name": "Plumbus", "price": 3.0, "tags": []},
        "importance": 2,
        "request_id": "r1",
    }
    assert client.post("/items/", json={"item": {"name": "", "price": 0}}).status_code == 422
    assert client.post("/items/", content=b"{}", headers={"content-type": "text/plain"}).status_code == 422
    client.cookies.set("session", "s1")
    assert client.get("/me", headers={"user-agent": "docs"}).json() == {"session": "s1", "user_agent": "docs"}
    assert client.post("/login", data={"username": "ann", "password": "longenough"}).json() == {"username": "ann"}
    assert client.post("/login", data={"username": "ann", "password": "short"}).status_code == 422
    uploaded = client.post("/upload", files={"file": ("a.txt", b"hello")}, data={"note": "n"})
    assert uploaded.json() == {"filename": "a.txt", "size": 5, "note": "n"}


def test_dependencies() -> None:
    from docs_src import typed_dependencies as example

    client = TestClient(example.app)
    alice = {"x-token": "alice-token"}
    assert client.get("/items/?skip=1&limit=1", headers=alice).json() == {"user": "alice", "items": ["portal gun"]}
    assert example.log[-2:] == ["db opened", "db closed"]
    missing = client.get("/items/")
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["header", "x-token"]
    refused = client.get("/items/", headers={"x-token": "nope"})
    assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "Bearer")
    assert client.get("/admin/stats", headers=alice).status_code == 403
    assert client.get("/admin/stats", headers={"x-token": "root-token"}).json() == {"items": 3}

    # Testing with overrides: swap a dependency for the length of a test.
    example.app.dependency_overrides[example.user_name] = lambda: "root"
    try:
        assert client.get("/admin/stats").json() == {"items": 3}
    finally:
        example.app.dependency_overrides.clear()
    assert client.get("/admin/stats").status_code == 422


def test_sync_dependencies_on_the_loop() -> None:
    from docs_src import typed_sync_deps as example

    assert TestClient(example.app).get("/info").json() == {"page_size": 20, "motd": "from typing import Annotated"}


def test_responses() -> None:
    from docs_src import typed_responses as example

    client = TestClient(example.app)
    created = client.post("/users/", json={"username": "ann", "password": "secret"})
    assert (created.status_code, created.json()) == (201, {"username": "ann"})
    item = client.get("/items/plumbus")
    assert item.json() == {"name": "plumbus", "price": 9.5}
    assert item.headers["x-cache"] == "miss"
    assert item.headers["set-cookie"] == "last_item=plumbus; Path=/; SameSite=lax; HttpOnly"
    teapot = client.get("/items/teapot")
    assert (teapot.status_code, teapot.json(), teapot.headers["x-error"]) == (
        418,
        {"detail": "I'm a teapot"},
        "short and stout",
    )
    assert client.get("/page").headers["content-type"] == "text/html; charset=utf-8"
    assert (client.get("/direct").status_code, client.get("/direct").json()) == (202, {"sent": "as is"})
    assert client.post("/signup", data={"email": "a@example.com"}).json() == {"status": "signed up"}
    assert example.outbox == ["a@example.com: welcome!"]
    prices = client.get("/prices")
    assert prices.headers["content-type"] == "application/jsonl"
    assert prices.text == '{"name":"plumbus","price":3.0}\n{"name":"gun","price":99.5}\n'
    events = client.get("/events")
    assert events.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert events.text == 'event: progress\ndata: {"step": 1}\nid: 1\n\nevent: end\ndata: "done"\n\n'
    invalid = client.post("/users/", json={"username": "ann"})
    assert (invalid.status_code, invalid.json()) == (400, {"errors": ["Field required"]})
