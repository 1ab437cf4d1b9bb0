"""GZipMiddleware: Starlette's behaviour, q-values, and streams that keep streaming."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ketch import Ketch, PlainTextResponse, Request, Response, Router, StreamingResponse
from ketch.middleware.gzip import GZipMiddleware, accepts_gzip
from ketch.types import Message, Receive, Scope, Send

BODY = "x" * 4000


async def chunks(chunk: bytes = b"x" * 400, count: int = 10) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield chunk


def make_app(response: Any, **options: Any) -> Ketch:
    """An app whose ``/`` returns ``response()`` (a factory, so each request gets a fresh response)."""
    app = Ketch()

    @app.get("/")
    def homepage(request: Request) -> Response:
        return response()  # type: ignore[no-any-return]

    @app.get("/health")
    def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    app.add_middleware(GZipMiddleware, **options)
    return app


def request(app: Any, path: str = "/", accept: str | None = "gzip", method: str = "GET") -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            headers = {"Accept-Encoding": accept} if accept is not None else {}
            return await client.request(method, path, headers=headers)

    return asyncio.run(go())


def raw_call(app: Any, accept: str = "gzip") -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"accept-encoding", accept.encode())],
    }
    asyncio.run(app(scope, receive, send))
    return sent


# -- Starlette's behaviour ---------------------------------------------------------------------------------------


def test_gzip_responses() -> None:
    app = make_app(lambda: PlainTextResponse(BODY))
    response = request(app)
    assert response.status_code == 200
    assert response.text == BODY
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) == response.num_bytes_downloaded < 100


def test_not_in_accept_encoding_still_varies() -> None:
    app = make_app(lambda: PlainTextResponse(BODY))
    response = request(app, accept="identity")
    assert response.text == BODY
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["content-length"] == "4000"


def test_small_responses_are_left_alone() -> None:
    app = make_app(lambda: PlainTextResponse("OK"))
    response = request(app)
    assert response.text == "OK"
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers
    assert response.headers["content-length"] == "2"


def test_minimum_size_and_compresslevel_are_options() -> None:
    app = make_app(lambda: PlainTextResponse("OK"), minimum_size=1, compresslevel=1)
    response = request(app)
    assert response.text == "OK"
    assert response.headers["content-encoding"] == "gzip"


def test_streaming_response() -> None:
    app = make_app(lambda: StreamingResponse(chunks(), headers={"Content-Length": "4000"}))
    response = request(app)
    assert response.text == BODY
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert "content-length" not in response.headers


def test_streaming_response_identity() -> None:
    app = make_app(lambda: StreamingResponse(chunks()))
    response = request(app, accept="identity")
    assert response.text == BODY
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"
    assert "content-length" not in response.headers


@pytest.mark.parametrize("encoding", ["text", "br", "identity"])
def test_already_encoded_responses_are_left_alone(encoding: str) -> None:
    app = make_app(lambda: StreamingResponse(chunks(), headers={"Content-Encoding": encoding}))
    sent = raw_call(app)
    headers = dict(sent[0]["headers"])
    assert headers[b"content-encoding"] == encoding.encode()
    assert b"vary" not in headers
    assert b"".join(m.get("body", b"") for m in sent[1:]) == BODY.encode()


@pytest.mark.parametrize(
    "media_type",
    [
        "text/event-stream",
        "TEXT/EVENT-STREAM; charset=utf-8",
        "image/png",
        "audio/mpeg",
        "video/mp4",
        "application/zip",
        "application/grpc+proto",
    ],
)
def test_excluded_content_types_are_left_alone(media_type: str) -> None:
    app = make_app(lambda: StreamingResponse(chunks(), media_type=media_type))
    response = request(app)
    assert response.text == BODY
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers


def test_exclude_content_types_is_an_option() -> None:
    app = make_app(lambda: PlainTextResponse(BODY), exclude_content_types=("text/*",))
    assert "content-encoding" not in request(app).headers
    app = make_app(lambda: StreamingResponse(chunks(), media_type="text/event-stream"), exclude_content_types=())
    assert request(app).headers["content-encoding"] == "gzip"


@pytest.mark.parametrize(
    "response",
    [
        lambda: Response(BODY, status_code=206, headers={"Content-Range": "bytes 0-3999/8000"}),
        lambda: Response(BODY, status_code=200, headers={"Content-Range": "bytes 0-3999/8000"}),
    ],
    ids=["206", "content-range"],
)
def test_partial_responses_are_left_alone(response: Any) -> None:
    result = request(make_app(response))
    assert result.text == BODY
    assert "content-encoding" not in result.headers
    assert result.headers["content-length"] == "4000"


# -- ketch's stricter rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("gzip;q=0.001", True),
        ("gzip ; Q=1", True),
        ("*", True),
        ("deflate, *", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("deflate, gzip;q=0", False),
        ("*, gzip;q=0", False),
        ("*;q=0", False),
        ("gzip;q=abc", False),
        ("gzip;q=2", False),
        ("gzip;q=nan", False),
        ("identity", False),
        ("", False),
        ("br", False),
        ("gzipx", False),
        ("not-gzip", False),
        ("deflate;gzip", False),
    ],
)
def test_accept_encoding_is_parsed_with_q_values(accept: str, expected: bool) -> None:
    assert accepts_gzip(accept) is expected


@pytest.mark.parametrize("accept", ["gzip;q=0", "*;q=0", "gzipx", "br, deflate"])
def test_refused_gzip_is_not_sent(accept: str) -> None:
    response = request(make_app(lambda: PlainTextResponse(BODY)), accept=accept)
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.content == BODY.encode()


def test_no_accept_encoding_header() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    app = make_app(lambda: PlainTextResponse(BODY))
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": [(b"host", b"x")]}
    asyncio.run(app(scope, receive, send))
    assert b"content-encoding" not in dict(sent[0]["headers"])
    assert sent[1]["body"] == BODY.encode()


def test_several_accept_encoding_headers_are_joined() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    app = make_app(lambda: PlainTextResponse(BODY))
    headers = [(b"accept-encoding", b"br"), (b"accept-encoding", b"gzip")]
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": headers}
    asyncio.run(app(scope, receive, send))
    assert dict(sent[0]["headers"])[b"content-encoding"] == b"gzip"
    assert gzip.decompress(sent[1]["body"]) == BODY.encode()


@pytest.mark.timeout(10)
def test_a_stream_keeps_streaming() -> None:
    """Each chunk reaches the client, decodable, before the app produces the next one."""
    parts = [f"event {i}\n".encode() * 3 for i in range(5)]
    delivered: list[bytes] = []

    async def main() -> None:
        release = asyncio.Event()

        async def produce() -> AsyncIterator[bytes]:
            for part in parts:
                release.clear()
                yield part
                await release.wait()  # deadlocks if the middleware holds the chunk back

        async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
            await StreamingResponse(produce(), media_type="application/x-ndjson")(scope, receive, send)

        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message["headers"])
                assert headers[b"content-encoding"] == b"gzip"
                assert b"content-length" not in headers
                return
            data = decoder.decompress(message.get("body", b""))
            if data:
                delivered.append(data)
                release.set()

        async def receive() -> Message:
            await asyncio.sleep(3600)
            raise AssertionError("unreachable")

        app = GZipMiddleware(endpoint, minimum_size=1)
        scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"accept-encoding", b"gzip")]}
        await asyncio.wait_for(app(scope, receive, send), timeout=5)
        assert decoder.eof

    asyncio.run(main())
    assert delivered == parts


def test_gzip_on_a_streaming_response_through_a_ketch_app() -> None:
    app = make_app(lambda: StreamingResponse(chunks(b"abc" * 300, 20), media_type="text/plain"))
    sent = raw_call(app)
    bodies = [m["body"] for m in sent[1:]]
    assert len(bodies) == 21  # one message per chunk, plus the final one
    assert all(bodies[:-1])  # every chunk carries data: nothing is held back
    assert gzip.decompress(b"".join(bodies)) == b"abc" * 300 * 20


def test_large_chunks_are_compressed_on_the_thread_pool() -> None:
    app = make_app(lambda: StreamingResponse(chunks(b"y" * 4096, 3)), thread_minimum_size=1024)
    response = request(app)
    assert response.content == b"y" * 4096 * 3
    app = make_app(lambda: PlainTextResponse(BODY), thread_minimum_size=1024)
    response = request(app)
    assert response.text == BODY
    assert int(response.headers["content-length"]) == response.num_bytes_downloaded


def test_strong_etag_becomes_weak() -> None:
    app = make_app(lambda: PlainTextResponse(BODY, headers={"ETag": '"abc"'}))
    assert request(app).headers["etag"] == 'W/"abc"'
    assert request(app, accept="identity").headers["etag"] == '"abc"'
    app = make_app(lambda: PlainTextResponse(BODY, headers={"ETag": 'W/"abc"'}))
    assert request(app).headers["etag"] == 'W/"abc"'


@pytest.mark.parametrize(
    ("app_vary", "expected"),
    [("Origin", "Origin, Accept-Encoding"), ("accept-encoding", "accept-encoding"), ("*", "*")],
)
def test_vary_is_merged(app_vary: str, expected: str) -> None:
    app = make_app(lambda: PlainTextResponse(BODY, headers={"Vary": app_vary}))
    assert request(app).headers["vary"] == expected


def test_a_shared_response_is_not_modified() -> None:
    shared = PlainTextResponse(BODY)
    before = list(shared.raw_headers)
    app = make_app(lambda: shared)
    assert request(app).headers["content-encoding"] == "gzip"
    assert shared.raw_headers == before
    response = request(app, accept="identity")
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == "4000"


def test_head_request() -> None:
    app = make_app(lambda: PlainTextResponse(BODY))
    response = request(app, method="HEAD")
    assert response.status_code == 200
    assert response.content == b""


def test_pathsend_is_passed_on_with_the_headers_as_they_are() -> None:
    sent: list[Message] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"9999")]})
        await send({"type": "http.response.pathsend", "path": "/tmp/file"})

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"accept-encoding", b"gzip")]}
    asyncio.run(GZipMiddleware(inner)(scope, None, send))  # type: ignore[arg-type]
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
    assert sent[0]["headers"] == [(b"content-length", b"9999")]


def test_router_scoped_gzip() -> None:
    app = Ketch()
    api = Router(prefix="/api")

    @api.get("/big")
    def big(request: Request) -> Response:
        return PlainTextResponse(BODY)

    @app.get("/big")
    def page(request: Request) -> Response:
        return PlainTextResponse(BODY)

    api.add_middleware(GZipMiddleware)
    app.include_router(api)
    assert request(app, "/api/big").headers["content-encoding"] == "gzip"
    response = request(app, "/big")
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers


@pytest.mark.parametrize("kind", ["websocket", "lifespan"])
def test_other_scopes_pass_through(kind: str) -> None:
    seen: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    scope = {"type": kind, "path": "/", "headers": [(b"accept-encoding", b"gzip")]}
    asyncio.run(GZipMiddleware(inner)(scope, None, None))  # type: ignore[arg-type]
    assert seen == [kind]
