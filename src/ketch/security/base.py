"""The base of every security scheme: a dependency that also describes itself in the OpenAPI document."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ketch.openapi.models import SecurityBase as SecurityBaseModel

__all__ = ["SecurityBase"]


class SecurityBase:
    """A security scheme: call it (as a dependency) to read credentials from a request or WebSocket.

    Attributes:
        model: the scheme as the OpenAPI document shows it (``components.securitySchemes``).
        scheme_name: its name there; the class name unless given.
    """

    model: SecurityBaseModel
    scheme_name: str
