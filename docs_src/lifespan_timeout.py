import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ketch import Ketch, Request


async def connect(url: str) -> dict[str, Any]:
    await asyncio.sleep(0.01)  # stands in for opening a database pool, which can wait forever on a dead host
    return {"url": url, "connected": True}


@asynccontextmanager
async def lifespan(app: Ketch) -> AsyncIterator[dict[str, Any]]:
    pool = await connect("postgresql://db.internal/app")
    yield {"pool": pool}


# Start-up gets 5 seconds; past that it is cancelled and the server stops instead of serving.
app = Ketch(lifespan=lifespan, startup_timeout=5)


@app.get("/health")
async def health(request: Request) -> dict[str, Any]:
    return {"database": request.state.pool["connected"]}
