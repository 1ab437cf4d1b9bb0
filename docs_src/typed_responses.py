from collections.abc import AsyncIterator
from typing import Annotated

from pydantic import BaseModel

from ketch import (
    BackgroundTasks,
    EventSourceResponse,
    Form,
    HTMLResponse,
    HTTPException,
    JSONResponse,
    Ketch,
    Request,
    RequestValidationError,
    Response,
    ServerSentEvent,
)

app = Ketch()
outbox: list[str] = []


class User(BaseModel):
    username: str


class UserIn(User):
    password: str


class Item(BaseModel):
    name: str
    price: float


@app.post("/users/", status_code=201)
async def create_user(user: UserIn) -> User:
    return user  # sent as a User: the password never leaves


@app.get("/items/{name}", response_model=Item)
async def read_item(name: str, response: Response) -> dict[str, object]:
    if name == "teapot":
        raise HTTPException(status_code=418, detail="I'm a teapot", headers={"X-Error": "short and stout"})
    response.headers["X-Cache"] = "miss"  # headers, cookies and the status go onto the real response
    response.set_cookie("last_item", name)
    return {"name": name, "price": 9.5, "internal_note": "not in the model, not sent"}


@app.get("/page", response_class=HTMLResponse)
async def page() -> str:
    return "<h1>Hello</h1>"


@app.get("/direct")
async def direct() -> JSONResponse:
    return JSONResponse({"sent": "as is"}, status_code=202)


def send_email(address: str, message: str) -> None:
    outbox.append(f"{address}: {message}")


@app.post("/signup")
async def signup(email: Annotated[str, Form()], tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(send_email, email, "welcome!")  # runs after the response is sent
    return {"status": "signed up"}


@app.get("/prices")
async def prices() -> AsyncIterator[Item]:
    for name, price in (("plumbus", 3.0), ("gun", 99.5)):
        yield Item(name=name, price=price)  # one JSON object per line (application/jsonl)


@app.get("/events", response_class=EventSourceResponse)
async def events() -> AsyncIterator[ServerSentEvent]:
    yield ServerSentEvent(data={"step": 1}, event="progress", id="1")
    yield ServerSentEvent(data="done", event="end")


@app.exception_handler(RequestValidationError)
async def validation_failed(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"errors": [e["msg"] for e in exc.errors()]}, status_code=400)
