from collections.abc import Iterator
from typing import Annotated

from ketch import Depends, Header, HTTPException, Ketch, Router

app = Ketch()
log: list[str] = []


class Pagination:
    """A class is a dependency too: its parameters are read from the request like an endpoint's."""

    def __init__(self, skip: int = 0, limit: int = 10) -> None:
        self.skip = skip
        self.limit = limit


def get_db() -> Iterator[dict[str, list[str]]]:
    db = {"items": ["plumbus", "portal gun", "meeseeks box"]}
    log.append("db opened")
    try:
        yield db  # the endpoint gets this; the rest runs after the response is sent
    finally:
        log.append("db closed")


async def user_name(x_token: Annotated[str, Header()]) -> str:
    if x_token not in ("alice-token", "root-token"):
        raise HTTPException(status_code=401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"})
    return x_token.removesuffix("-token")


async def require_admin(user: Annotated[str, Depends(user_name)]) -> None:
    if user != "root":
        raise HTTPException(status_code=403, detail="Admins only")


DB = Annotated[dict[str, list[str]], Depends(get_db)]
User = Annotated[str, Depends(user_name)]


@app.get("/items/")
def list_items(page: Annotated[Pagination, Depends()], db: DB, user: User) -> dict[str, object]:
    return {"user": user, "items": db["items"][page.skip : page.skip + page.limit]}


admin = Router(prefix="/admin", dependencies=[Depends(require_admin)])  # every route here needs an admin


@admin.get("/stats")
def stats(db: DB) -> dict[str, int]:
    return {"items": len(db["items"])}


app.include_router(admin)
