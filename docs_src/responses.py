import asyncio
from collections.abc import AsyncIterator

from ketch import (
    HTMLResponse,
    JSONResponse,
    Ketch,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

app = Ketch()


@app.get("/json")
async def json() -> dict[str, object]:
    return {"ok": True, "items": [1, 2, 3]}  # a plain value becomes JSON


@app.get("/created")
async def created() -> JSONResponse:
    return JSONResponse({"id": 1}, status_code=201, headers={"Location": "/items/1"})


@app.get("/page")
async def page() -> HTMLResponse:
    return HTMLResponse("<h1>Hello</h1>")


@app.get("/text")
async def text() -> PlainTextResponse:
    response = PlainTextResponse("signed in")
    response.set_cookie("session", "abc123", max_age=3600)  # HttpOnly, SameSite=Lax, Path=/ by default
    return response


@app.get("/old")
async def old() -> RedirectResponse:
    return RedirectResponse("/page", status_code=308)


@app.get("/csv")
async def csv() -> Response:
    return Response("a,b\n1,2\n", media_type="text/csv")


@app.get("/count")
async def count() -> StreamingResponse:
    async def numbers() -> AsyncIterator[str]:
        for i in range(3):
            yield f"{i}\n"
            await asyncio.sleep(0)

    return StreamingResponse(numbers(), media_type="text/plain")
