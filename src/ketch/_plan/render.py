"""Turning an endpoint's return value into a Response, with the renderer chosen at start-up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ketch.responses import JSONResponse, Response

__all__ = ["json_renderer"]


def json_renderer(status_code: int | None, response_class: type[Response] | None) -> Callable[[Any], Response]:
    """The default renderer: a Response passes through; anything else is encoded by ``response_class`` (JSON)."""
    cls = response_class or JSONResponse
    status = status_code or 200

    def render(result: Any) -> Response:
        if isinstance(result, Response):
            return result
        return cls(result, status_code=status)

    return render
