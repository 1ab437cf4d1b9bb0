"""``starlette.background``."""

from ketch.background import BackgroundTask, BackgroundTasks

__all__ = ["BackgroundTask", "BackgroundTasks"]
