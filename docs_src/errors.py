from ketch import HTTPException, JSONResponse, Ketch, PlainTextResponse, Request, Router

app = Ketch()


class OutOfStock(Exception):
    def __init__(self, item: str) -> None:
        self.item = item


@app.exception_handler(OutOfStock)
async def out_of_stock(request: Request, exc: OutOfStock) -> JSONResponse:
    return JSONResponse({"detail": f"{exc.item} is out of stock"}, status_code=409)


@app.exception_handler(404)
async def not_found(request: Request, exc: HTTPException) -> JSONResponse:
    return JSONResponse({"detail": "Nothing here", "path": request.url.path}, status_code=404)


@app.get("/buy/{item}")
async def buy(item: str) -> dict[str, str]:
    if item == "teapot":
        raise OutOfStock(item)
    if item == "secret":
        raise HTTPException(403, "Not for you", headers={"X-Reason": "secret"})
    return {"bought": item}


# Handlers registered on a router apply only to that router's routes, and are tried before the app's.
legacy = Router(prefix="/legacy")


@legacy.exception_handler(OutOfStock)
async def legacy_out_of_stock(request: Request, exc: OutOfStock) -> PlainTextResponse:
    return PlainTextResponse("SOLD OUT", status_code=410)


@legacy.get("/buy/{item}")
async def legacy_buy(item: str) -> dict[str, str]:
    raise OutOfStock(item)


app.include_router(legacy)
