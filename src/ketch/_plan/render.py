"""Turning an endpoint's return value into a Response, with the renderer chosen at start-up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ketch.encoders import encode_json, jsonable_encoder
from ketch.exceptions import ResponseValidationError
from ketch.responses import JSONResponse, Response

__all__ = ["TypedRenderer", "body_allowed", "json_renderer", "sub_response"]


def json_renderer(status_code: int | None, response_class: type[Response] | None) -> Callable[[Any], Response]:
    """The default renderer: a Response passes through; anything else is encoded by ``response_class`` (JSON)."""
    cls = response_class or JSONResponse
    status = status_code or 200

    def render(result: Any) -> Response:
        if isinstance(result, Response):
            return result
        return cls(result, status_code=status)

    return render


_NO_BODY = frozenset({204, 205, 304})


def body_allowed(status_code: int) -> bool:
    """Whether a response with this status may carry a body (not 1xx, 204, 205 or 304)."""
    return status_code >= 200 and status_code not in _NO_BODY


def sub_response() -> Response:
    """The ``response: Response`` an endpoint may ask for: headers, cookies and status to apply to the real one.

    It starts with no status and no headers, so only what the endpoint sets is carried over.
    """
    response = Response.__new__(Response)
    response.status_code = None  # type: ignore[assignment]  # "not set"; checked before it is used
    response.raw_headers = []
    response.background = None
    response.body = b""
    return response


class TypedRenderer:
    """Turns a typed endpoint's return value into a Response, as FastAPI does, with the work chosen at start-up.

    A Response passes through (the route's background tasks are attached if it has none). Otherwise, with a
    response model, the value is validated (``ResponseValidationError`` if it does not fit) and serialised by
    pydantic with the route's ``response_model_*`` options; without one it goes through ``jsonable_encoder``.
    The default class sends JSON bytes directly; another ``response_class`` gets the JSON-able content.
    ``prepare`` does the CPU work and may run on the thread pool with a sync endpoint; ``finish`` builds the
    Response on the event loop.
    """

    __slots__ = ("status_code", "response_class", "adapter", "dump_options", "describe")

    def __init__(
        self,
        status_code: int | None,
        response_class: type[Response] | None,
        response_model: Any,
        dump_options: dict[str, Any],
        describe: Callable[[], dict[str, Any]],
    ) -> None:
        self.status_code = int(status_code) if status_code is not None else None
        self.response_class = response_class
        self.adapter: Any = TypeAdapter(response_model) if response_model is not None else None
        self.dump_options = dump_options
        self.describe = describe

    def prepare(self, result: Any) -> Any:
        """The content to send: a Response as is, else the body bytes (default class) or the JSON-able data."""
        if isinstance(result, Response):
            return result
        if self.adapter is not None:
            try:
                value = self.adapter.validate_python(result, from_attributes=True)
            except ValidationError as exc:
                errors = [{**e, "loc": ("response", *e["loc"])} for e in exc.errors(include_url=False)]
                raise ResponseValidationError(errors, body=result, endpoint_ctx=self.describe()) from None
            if self.response_class is None:
                return _Encoded(self.adapter.dump_json(value, **self.dump_options))
            return self.adapter.dump_python(value, mode="json", **self.dump_options)
        if self.response_class is None:
            return _Encoded(encode_json(result))
        return jsonable_encoder(result)

    def finish(self, content: Any, sub: Response | None, background: Any) -> Response:
        """Build the Response from ``prepare``'s content, the ``response`` parameter and the background tasks."""
        if isinstance(content, Response):
            if content.background is None:
                content.background = background
            return content
        status = self.status_code
        if sub is not None and sub.status_code:
            status = sub.status_code
        kwargs: dict[str, Any] = {"background": background}
        if status is not None:
            kwargs["status_code"] = status
        if isinstance(content, _Encoded):
            code = status if status is not None else 200
            body = content.body if body_allowed(code) else b""
            response = Response(body, media_type="application/json", **kwargs)
        else:
            assert self.response_class is not None
            response = self.response_class(content, **kwargs)
            if not body_allowed(response.status_code) and response.body:
                response.body = b""
                response.raw_headers = [(k, v) for k, v in response.raw_headers if k != b"content-length"]
        if sub is not None and sub.raw_headers:
            response.raw_headers.extend(sub.raw_headers)
        return response


class _Encoded:
    """JSON bytes ready to send with the default (JSON) response class."""

    __slots__ = ("body",)

    def __init__(self, body: bytes) -> None:
        self.body = body
