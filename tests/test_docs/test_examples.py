"""Every docs_src example, exercised as the docs page describes it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ketch.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]


def test_docs_pages_show_the_current_examples() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "docs-sync"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, f"run scripts/docs-sync: {result.stdout}"


def test_quickstart() -> None:
    from docs_src.quickstart import app

    client = TestClient(app)
    assert client.get("/").json() == {"message": "Hello, world!"}
    response = client.get("/items/3", params={"q": "x"})
    assert response.status_code == 200
    assert response.json() == {"id": 3, "q": "x"}
    assert client.get("/items/three").status_code == 404


def test_routing() -> None:
    from docs_src.routing import app

    client = TestClient(app)
    assert client.get("/users/7").json() == {"user_id": 7}
    assert client.get("/users/abc").status_code == 404
    assert client.get("/files/a/b/c.txt").json() == {"path": "a/b/c.txt"}
    order_id = "9b2c9c5e-61d4-4a45-9f1e-0c3a6fbc2f10"
    assert client.get(f"/orders/{order_id}").json() == {"self": f"http://testserver/orders/{order_id}"}
    assert client.post("/ping").text == "pong (POST)"
    assert client.head("/ping").text == ""
    options = client.options("/ping")
    assert options.status_code == 200
    assert options.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    refused = client.delete("/ping")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert client.get("/admin/stats").json() == {"users": 1}
    redirect = client.get("/admin/stats/", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "http://testserver/admin/stats"
    assert app.url_path_for("user", user_id=5) == "/users/5"


def test_errors() -> None:
    from docs_src.errors import app

    client = TestClient(app)
    assert client.get("/buy/tea").json() == {"bought": "tea"}
    conflict = client.get("/buy/teapot")
    assert conflict.status_code == 409
    assert conflict.json() == {"detail": "teapot is out of stock"}
    forbidden = client.get("/buy/secret")
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "Not for you"}
    assert forbidden.headers["x-reason"] == "secret"
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Nothing here", "path": "/nowhere"}
    legacy = client.get("/legacy/buy/teapot")
    assert (legacy.status_code, legacy.text) == (410, "SOLD OUT")


def test_lifespan() -> None:
    from docs_src import lifespan

    with TestClient(lifespan.app) as client:
        assert lifespan.events[-1] == "startup"
        assert client.get("/pool").json() == {"connections": 4}
    assert lifespan.events[-1] == "shutdown"


@pytest.mark.parametrize(
    ("path", "size", "status"),
    [
        ("/echo", 1000, 200),
        ("/echo", 3 * 1024 * 1024, 413),
        ("/upload", 3 * 1024 * 1024, 200),
        ("/small/note", 1024, 200),
        ("/small/note", 1025, 413),
    ],
)
def test_limits(path: str, size: int, status: int) -> None:
    from docs_src.limits import app

    response = TestClient(app).post(path, content=b"x" * size)
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"received": size}
    else:
        assert response.json() == {"detail": "Request body is too large"}



def test_requests() -> None:
    from docs_src.requests import app

    client = TestClient(app, cookies={"session": "s1"})
    response = client.post(
        "/inspect/bob?tag=a&tag=b", json={"x": 1}, headers={"user-agent": "docs-test"}
    )
    assert response.json() == {
        "method": "POST",
        "path": "/inspect/bob",
        "name": "bob",
        "tags": ["a", "b"],
        "agent": "docs-test",
        "session": "s1",
        "client_is_test": True,
        "body": {"x": 1},
    }
    assert client.post("/inspect/bob", content=b"{bad").status_code == 400
    assert client.post("/count", content=b"y" * 100_000).json() == {"bytes": 100_000}


def test_responses() -> None:
    from docs_src.responses import app

    client = TestClient(app)
    assert client.get("/json").json() == {"ok": True, "items": [1, 2, 3]}
    created = client.get("/created")
    assert (created.status_code, created.headers["location"]) == (201, "/items/1")
    page = client.get("/page")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    text = client.get("/text")
    assert text.headers["set-cookie"] == "session=abc123; Max-Age=3600; Path=/; SameSite=lax; HttpOnly"
    old = client.get("/old", follow_redirects=False)
    assert (old.status_code, old.headers["location"]) == (308, "/page")
    assert client.get("/csv").headers["content-type"] == "text/csv; charset=utf-8"
    assert client.get("/count").text == "0\n1\n2\n"


def test_websockets() -> None:
    from docs_src.websockets import app

    from ketch import WebSocketDisconnect

    client = TestClient(app)
    with client.websocket_connect("/echo") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "echo: hi"
    with client.websocket_connect("/rooms/blue") as ws:
        ws.send_json({"n": 1})
        assert ws.receive_json() == {"room": "blue", "got": {"n": 1}}
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/private") as ws:
            ws.receive_text()
    assert refused.value.code == 1008
    with client.websocket_connect("/private?token=secret") as ws:
        assert ws.receive_text() == "welcome"
