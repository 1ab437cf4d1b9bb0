"""OAuth2: the password and authorization-code flows, the password login form, and required scopes.

```python
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")

@app.post("/token")
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]): ...

@app.get("/users/me")
async def me(token: Annotated[str, Depends(oauth2_scheme)]): ...
```

The bearer schemes read ``Authorization: Bearer <token>``; a missing token is a 401 with
``WWW-Authenticate: Bearer`` (or ``None`` with ``auto_error=False``). Checking the token is up to the app.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from ketch.exceptions import HTTPException
from ketch.openapi.models import OAuth2 as OAuth2Model
from ketch.openapi.models import OAuthFlows as OAuthFlowsModel
from ketch.params import Form, SecurityScopes
from ketch.requests import HTTPConnection
from ketch.security.base import SecurityBase
from ketch.security.utils import get_authorization_scheme_param

__all__ = [
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "SecurityScopes",
]


class OAuth2PasswordRequestForm:
    """The login form of the OAuth2 password flow (RFC 6749 4.3), as a dependency: ``Depends()``.

    Attributes:
        username: the user's name.
        password: the user's password.
        scopes: the requested scopes (the ``scope`` field, split on spaces).
        grant_type: ``"password"`` when sent (:class:`OAuth2PasswordRequestFormStrict` requires it).
        client_id: the client's id, when sent in the form.
        client_secret: the client's secret, when sent in the form.
    """

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form(json_schema_extra={"format": "password"})],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """:class:`OAuth2PasswordRequestForm` that requires ``grant_type=password``, as the RFC says."""

    def __init__(
        self,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


class OAuth2(SecurityBase):
    """Any OAuth2 scheme, described by its ``flows``; as a dependency it gives the raw ``Authorization`` header.

    Args:
        flows: the OAuth2 flows (an ``OAuthFlows`` model or the same as a dict).
        scheme_name: the scheme's name in the document (default: the class name).
        description: shown in the docs.
        auto_error: raise the 401 when the header is missing; else the dependency gives ``None``.
    """

    model: OAuth2Model

    def __init__(
        self,
        *,
        flows: OAuthFlowsModel | dict[str, dict[str, Any]] | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        flows = OAuthFlowsModel() if flows is None else flows
        self.model = OAuth2Model(flows=cast(OAuthFlowsModel, flows), description=description)
        self.scheme_name = scheme_name or self.__class__.__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        """The 401 for a missing token (override to change it)."""
        return HTTPException(401, detail="Not authenticated", headers={"WWW-Authenticate": "Bearer"})

    def _missing(self) -> None:
        if self.auto_error:
            raise self.make_not_authenticated_error()

    async def __call__(self, request: HTTPConnection) -> str | None:
        authorization = request.headers.get("Authorization")
        if not authorization:
            self._missing()
            return None
        return authorization

    def _bearer_token(self, request: HTTPConnection) -> str | None:
        authorization = request.headers.get("Authorization")
        scheme, param = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "bearer":
            self._missing()
            return None
        return param


class OAuth2PasswordBearer(OAuth2):
    """The OAuth2 password flow: clients get a token from ``tokenUrl`` and send it as ``Bearer``; gives the token.

    Args:
        tokenUrl: where the login form is posted (relative URLs are relative to the docs page).
        scheme_name: the scheme's name in the document (default: the class name).
        scopes: ``{scope: description}`` of the scopes the app knows.
        description: shown in the docs.
        auto_error: raise the 401 when the token is missing; else the dependency gives ``None``.
        refreshUrl: where tokens are refreshed, if anywhere.
    """

    def __init__(
        self,
        tokenUrl: str,
        scheme_name: str | None = None,
        scopes: dict[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        refreshUrl: str | None = None,
    ) -> None:
        password = {"tokenUrl": tokenUrl, "refreshUrl": refreshUrl, "scopes": scopes or {}}
        flows = OAuthFlowsModel(password=cast(Any, password))
        super().__init__(flows=flows, scheme_name=scheme_name, description=description, auto_error=auto_error)

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self._bearer_token(request)


class OAuth2AuthorizationCodeBearer(OAuth2):
    """The OAuth2 authorization-code flow, sending the token as ``Bearer``; gives the token.

    Args:
        authorizationUrl: where users are sent to log in.
        tokenUrl: where the code is exchanged for a token.
        refreshUrl: where tokens are refreshed, if anywhere.
        scheme_name: the scheme's name in the document (default: the class name).
        scopes: ``{scope: description}`` of the scopes the app knows.
        description: shown in the docs.
        auto_error: raise the 401 when the token is missing; else the dependency gives ``None``.
    """

    def __init__(
        self,
        authorizationUrl: str,
        tokenUrl: str,
        refreshUrl: str | None = None,
        scheme_name: str | None = None,
        scopes: dict[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        code = {"authorizationUrl": authorizationUrl, "tokenUrl": tokenUrl, "refreshUrl": refreshUrl}
        flows = OAuthFlowsModel(authorizationCode=cast(Any, {**code, "scopes": scopes or {}}))
        super().__init__(flows=flows, scheme_name=scheme_name, description=description, auto_error=auto_error)

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self._bearer_token(request)
