"""The docs_src example of the websockets page's "Cross-site handshakes" section, exercised as described."""

from __future__ import annotations

import pytest

from ketch import WebSocketDisconnect
from ketch.testclient import TestClient, WebSocketDenialResponse

COOKIE = {"cookie": "session=c2Vzc2lvbg"}


def client() -> TestClient:
    from docs_src.websocket_origins import app

    return TestClient(app, base_url="https://api.example.com")


@pytest.mark.parametrize(
    "origin", ["https://app.example.com", "https://api.example.com", "https://APP.example.com:443"]
)
def test_listed_and_own_origins_get_the_users_socket(origin: str) -> None:
    with client().websocket_connect("/notifications", headers={"origin": origin, **COOKIE}) as ws:
        assert ws.receive_json() == {"user": "alice", "unread": 3}


@pytest.mark.parametrize("origin", ["https://evil.example", "http://app.example.com", "null"])
def test_another_sites_page_is_refused_before_the_endpoint(origin: str) -> None:
    with pytest.raises(WebSocketDenialResponse) as refused:
        with client().websocket_connect("/notifications", headers={"origin": origin, **COOKIE}):
            pass
    assert (refused.value.status_code, refused.value.text) == (403, "Cross-site WebSocket handshake refused")


def test_without_a_cookie_there_is_nothing_to_hijack() -> None:
    # The endpoint runs, and finds no session: its own 1008, not the origin check's 403.
    with pytest.raises(WebSocketDisconnect) as closed:
        with client().websocket_connect("/notifications", headers={"origin": "https://evil.example"}):
            pass
    assert not isinstance(closed.value, WebSocketDenialResponse)
    assert (closed.value.code, closed.value.reason) == (1008, "log in first")


def test_clients_that_are_not_browsers_send_no_origin() -> None:
    with client().websocket_connect("/notifications", headers=COOKIE) as ws:
        assert ws.receive_json()["user"] == "alice"
