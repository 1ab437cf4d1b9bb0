from uuid import UUID

from ketch import Ketch, PlainTextResponse, Request, Router

app = Ketch()


@app.get("/users/{user_id:int}")
async def user(user_id: int) -> dict[str, int]:
    return {"user_id": user_id}


@app.get("/files/{file_path:path}")
async def file(file_path: str) -> dict[str, str]:
    return {"path": file_path}


@app.get("/orders/{order_id:uuid}", name="order")
async def order(request: Request, order_id: UUID) -> dict[str, str]:
    return {"self": str(request.url_for("order", order_id=order_id))}


@app.api_route("/ping", methods=["GET", "POST"])
async def ping(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"pong ({request.method})")


admin = Router(prefix="/admin", tags=["admin"])


@admin.get("/stats")
async def stats() -> dict[str, int]:
    return {"users": 1}


app.include_router(admin)
