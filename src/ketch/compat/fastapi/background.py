"""``fastapi.background``."""

from ketch.background import BackgroundTasks

__all__ = ["BackgroundTasks"]
