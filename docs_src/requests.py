from typing import Any

from ketch import Ketch, Request

app = Ketch()


@app.post("/inspect/{name}")
async def inspect(request: Request, name: str) -> dict[str, Any]:
    body = await request.json()
    return {
        "method": request.method,
        "path": request.url.path,
        "name": name,
        "tags": request.query_params.getlist("tag"),
        "agent": request.headers.get("user-agent"),
        "session": request.cookies.get("session"),
        "client_is_test": request.client is not None and request.client.host == "testclient",
        "body": body,
    }


@app.post("/count")
async def count(request: Request) -> dict[str, int]:
    total = 0
    async for chunk in request.stream():  # read a large body piece by piece
        total += len(chunk)
    return {"bytes": total}
