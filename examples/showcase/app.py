"""The ketch showcase: JSON routes over SQLite, an HTML page, a static file and a WebSocket echo.

Run it with ``scripts/showcase`` (or ``ketch run examples.showcase.app:app``) and open http://127.0.0.1:8000.
It grows with every feature ketch gains.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from examples.showcase import db
from ketch import HTMLResponse, HTTPException, JSONResponse, Ketch, Request, Response, Router, WebSocket
from ketch.staticfiles import StaticFiles

HERE = Path(__file__).parent


@asynccontextmanager
async def lifespan(app: Ketch) -> AsyncIterator[dict[str, Any]]:
    db.init_db()
    yield {"database": db.database_path()}


app = Ketch(lifespan=lifespan)
app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

api = Router(prefix="/api", tags=["notes"])


@app.get("/")
async def index() -> HTMLResponse:
    return HTMLResponse((HERE / "index.html").read_text(encoding="utf-8"))


@api.get("/health")
async def health(request: Request) -> dict[str, Any]:
    return {"status": "ok", "database": Path(request.state.database).name}


@api.get("/notes")
def list_notes() -> list[dict[str, Any]]:
    return db.list_notes()


@api.post("/notes")
async def create_note(request: Request) -> JSONResponse:
    data = await request.json()
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise HTTPException(422, "Send a JSON object with a non-empty 'text' string")
    if len(text) > 10_000:
        raise HTTPException(422, "A note is at most 10000 characters")
    note = db.add_note(text.strip())
    return JSONResponse(note, status_code=201)


@api.get("/notes/{note_id:int}")
def get_note(note_id: int) -> dict[str, Any]:
    note = db.get_note(note_id)
    if note is None:
        raise HTTPException(404, "Note not found")
    return note


@api.delete("/notes/{note_id:int}")
def delete_note(note_id: int) -> Response:
    if not db.delete_note(note_id):
        raise HTTPException(404, "Note not found")
    return Response(status_code=204)


app.include_router(api)


@app.websocket("/ws/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(f"echo: {text}")
