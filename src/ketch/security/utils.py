"""Reading the ``Authorization`` header."""

from __future__ import annotations

__all__ = ["get_authorization_scheme_param"]


def get_authorization_scheme_param(authorization_header_value: str | None) -> tuple[str, str]:
    """Split ``"Bearer abc"`` into ``("Bearer", "abc")``; an empty or missing header gives ``("", "")``."""
    if not authorization_header_value:
        return "", ""
    scheme, _, param = authorization_header_value.partition(" ")
    return scheme, param.strip()
