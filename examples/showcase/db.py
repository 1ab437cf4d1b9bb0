"""The showcase's storage: a small SQLite notes table (the embedded default, no server needed)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(__file__).with_name("showcase.sqlite3")


def database_path() -> str:
    return os.environ.get("KETCH_SHOWCASE_DB", str(DEFAULT_PATH))


@contextmanager
def connect(path: str | None = None) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path or database_path())
    connection.row_factory = sqlite3.Row
    try:
        yield connection
        connection.commit()
    finally:
        connection.close()


def init_db(path: str | None = None) -> None:
    with connect(path) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS notes ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " text TEXT NOT NULL,"
            " created TEXT NOT NULL DEFAULT (datetime('now')))"
        )


def list_notes() -> list[dict[str, Any]]:
    with connect() as db:
        return [dict(row) for row in db.execute("SELECT id, text, created FROM notes ORDER BY id")]


def get_note(note_id: int) -> dict[str, Any] | None:
    with connect() as db:
        row = db.execute("SELECT id, text, created FROM notes WHERE id = ?", (note_id,)).fetchone()
        return dict(row) if row else None


def add_note(text: str) -> dict[str, Any]:
    with connect() as db:
        cursor = db.execute("INSERT INTO notes (text) VALUES (?)", (text,))
        row = db.execute("SELECT id, text, created FROM notes WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return dict(row)


def delete_note(note_id: int) -> bool:
    with connect() as db:
        return db.execute("DELETE FROM notes WHERE id = ?", (note_id,)).rowcount > 0
