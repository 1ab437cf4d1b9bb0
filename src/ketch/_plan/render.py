"""Turning an endpoint's return value into a Response, with the renderer chosen at start-up."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Generator, Iterable, Iterator
from typing import Any, get_args, get_origin

from pydantic import TypeAdapter, ValidationError

from ketch.concurrency import iterate_in_threadpool
from ketch.encoders import encode_json, jsonable_encoder
from ketch.exceptions import ResponseValidationError
from ketch.responses import JSONResponse, Response, StreamingResponse
from ketch.sse import EventSourceResponse, ServerSentEvent, format_sse_event, with_keepalive

__all__ = [
    "EncodedJSONResponse",
    "StreamRenderer",
    "TypedRenderer",
    "body_allowed",
    "json_renderer",
    "stream_item_type",
    "sub_response",
]


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


def sub_response(cls: type[Response] = Response) -> Response:
    """The ``response: Response`` an endpoint may ask for: headers, cookies and status to apply to the real one.

    It starts with no status and no headers, so only what the endpoint sets is carried over. It is made of the
    annotated class, whose ``set_cookie`` defaults apply.
    """
    response = cls.__new__(cls)
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
    Response on the event loop. ``render`` does both, for routes without a ``response`` parameter or background
    tasks.
    """

    __slots__ = ("status_code", "response_class", "adapter", "dump_options", "describe", "status", "sends_body")

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
        # What ``render`` sends with the default class: the route's status, and whether it may carry a body.
        self.status = self.status_code if self.status_code is not None else 200
        self.sends_body = body_allowed(self.status)

    def render(self, result: Any) -> Response:
        """``finish(prepare(result), None, None)``, in one step."""
        if isinstance(result, Response):
            return result
        if self.response_class is not None:
            return self.finish(self._jsonable(result), None, None)
        # PERF: encoding inlined (this runs for every JSON response); the bytes go straight into the response,
        # whose headers are the class's own.
        adapter = self.adapter
        if adapter is None:
            body = encode_json(result)
        else:
            try:
                value = adapter.validator.validate_python(result, from_attributes=True)
            except ValidationError as exc:
                raise self._invalid(exc, result) from None
            body = adapter.serializer.to_json(value, **self.dump_options)
        return EncodedJSONResponse(body if self.sends_body else b"", self.status)

    def prepare(self, result: Any) -> Any:
        """The content to send: a Response as is, else the body bytes (default class) or the JSON-able data."""
        if isinstance(result, Response):
            return result
        if self.response_class is None:
            return self._encode(result)
        return self._jsonable(result)

    def finish(self, content: Any, sub: Response | None, background: Any) -> Response:
        """Build the Response from ``prepare``'s content, the ``response`` parameter and the background tasks."""
        if isinstance(content, Response):
            if content.background is None:
                content.background = background
            return content
        status = self.status_code
        if sub is not None and sub.status_code:
            status = sub.status_code
        if self.response_class is None:
            code = status if status is not None else 200
            response: Response = EncodedJSONResponse(
                content if body_allowed(code) else b"", code, background=background
            )
        else:
            kwargs: dict[str, Any] = {"background": background}
            if status is not None:
                kwargs["status_code"] = status
            response = self.response_class(content, **kwargs)
            if not body_allowed(response.status_code) and response.body:
                response.body = b""
                response.raw_headers = [(k, v) for k, v in response.raw_headers if k != b"content-length"]
        if sub is not None and sub.raw_headers:
            response.raw_headers.extend(sub.raw_headers)
        return response

    def _validate(self, result: Any) -> Any:
        # PERF: the adapter's validator and serializer are called directly, not through TypeAdapter's wrappers.
        try:
            return self.adapter.validator.validate_python(result, from_attributes=True)
        except ValidationError as exc:
            raise self._invalid(exc, result) from None

    def _invalid(self, exc: ValidationError, result: Any) -> ResponseValidationError:
        errors = [{**e, "loc": ("response", *e["loc"])} for e in exc.errors(include_url=False)]
        return ResponseValidationError(errors, body=result, endpoint_ctx=self.describe())

    def _encode(self, result: Any) -> bytes:
        if self.adapter is None:
            return encode_json(result)
        return self.adapter.serializer.to_json(self._validate(result), **self.dump_options)  # type: ignore[no-any-return]

    def _jsonable(self, result: Any) -> Any:
        if self.adapter is None:
            return jsonable_encoder(result)
        return self.adapter.serializer.to_python(self._validate(result), mode="json", **self.dump_options)


class EncodedJSONResponse(JSONResponse):
    """A JSON response whose body is already encoded (by pydantic-core or ``encode_json``): sent as it is."""

    def render(self, content: Any) -> bytes:
        return content  # type: ignore[no-any-return]


_STREAM_ORIGINS = frozenset({AsyncIterable, AsyncIterator, AsyncGenerator, Iterable, Iterator, Generator})


def stream_item_type(annotation: Any) -> Any:
    """The item type of ``AsyncIterator[Item]`` (and the other iterable annotations), else None."""
    if get_origin(annotation) in _STREAM_ORIGINS:
        args = get_args(annotation)
        return args[0] if args else Any
    return None


def _finite(data: Any) -> Any:
    # FastAPI's stream encoder writes NaN and the infinities as null rather than failing mid-stream.
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_finite(value) for value in data]
    return data


class StreamRenderer:
    """The response of an endpoint that ``yield``\\ s: JSON Lines by default, Server-Sent Events with
    ``response_class=EventSourceResponse``, or the given ``response_class`` fed the raw items.

    Items are validated against the stream's item type when the return annotation names one
    (``AsyncIterator[Item]``), then serialised one by one as they are produced.
    """

    __slots__ = ("mode", "response_class", "status_code", "adapter", "dump_options", "describe")

    def __init__(
        self,
        response_class: type[Response] | None,
        status_code: int | None,
        return_annotation: Any,
        dump_options: dict[str, Any],
        describe: Callable[[], dict[str, Any]],
    ) -> None:
        if response_class is not None and issubclass(response_class, EventSourceResponse):
            self.mode = "sse"
        elif response_class is None:
            self.mode = "jsonl"
        else:
            self.mode = "raw"
        self.response_class = response_class
        self.status_code = int(status_code) if status_code is not None else None
        item = stream_item_type(return_annotation)
        use_item = self.mode != "raw" and item is not None
        if use_item and isinstance(item, type) and issubclass(item, ServerSentEvent):
            use_item = False
        self.adapter: Any = TypeAdapter(item) if use_item else None
        self.dump_options = dump_options
        self.describe = describe

    def response(self, generator: Any, sub: Response | None, background: Any) -> Response:
        """Wrap the endpoint's generator (not started yet) in a streaming response."""
        status = self.status_code
        if sub is not None and sub.status_code:
            status = sub.status_code
        kwargs: dict[str, Any] = {"background": background}
        if status is not None:
            kwargs["status_code"] = status
        is_async = hasattr(generator, "__aiter__")
        if self.mode == "raw":
            assert self.response_class is not None
            content = _yielding(generator) if is_async else generator
            response = self.response_class(content=content, **kwargs)
        elif self.mode == "jsonl":
            if is_async:
                body: Any = self._async_lines(generator)
            else:
                body = (self._item(item) + b"\n" for item in generator)
            response = StreamingResponse(body, media_type="application/jsonl", **kwargs)
        else:
            items = generator if is_async else iterate_in_threadpool(generator)
            response = StreamingResponse(with_keepalive(self._events(items)), media_type="text/event-stream", **kwargs)
            response.raw_headers += [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]
        if sub is not None and sub.raw_headers:
            response.raw_headers.extend(sub.raw_headers)
        return response

    async def _async_lines(self, generator: Any) -> AsyncIterator[bytes]:
        async for item in generator:
            yield self._item(item) + b"\n"
            await asyncio.sleep(0)  # a checkpoint, so a disconnect can cancel a generator that never waits

    async def _events(self, items: Any) -> AsyncIterator[bytes]:
        async for item in items:
            if isinstance(item, ServerSentEvent):
                if item.raw_data is not None:
                    data: str | None = item.raw_data
                elif item.data is not None:
                    if hasattr(item.data, "model_dump_json"):
                        data = item.data.model_dump_json()
                    else:
                        data = json.dumps(_finite(jsonable_encoder(item.data)))
                else:
                    data = None
                yield format_sse_event(
                    data_str=data, event=item.event, id=item.id, retry=item.retry, comment=item.comment
                )
            else:
                yield format_sse_event(data_str=self._item(item).decode("utf-8"))
            await asyncio.sleep(0)

    def _item(self, item: Any) -> bytes:
        if self.adapter is None:
            return json.dumps(_finite(jsonable_encoder(item))).encode("utf-8")
        # PERF: per item: the adapter's validator and serializer are called directly, not through its wrappers.
        try:
            value = self.adapter.validator.validate_python(item, from_attributes=True)
        except ValidationError as exc:
            errors = [{**e, "loc": ("response", *e["loc"])} for e in exc.errors(include_url=False)]
            raise ResponseValidationError(errors, body=item, endpoint_ctx=self.describe()) from None
        return self.adapter.serializer.to_json(value, **self.dump_options)  # type: ignore[no-any-return]


async def _yielding(generator: Any) -> AsyncIterator[Any]:
    async for chunk in generator:
        yield chunk
        await asyncio.sleep(0)
