"""What every app shares: hand validation for frameworks without a validator, the dependency chain's classes,
the template folder and the session secret. Keeping these in one place keeps the semantics identical."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "SECRET",
    "TEMPLATES",
    "Db",
    "Repo",
    "Settings",
    "validate_item_query",
    "validate_user",
]

TEMPLATES = str(Path(__file__).resolve().parent / "templates")
SECRET = "bench-secret-key-0123456789abcdef"  # 32 bytes: every framework's session signer accepts it


class Settings:
    """The first link of the dependency chain."""

    __slots__ = ("dsn",)

    def __init__(self) -> None:
        self.dsn = "memory://bench"


class Db:
    """Second link: built from the settings."""

    __slots__ = ("dsn",)

    def __init__(self, settings: Settings) -> None:
        self.dsn = settings.dsn


class Repo:
    """Third link: built from the db; the handler asks it for a user."""

    __slots__ = ("db",)

    def __init__(self, db: Db) -> None:
        self.db = db

    def get_user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "name": "Ada", "source": self.db.dsn}


def validate_item_query(q: str | None, limit: str | None) -> tuple[str | None, int]:
    """``q``: optional, at most 50 characters; ``limit``: an int in 1..100, default 10. ValueError if not."""
    if q is not None and len(q) > 50:
        raise ValueError("q: at most 50 characters")
    if limit is None:
        return q, 10
    try:
        value = int(limit)
    except ValueError:
        raise ValueError("limit: not an integer") from None
    if not 1 <= value <= 100:
        raise ValueError("limit: must be between 1 and 100")
    return q, value


def validate_user(data: Any) -> dict[str, Any]:
    """``{name: str, email: str, age: int >= 0, tags: list[str]}``, nothing else. ValueError if not."""
    if not isinstance(data, dict):
        raise ValueError("body: expected an object")
    name, email, age, tags = data.get("name"), data.get("email"), data.get("age"), data.get("tags")
    if not isinstance(name, str):
        raise ValueError("name: expected a string")
    if not isinstance(email, str):
        raise ValueError("email: expected a string")
    if not isinstance(age, int) or isinstance(age, bool) or age < 0:
        raise ValueError("age: expected an integer >= 0")
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise ValueError("tags: expected a list of strings")
    return {"name": name, "email": email, "age": age, "tags": tags}
