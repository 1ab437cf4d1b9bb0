import time
from collections.abc import AsyncIterator
from contextvars import ContextVar

from ketch import Ketch, MutableHeaders, Request, Response, Router, StreamingResponse
from ketch.middleware.base import CallNext
from ketch.middleware.cors import CORSMiddleware
from ketch.middleware.gzip import GZipMiddleware
from ketch.middleware.httpsredirect import HTTPSRedirectMiddleware
from ketch.middleware.trustedhost import TrustedHostMiddleware
from ketch.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str] = ContextVar("request_id", default="-")

app = Ketch()
# Middleware added later wraps what was added before: read this file bottom-up for the order a request takes.
app.add_middleware(GZipMiddleware, minimum_size=1000)


# Function middleware: code around call_next, for HTTP requests only.
@app.middleware("http")
async def tag_request(request: Request, call_next: CallNext) -> Response:
    request_id.set(request.headers.get("x-request-id", "generated"))  # endpoints see it too
    start = time.perf_counter()
    response = await call_next(request)  # returns once the headers are ready; the body still streams
    response.headers["X-Request-ID"] = request_id.get()
    response.headers["X-Process-Time"] = f"{time.perf_counter() - start:.4f}"
    return response


app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"], allow_methods=["GET", "POST"])
app.add_middleware(HTTPSRedirectMiddleware)
app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com", "*.example.com"])  # runs first


@app.get("/whoami")
async def whoami() -> dict[str, str]:
    return {"request_id": request_id.get()}


@app.get("/report")
async def report() -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        for i in range(200):
            yield f"line {i}: all systems nominal\n"

    return StreamingResponse(lines(), media_type="text/plain")


# Pure ASGI middleware: a class around any ASGI app; here it wraps only one router's routes.
class NoStore:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message["headers"]))
                headers["Cache-Control"] = "no-store"
                message = {**message, "headers": headers.raw}
            await send(message)

        await self.app(scope, receive, send_no_store)


account = Router(prefix="/account")
account.add_middleware(NoStore)


@account.get("/balance")
async def balance() -> dict[str, int]:
    return {"balance": 42}


app.include_router(account)
