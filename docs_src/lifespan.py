from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ketch import Ketch, Request

events: list[str] = []


@asynccontextmanager
async def lifespan(app: Ketch) -> AsyncIterator[dict[str, Any]]:
    events.append("startup")
    pool = {"connections": 4}  # stands in for a database pool, an HTTP client...
    yield {"pool": pool}
    events.append("shutdown")


app = Ketch(lifespan=lifespan)


@app.get("/pool")
async def pool(request: Request) -> dict[str, Any]:
    return request.state.pool  # type: ignore[no-any-return]
