"""OpenID Connect discovery: the document points clients at the provider's configuration URL."""

from __future__ import annotations

from ketch.exceptions import HTTPException
from ketch.openapi.models import OpenIdConnect as OpenIdConnectModel
from ketch.requests import HTTPConnection
from ketch.security.base import SecurityBase

__all__ = ["OpenIdConnect"]


class OpenIdConnect(SecurityBase):
    """OpenID Connect; as a dependency it gives the raw ``Authorization`` header (checking it is up to the app).

    Args:
        openIdConnectUrl: the provider's ``/.well-known/openid-configuration`` URL.
        scheme_name: the scheme's name in the document (default: the class name).
        description: shown in the docs.
        auto_error: raise a 401 (``WWW-Authenticate: Bearer``) when the header is missing; else give ``None``.
    """

    model: OpenIdConnectModel

    def __init__(
        self,
        *,
        openIdConnectUrl: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = OpenIdConnectModel(openIdConnectUrl=openIdConnectUrl, description=description)
        self.scheme_name = scheme_name or self.__class__.__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        """The 401 for a missing header (override to change it)."""
        return HTTPException(401, detail="Not authenticated", headers={"WWW-Authenticate": "Bearer"})

    async def __call__(self, request: HTTPConnection) -> str | None:
        authorization = request.headers.get("Authorization")
        if not authorization:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return authorization
