"""API keys sent in a query parameter, a header or a cookie.

```python
api_key = APIKeyHeader(name="X-API-Key")

@app.get("/items")
async def items(key: Annotated[str, Depends(api_key)]): ...
```

A missing (or empty) key is a 401 with ``WWW-Authenticate: APIKey``, or ``None`` with ``auto_error=False``.
Checking that the key is *valid* is up to the app.
"""

from __future__ import annotations

from ketch.exceptions import HTTPException
from ketch.openapi.models import APIKey, APIKeyIn
from ketch.requests import HTTPConnection
from ketch.security.base import SecurityBase

__all__ = ["APIKeyBase", "APIKeyCookie", "APIKeyHeader", "APIKeyQuery"]


class APIKeyBase(SecurityBase):
    """What the three API key schemes share: where the key is, its name, and what a missing key does."""

    model: APIKey

    def __init__(
        self, location: APIKeyIn, name: str, description: str | None, scheme_name: str | None, auto_error: bool
    ) -> None:
        self.auto_error = auto_error
        self.model = APIKey(**{"in": location}, name=name, description=description)  # type: ignore[arg-type]
        self.scheme_name = scheme_name or self.__class__.__name__

    def make_not_authenticated_error(self) -> HTTPException:
        """The 401 for a missing key (override to change the status, detail or headers)."""
        return HTTPException(401, detail="Not authenticated", headers={"WWW-Authenticate": "APIKey"})

    def check_api_key(self, api_key: str | None) -> str | None:
        if not api_key:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return api_key


class APIKeyQuery(APIKeyBase):
    """An API key in the query string: ``?api_key=...``.

    Args:
        name: the query parameter's name.
        scheme_name: the scheme's name in the document (default: the class name).
        description: shown in the docs.
        auto_error: raise the 401 when the key is missing; else the dependency gives ``None``.
    """

    def __init__(
        self, *, name: str, scheme_name: str | None = None, description: str | None = None, auto_error: bool = True
    ) -> None:
        super().__init__(APIKeyIn.query, name, description, scheme_name, auto_error)

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self.check_api_key(request.query_params.get(self.model.name))


class APIKeyHeader(APIKeyBase):
    """An API key in a header: ``X-API-Key: ...`` (same arguments as :class:`APIKeyQuery`)."""

    def __init__(
        self, *, name: str, scheme_name: str | None = None, description: str | None = None, auto_error: bool = True
    ) -> None:
        super().__init__(APIKeyIn.header, name, description, scheme_name, auto_error)

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self.check_api_key(request.headers.get(self.model.name))


class APIKeyCookie(APIKeyBase):
    """An API key in a cookie (same arguments as :class:`APIKeyQuery`)."""

    def __init__(
        self, *, name: str, scheme_name: str | None = None, description: str | None = None, auto_error: bool = True
    ) -> None:
        super().__init__(APIKeyIn.cookie, name, description, scheme_name, auto_error)

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self.check_api_key(request.cookies.get(self.model.name))
