from ketch import Ketch, Request

app = Ketch()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"message": "Hello, world!"}


@app.get("/items/{item_id:int}")
async def read_item(request: Request, item_id: int) -> dict[str, object]:
    return {"id": item_id, "q": request.query_params.get("q")}
