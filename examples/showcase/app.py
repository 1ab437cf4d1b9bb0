"""The ketch showcase: JSON routes over SQLite, an HTML page, a static file and a WebSocket echo.

Run it with ``scripts/showcase`` (or ``ketch run examples.showcase.app:app``) and open http://127.0.0.1:8000.
The API's interactive docs are at /docs (Swagger UI), /redoc and /scalar: they work without a network.
It grows with every feature ketch gains.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field

from examples.showcase import db
from ketch import HTMLResponse, HTTPException, JSONResponse, Ketch, Request, Response, Router, WebSocket
from ketch.params import Depends, Query
from ketch.params import Path as PathParam
from ketch.security import APIKeyHeader
from ketch.staticfiles import StaticFiles

HERE = Path(__file__).parent


@asynccontextmanager
async def lifespan(app: Ketch) -> AsyncIterator[dict[str, Any]]:
    db.init_db()
    yield {"database": db.database_path()}


app = Ketch(
    lifespan=lifespan,
    title="ketch showcase",
    version="1.0.0",
    summary="Notes over SQLite, served by ketch.",
    description="A small notes API. Try it here: every docs page works offline.",
    openapi_tags=[{"name": "notes", "description": "Create, read, search and delete notes; see how the app is doing."}],
)
app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

api = Router(prefix="/api", tags=["notes"])
admin_key = APIKeyHeader(name="X-Admin-Key", description="The showcase's admin key (`KETCH_SHOWCASE_ADMIN_KEY`)")

# SQLite integers are 64-bit: larger ids are refused (422) before they reach the database.
NoteId = Annotated[int, PathParam(ge=1, le=2**63 - 1, description="The note's id")]


BLANKS = " \t\r\n"


class NoteIn(BaseModel):
    """A new note."""

    # At least one character that is not a space, tab or line break: those are trimmed.
    text: str = Field(min_length=1, max_length=10_000, pattern=r"[^ \t\r\n]", examples=["buy milk"])


class Note(BaseModel):
    """A stored note."""

    id: int
    text: str
    created: str


class Message(BaseModel):
    """An error."""

    detail: str


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Message, "description": "No note has this id"}}


@app.get("/", include_in_schema=False)
async def index() -> HTMLResponse:
    return HTMLResponse((HERE / "index.html").read_text(encoding="utf-8"))


@api.get("/health")
async def health(request: Request) -> dict[str, Any]:
    """Whether the app is up, and which database it uses."""
    return {"status": "ok", "database": Path(request.state.database).name}


@api.get("/notes", response_model=list[Note])
def list_notes(
    q: Annotated[str | None, Query(max_length=100, description="Only notes containing this text")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Every note, oldest first."""
    notes = db.list_notes()
    if q is not None:
        notes = [note for note in notes if q in note["text"]]
    return notes[:limit]


# The body is read by hand (to answer malformed JSON with a 400): its shape is documented with openapi_extra.
@api.post(
    "/notes",
    status_code=201,
    response_model=Note,
    responses={
        400: {"model": Message, "description": "The body is not JSON"},
        422: {"model": Message, "description": "The note is not valid"},
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": NoteIn.model_json_schema()}}}
    },
)
async def create_note(request: Request) -> JSONResponse:
    """Store a note (leading and trailing spaces are dropped)."""
    data = await request.json()
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str) or not text.strip(BLANKS):
        raise HTTPException(422, "Send a JSON object with a non-empty 'text' string")
    if len(text) > 10_000:
        raise HTTPException(422, "A note is at most 10000 characters")
    note = db.add_note(text.strip(BLANKS))
    return JSONResponse(note, status_code=201)


@api.get("/notes/{note_id:int}", response_model=Note, responses=NOT_FOUND)
def get_note(note_id: NoteId) -> dict[str, Any]:
    """One note."""
    note = db.get_note(note_id)
    if note is None:
        raise HTTPException(404, "Note not found")
    return note


@api.delete("/notes/{note_id:int}", status_code=204, responses=NOT_FOUND)
def delete_note(note_id: NoteId) -> Response:
    """Delete a note."""
    if not db.delete_note(note_id):
        raise HTTPException(404, "Note not found")
    return Response(status_code=204)


@api.get("/stats", responses={403: {"model": Message, "description": "Wrong admin key"}})
def stats(key: Annotated[str, Depends(admin_key)]) -> dict[str, int]:
    """How many notes there are (needs the admin key)."""
    if key != os.environ.get("KETCH_SHOWCASE_ADMIN_KEY", "showcase"):
        raise HTTPException(403, "Wrong admin key")
    return {"notes": len(db.list_notes())}


app.include_router(api)


@app.websocket("/ws/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(f"echo: {text}")
