"""The showcase app the README runs: every feature it shows, end to end, on a temporary SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ketch.testclient import TestClient


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KETCH_SHOWCASE_DB", str(tmp_path / "notes.sqlite3"))
    from examples.showcase.app import app

    with TestClient(app) as client:
        yield client


def test_index_page_and_static_file(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>ketch showcase</h1>" in page.text
    css = client.get("/static/style.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "font-family" in css.text
    assert client.get("/static/../app.py").status_code == 404


def test_health_reports_the_database(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok", "database": "notes.sqlite3"}


def test_notes_crud(client: TestClient) -> None:
    assert client.get("/api/notes").json() == []
    created = client.post("/api/notes", json={"text": "  buy milk "})
    assert created.status_code == 201
    note = created.json()
    assert note["text"] == "buy milk"
    assert client.get(f"/api/notes/{note['id']}").json() == note
    assert client.get("/api/notes").json() == [note]
    deleted = client.delete(f"/api/notes/{note['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert client.get(f"/api/notes/{note['id']}").status_code == 404
    assert client.delete(f"/api/notes/{note['id']}").json() == {"detail": "Note not found"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"text": ""}', 422),
        (b'{"text": 3}', 422),
        (b"[]", 422),
        (b"{bad json", 400),
        (b'{"text": "\xff"}', 400),
    ],
)
def test_bad_notes_are_refused(client: TestClient, body: bytes, status: int) -> None:
    response = client.post("/api/notes", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert "detail" in response.json()
    assert client.get("/api/notes").json() == []


def test_websocket_echo(client: TestClient) -> None:
    with client.websocket_connect("/ws/echo") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "echo: hello"
