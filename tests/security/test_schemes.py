"""The security schemes answer as FastAPI's do (401 and WWW-Authenticate, ``auto_error=False``), on HTTP and
WebSocket routes alike."""

import base64
from types import SimpleNamespace
from typing import Annotated, Any

import pytest

from ketch import Ketch, WebSocket
from ketch.params import Depends, Security
from ketch.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
    SecurityScopes,
)
from ketch.security.utils import get_authorization_scheme_param
from ketch.testclient import TestClient, WebSocketDenialResponse
from tests.openapi._diff import FASTAPI, KETCH

WWW = ("www-authenticate",)


def _basic(text: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(text.encode()).decode()}


def build(fa: SimpleNamespace) -> Any:
    app = fa.FastAPI()
    s = fa.security
    schemes = {
        "basic": s.HTTPBasic(),
        "basic-realm": s.HTTPBasic(realm="simple"),
        "basic-optional": s.HTTPBasic(auto_error=False),
        "bearer": s.HTTPBearer(),
        "bearer-optional": s.HTTPBearer(auto_error=False),
        "digest": s.HTTPDigest(),
        "oauth2": s.OAuth2PasswordBearer(tokenUrl="token"),
        "oauth2-optional": s.OAuth2PasswordBearer(tokenUrl="token", auto_error=False),
        "code": s.OAuth2AuthorizationCodeBearer(authorizationUrl="auth", tokenUrl="token"),
        "raw-oauth2": s.OAuth2(),
        "oidc": s.OpenIdConnect(openIdConnectUrl="/oidc"),
        "key-header": s.APIKeyHeader(name="X-Key"),
        "key-query": s.APIKeyQuery(name="key"),
        "key-cookie": s.APIKeyCookie(name="key"),
        "key-optional": s.APIKeyHeader(name="X-Key", auto_error=False),
    }
    for name, scheme in schemes.items():

        def endpoint(credentials: Annotated[Any, fa.Depends(scheme)]) -> Any:
            if hasattr(credentials, "model_dump"):
                return credentials.model_dump()
            return {"credentials": credentials}

        app.get(f"/{name}")(endpoint)

    @app.post("/token")
    def token(form: Annotated[s.OAuth2PasswordRequestForm, fa.Depends()]) -> Any:
        return {"username": form.username, "scopes": form.scopes, "grant_type": form.grant_type}

    @app.post("/token-strict")
    def token_strict(form: Annotated[s.OAuth2PasswordRequestFormStrict, fa.Depends()]) -> Any:
        return {"username": form.username, "client_id": form.client_id}

    return app


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/basic", {}),
    ("GET", "/basic", {"headers": _basic("alice:secret")}),
    ("GET", "/basic", {"headers": _basic("alice:with:colons")}),
    ("GET", "/basic", {"headers": _basic("no-colon")}),
    ("GET", "/basic", {"headers": {"Authorization": "Basic !!!not-base64"}}),
    ("GET", "/basic", {"headers": {"Authorization": "Bearer abc"}}),
    ("GET", "/basic-realm", {}),
    ("GET", "/basic-optional", {}),
    ("GET", "/basic-optional", {"headers": {"Authorization": "Basic %%%"}}),
    ("GET", "/bearer", {}),
    ("GET", "/bearer", {"headers": {"Authorization": "Bearer tok"}}),
    ("GET", "/bearer", {"headers": {"Authorization": "Basic tok"}}),
    ("GET", "/bearer", {"headers": {"Authorization": "Bearer"}}),
    ("GET", "/bearer-optional", {"headers": {"Authorization": "Basic tok"}}),
    ("GET", "/digest", {}),
    ("GET", "/digest", {"headers": {"Authorization": "Digest abc"}}),
    ("GET", "/digest", {"headers": {"Authorization": "Bearer abc"}}),
    ("GET", "/oauth2", {}),
    ("GET", "/oauth2", {"headers": {"Authorization": "Bearer tok"}}),
    ("GET", "/oauth2", {"headers": {"Authorization": "bearer   tok  "}}),
    ("GET", "/oauth2", {"headers": {"Authorization": "Token tok"}}),
    ("GET", "/oauth2-optional", {}),
    ("GET", "/code", {}),
    ("GET", "/code", {"headers": {"Authorization": "Bearer tok"}}),
    ("GET", "/raw-oauth2", {}),
    ("GET", "/raw-oauth2", {"headers": {"Authorization": "Anything at all"}}),
    ("GET", "/oidc", {}),
    ("GET", "/oidc", {"headers": {"Authorization": "Bearer x"}}),
    ("GET", "/key-header", {}),
    ("GET", "/key-header", {"headers": {"X-Key": "k"}}),
    ("GET", "/key-header", {"headers": {"X-Key": ""}}),
    ("GET", "/key-query", {}),
    ("GET", "/key-query?key=k", {}),
    ("GET", "/key-cookie", {}),
    ("GET", "/key-cookie", {"headers": {"Cookie": "key=k"}}),
    ("GET", "/key-optional", {}),
    ("POST", "/token", {"data": {"username": "u", "password": "p", "scope": "a b"}}),
    ("POST", "/token", {"data": {"username": "u", "password": "p", "grant_type": "refresh"}}),
    ("POST", "/token", {"data": {"username": "u"}}),
    ("POST", "/token-strict", {"data": {"username": "u", "password": "p"}}),
    ("POST", "/token-strict", {"data": {"username": "u", "password": "p", "grant_type": "password", "client_id": "c"}}),
]


@pytest.fixture(scope="module")
def clients() -> Any:
    with TestClient(build(FASTAPI)) as expected, TestClient(build(KETCH)) as actual:
        yield expected, actual


@pytest.mark.parametrize(("method", "url", "kwargs"), CASES, ids=[f"{m} {u} {k}" for m, u, k in CASES])
def test_same_answers_as_fastapi(clients: Any, method: str, url: str, kwargs: dict[str, Any]) -> None:
    expected_client, actual_client = clients
    expected = expected_client.request(method, url, **kwargs)
    actual = actual_client.request(method, url, **kwargs)
    where = f"fastapi {expected.status_code} {expected.text!r} / ketch {actual.status_code} {actual.text!r}"
    assert actual.status_code == expected.status_code, where
    assert actual.json() == expected.json(), where
    assert actual.headers.get("www-authenticate") == expected.headers.get("www-authenticate"), where


def test_authorization_scheme_param() -> None:
    assert get_authorization_scheme_param(None) == ("", "")
    assert get_authorization_scheme_param("") == ("", "")
    assert get_authorization_scheme_param("Bearer  abc ") == ("Bearer", "abc")
    assert get_authorization_scheme_param("Bearer") == ("Bearer", "")


def test_schemes_work_on_websocket_routes() -> None:
    # FastAPI's security classes read only HTTP requests (fastapi#2587); ketch's read any connection.
    app = Ketch()
    oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"chat": "Chat"})
    basic = HTTPBasic()
    bearer = HTTPBearer()
    keys = (APIKeyHeader(name="X-Key"), APIKeyQuery(name="key"), APIKeyCookie(name="key"))

    def scoped(scopes: SecurityScopes, token: Annotated[str, Depends(oauth2)]) -> str:
        return f"{token}:{scopes.scope_str}"

    @app.websocket("/chat")
    async def chat(websocket: WebSocket, who: Annotated[str, Security(scoped, scopes=["chat"])]) -> None:
        await websocket.accept()
        await websocket.send_text(who)
        await websocket.close()

    @app.websocket("/basic")
    async def basic_ws(websocket: WebSocket, credentials: Annotated[HTTPBasicCredentials, Depends(basic)]) -> None:
        await websocket.accept()
        await websocket.send_text(credentials.username)
        await websocket.close()

    @app.websocket("/bearer")
    async def bearer_ws(
        websocket: WebSocket, credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]
    ) -> None:
        await websocket.accept()
        await websocket.send_text(credentials.credentials)
        await websocket.close()

    for index, key in enumerate(keys):

        async def keyed(websocket: WebSocket, value: Annotated[str, Depends(key)]) -> None:
            await websocket.accept()
            await websocket.send_text(value)
            await websocket.close()

        app.add_websocket_route(f"/key{index}", keyed)

    with TestClient(app) as client:
        with client.websocket_connect("/chat", headers={"Authorization": "Bearer tok"}) as ws:
            assert ws.receive_text() == "tok:chat"
        with client.websocket_connect("/basic", headers=_basic("alice:pw")) as ws:
            assert ws.receive_text() == "alice"
        with client.websocket_connect("/bearer", headers={"Authorization": "Bearer t2"}) as ws:
            assert ws.receive_text() == "t2"
        with client.websocket_connect("/key0", headers={"X-Key": "h"}) as ws:
            assert ws.receive_text() == "h"
        with client.websocket_connect("/key1?key=q") as ws:
            assert ws.receive_text() == "q"
        with client.websocket_connect("/key2", headers={"Cookie": "key=c"}) as ws:
            assert ws.receive_text() == "c"
        for path in ("/chat", "/basic", "/bearer", "/key0", "/key1", "/key2"):
            # Refused before the handshake completes: the 401 goes out as the handshake's denial response.
            with pytest.raises(WebSocketDenialResponse) as caught:
                with client.websocket_connect(path):
                    pass
            assert caught.value.status_code == 401, path
            assert caught.value.json() == {"detail": "Not authenticated"}
            assert caught.value.headers["www-authenticate"] in ("Bearer", "Basic", "APIKey")
