"""Security schemes: dependencies that read credentials and describe themselves in the OpenAPI document.

Each scheme is a callable instance: use it with ``Depends(scheme)`` (or ``Security(scheme, scopes=[...])``) in a
route or in another dependency, on HTTP and WebSocket routes alike. A missing credential is a 401 with the scheme's
``WWW-Authenticate`` header, as in FastAPI, unless ``auto_error=False``; checking the credential is up to the app.
"""

from __future__ import annotations

from ketch.security.api_key import APIKeyCookie, APIKeyHeader, APIKeyQuery
from ketch.security.base import SecurityBase
from ketch.security.http import (
    HTTPAuthorizationCredentials,
    HTTPBase,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
)
from ketch.security.oauth2 import (
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
    SecurityScopes,
)
from ketch.security.open_id_connect_url import OpenIdConnect

__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "OpenIdConnect",
    "SecurityBase",
    "SecurityScopes",
]
