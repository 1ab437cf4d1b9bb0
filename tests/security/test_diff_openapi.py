"""The security schemes in OpenAPI documents equal FastAPI's, in every form the tutorials use."""

from types import SimpleNamespace
from typing import Annotated, Any

from pydantic import BaseModel

from tests.openapi._diff import compare


class User(BaseModel):
    username: str
    email: str | None = None


def test_oauth2_password_flow() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()
        oauth2_scheme = fa.security.OAuth2PasswordBearer(tokenUrl="token")

        async def get_current_user(token: Annotated[str, fa.Depends(oauth2_scheme)]) -> User:
            return User(username=token)

        @app.post("/token")
        async def login(form_data: Annotated[fa.security.OAuth2PasswordRequestForm, fa.Depends()]) -> dict[str, str]:
            return {}

        @app.post("/token-strict")
        async def login_strict(
            form_data: Annotated[fa.security.OAuth2PasswordRequestFormStrict, fa.Depends()],
        ) -> dict[str, str]:
            return {}

        @app.get("/items/")
        async def read_items(token: Annotated[str, fa.Depends(oauth2_scheme)]) -> dict[str, str]:
            return {"token": token}

        @app.get("/users/me")
        async def read_users_me(current_user: Annotated[User, fa.Depends(get_current_user)]) -> User:
            return current_user

        return app

    compare(build)


def test_oauth2_scopes() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()
        oauth2_scheme = fa.security.OAuth2PasswordBearer(
            tokenUrl="token",
            scopes={"me": "Read information about the current user.", "items": "Read items."},
            refreshUrl="refresh",
            description="The password flow",
        )

        async def get_current_user(
            security_scopes: fa.security.SecurityScopes, token: Annotated[str, fa.Depends(oauth2_scheme)]
        ) -> User:
            return User(username=token)

        async def get_current_active_user(
            current_user: Annotated[User, fa.Security(get_current_user, scopes=["me"])],
        ) -> User:
            return current_user

        @app.get("/users/me/")
        async def read_users_me(current_user: Annotated[User, fa.Depends(get_current_active_user)]) -> User:
            return current_user

        @app.get("/users/me/items/")
        async def read_own_items(
            current_user: Annotated[User, fa.Security(get_current_active_user, scopes=["items"])],
        ) -> list[dict[str, str]]:
            return []

        @app.get("/status/")
        async def read_system_status(current_user: Annotated[User, fa.Depends(get_current_user)]) -> dict[str, str]:
            return {}

        @app.get("/both/", dependencies=[fa.Security(oauth2_scheme, scopes=["items"])])
        async def both(token: Annotated[str, fa.Depends(oauth2_scheme)]) -> dict[str, str]:
            return {}

        return app

    compare(build)


def test_http_schemes() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()
        basic = fa.security.HTTPBasic(realm="simple", description="HTTP Basic")
        bearer = fa.security.HTTPBearer(bearerFormat="JWT", scheme_name="jwt", auto_error=False)
        digest = fa.security.HTTPDigest()

        @app.get("/users/me")
        def read_current_user(credentials: Annotated[fa.security.HTTPBasicCredentials, fa.Depends(basic)]) -> Any:
            return {"username": credentials.username}

        @app.get("/bearer")
        def read_bearer(
            credentials: Annotated[fa.security.HTTPAuthorizationCredentials | None, fa.Depends(bearer)],
        ) -> Any:
            return {}

        @app.get("/digest")
        def read_digest(credentials: Annotated[fa.security.HTTPAuthorizationCredentials, fa.Depends(digest)]) -> Any:
            return {}

        return app

    compare(build)


def test_api_keys_openid_and_authorization_code() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()
        header = fa.security.APIKeyHeader(name="X-API-Key", description="A key in a header")
        query = fa.security.APIKeyQuery(name="api_key", auto_error=False)
        cookie = fa.security.APIKeyCookie(name="session", scheme_name="cookieAuth")
        oidc = fa.security.OpenIdConnect(openIdConnectUrl="https://example.com/.well-known/openid-configuration")
        code = fa.security.OAuth2AuthorizationCodeBearer(
            authorizationUrl="https://example.com/authorize",
            tokenUrl="https://example.com/token",
            refreshUrl="https://example.com/refresh",
            scopes={"read": "Read"},
        )

        @app.get("/header")
        def by_header(key: Annotated[str, fa.Depends(header)]) -> Any:
            return {}

        @app.get("/query")
        def by_query(key: Annotated[str | None, fa.Depends(query)]) -> Any:
            return {}

        @app.get("/cookie")
        def by_cookie(key: Annotated[str, fa.Depends(cookie)]) -> Any:
            return {}

        @app.get("/oidc")
        def by_oidc(authorization: Annotated[str, fa.Depends(oidc)]) -> Any:
            return {}

        @app.get("/code")
        def by_code(token: Annotated[str, fa.Security(code, scopes=["read"])]) -> Any:
            return {}

        @app.get("/all", dependencies=[fa.Depends(header), fa.Depends(cookie)])
        def all_of_them(key: Annotated[str | None, fa.Depends(query)]) -> Any:
            return {}

        return app

    compare(build)


def test_custom_oauth2_flows() -> None:
    def build(fa: SimpleNamespace) -> Any:
        app = fa.FastAPI()
        flows = fa.models.OAuthFlows(
            clientCredentials={"tokenUrl": "token", "scopes": {"x": "X"}},
            implicit={"authorizationUrl": "auth"},
        )
        scheme = fa.security.OAuth2(flows=flows, scheme_name="custom")

        @app.get("/raw")
        def raw(authorization: Annotated[str, fa.Depends(scheme)]) -> Any:
            return {}

        return app

    compare(build)
