"""HTTP authentication schemes: Basic, Bearer and Digest (RFC 7235), read from the ``Authorization`` header.

A missing or malformed header is a 401 whose ``WWW-Authenticate`` names the scheme (``Basic realm="..."`` when a
realm is set), or ``None`` with ``auto_error=False``. Checking the credentials is up to the app.
"""

from __future__ import annotations

import binascii
from base64 import b64decode

from pydantic import BaseModel

from ketch.exceptions import HTTPException
from ketch.openapi.models import HTTPBase as HTTPBaseModel
from ketch.openapi.models import HTTPBearer as HTTPBearerModel
from ketch.requests import HTTPConnection
from ketch.security.base import SecurityBase
from ketch.security.utils import get_authorization_scheme_param

__all__ = [
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
]


class HTTPBasicCredentials(BaseModel):
    """What :class:`HTTPBasic` gives: the username and password."""

    username: str
    password: str


class HTTPAuthorizationCredentials(BaseModel):
    """What :class:`HTTPBearer` and :class:`HTTPDigest` give: the scheme and the credentials after it."""

    scheme: str
    credentials: str


class HTTPBase(SecurityBase):
    """Any HTTP authentication scheme, by name.

    Args:
        scheme: the scheme's name (``"basic"``, ``"bearer"``, ...).
        scheme_name: the scheme's name in the document (default: the class name).
        description: shown in the docs.
        auto_error: raise the 401 when the header is missing; else the dependency gives ``None``.
    """

    model: HTTPBaseModel

    def __init__(
        self, *, scheme: str, scheme_name: str | None = None, description: str | None = None, auto_error: bool = True
    ) -> None:
        self.model = HTTPBaseModel(scheme=scheme, description=description)
        self.scheme_name = scheme_name or self.__class__.__name__
        self.auto_error = auto_error

    def make_authenticate_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": self.model.scheme.title()}

    def make_not_authenticated_error(self) -> HTTPException:
        """The 401 for missing or malformed credentials (override to change it)."""
        return HTTPException(401, detail="Not authenticated", headers=self.make_authenticate_headers())

    def _missing(self) -> None:
        if self.auto_error:
            raise self.make_not_authenticated_error()

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        authorization = request.headers.get("Authorization")
        scheme, credentials = get_authorization_scheme_param(authorization)
        if not (authorization and scheme and credentials):
            self._missing()
            return None
        return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)


class HTTPBasic(HTTPBase):
    """HTTP Basic: gives :class:`HTTPBasicCredentials`.

    Args:
        realm: sent in ``WWW-Authenticate`` with the 401 (browsers show it in their login prompt).
        scheme_name: the scheme's name in the document (default: the class name).
        description: shown in the docs.
        auto_error: raise the 401 when the header is missing; else the dependency gives ``None``. Credentials
            that are not valid Basic credentials are a 401 either way.
    """

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        realm: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme="basic", scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.realm = realm

    def make_authenticate_headers(self) -> dict[str, str]:
        if self.realm:
            return {"WWW-Authenticate": f'Basic realm="{self.realm}"'}
        return {"WWW-Authenticate": "Basic"}

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        authorization = request.headers.get("Authorization")
        scheme, param = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "basic":
            self._missing()
            return None
        try:
            data = b64decode(param).decode("ascii")
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise self.make_not_authenticated_error() from exc
        username, separator, password = data.partition(":")
        if not separator:
            raise self.make_not_authenticated_error()
        return HTTPBasicCredentials(username=username, password=password)


class _SchemeChecked(HTTPBase):
    """A scheme whose credentials must come under its own name (``Bearer ...``, ``Digest ...``)."""

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        credentials = await super().__call__(request)
        if credentials is None:
            return None
        if credentials.scheme.lower() != self.model.scheme:
            self._missing()
            return None
        return credentials


class HTTPBearer(_SchemeChecked):
    """HTTP Bearer tokens: gives :class:`HTTPAuthorizationCredentials` (``credentials`` is the token).

    Args:
        bearerFormat: a hint of the token's format for the docs (``"JWT"``).
        scheme_name: the scheme's name in the document (default: the class name).
        description: shown in the docs.
        auto_error: raise the 401 when the token is missing; else the dependency gives ``None``.
    """

    def __init__(
        self,
        *,
        bearerFormat: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme="bearer", scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.model = HTTPBearerModel(bearerFormat=bearerFormat, description=description)


class HTTPDigest(_SchemeChecked):
    """HTTP Digest: gives :class:`HTTPAuthorizationCredentials` (checking the digest is up to the app)."""

    def __init__(
        self, *, scheme_name: str | None = None, description: str | None = None, auto_error: bool = True
    ) -> None:
        super().__init__(scheme="digest", scheme_name=scheme_name, description=description, auto_error=auto_error)
