"""The OpenAPI and security docs examples, exercised as docs/openapi.md and docs/security.md describe them."""

from __future__ import annotations

import base64

import pytest
from openapi_spec_validator import validate

from ketch.testclient import TestClient, WebSocketDenialResponse


def test_openapi_example() -> None:
    from docs_src.openapi import app

    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
        for page in ("/docs", "/redoc", "/scalar"):
            assert client.get(page).status_code == 200
    validate(document)
    assert document["info"]["summary"] == "Items for sale."
    assert document["tags"] == [{"name": "items", "description": "Browse and sell items."}]
    assert set(document["paths"]) == {"/items/{item_id}", "/items", "/items/legacy"}
    read = document["paths"]["/items/{item_id}"]["get"]
    assert read["description"] == "Read one item."
    assert read["tags"] == ["items"]
    assert read["responses"]["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Message"}
    sell = document["paths"]["/items"]["post"]
    assert (sell["summary"], sell["operationId"]) == ("Sell an item", "sell_item")
    assert sell["requestBody"]["content"]["application/json"]["examples"]["hammer"]["value"]["price"] == 9.5
    assert "201" in sell["responses"] and "413" in sell["responses"]
    legacy = document["paths"]["/items/legacy"]["get"]
    assert legacy["deprecated"] is True and legacy["x-internal"] is True
    assert "item-sold" in document["webhooks"]
    assert '"defaultModelsExpandDepth": -1' in TestClient(app).get("/docs").text


def test_security_example() -> None:
    from docs_src.security import app

    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
        validate(document)
        schemes = document["components"]["securitySchemes"]
        assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "token"
        assert document["paths"]["/users/me"]["get"]["security"] == [{"OAuth2PasswordBearer": ["me"]}]
        assert 'ui.initOAuth({"clientId": "shop-docs"})' in client.get("/docs").text

        refused = client.get("/users/me")
        assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "Bearer")
        wrong = client.post("/token", data={"username": "alice", "password": "nope"})
        assert wrong.status_code == 400
        token = client.post("/token", data={"username": "alice", "password": "wonderland"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/users/me", headers=headers).json() == {"username": "alice"}

        assert client.get("/admin").headers["www-authenticate"] == 'Basic realm="shop"'
        basic = {"Authorization": "Basic " + base64.b64encode(b"root:pw").decode()}
        assert client.get("/admin", headers=basic).json() == {"admin": "root"}
        assert client.get("/public").json() == {"has_key": False}
        assert client.get("/public", headers={"X-API-Key": "k"}).json() == {"has_key": True}

        with client.websocket_connect("/ws", headers=headers) as ws:
            assert ws.receive_text() == "hello alice"
        with pytest.raises(WebSocketDenialResponse) as caught:
            with client.websocket_connect("/ws"):
                pass
        assert caught.value.status_code == 401
