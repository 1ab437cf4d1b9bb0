from ketch import Ketch, Limits, Request, Router

MiB = 1024 * 1024

# App-wide: 2 MiB bodies, at most 100 query parameters.
app = Ketch(limits=Limits(max_body_size=2 * MiB, max_query_params=100))


@app.post("/echo")
async def echo(request: Request) -> dict[str, int]:
    return {"received": len(await request.body())}


# One route may allow more (or less) than the app.
@app.post("/upload", max_body_size=50 * MiB)
async def upload(request: Request) -> dict[str, int]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return {"received": size}


# Or a whole router.
small = Router(prefix="/small", max_body_size=1024)


@small.post("/note")
async def note(request: Request) -> dict[str, int]:
    return {"received": len(await request.body())}


app.include_router(small)

# Uploads from slow links: wait up to 5 minutes for each next chunk instead of the default 60 s.
uploads = Router(prefix="/uploads", limits={"body_timeout": 300, "max_body_size": 100 * MiB})


@uploads.put("/video")
async def put_video(request: Request) -> dict[str, int]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return {"received": size}


app.include_router(uploads)
