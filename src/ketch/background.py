"""Background tasks: work that runs after the response has been sent."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ParamSpec

from ketch.concurrency import is_async_callable, run_in_threadpool

__all__ = ["BackgroundTask", "BackgroundTasks"]

_P = ParamSpec("_P")
logger = logging.getLogger("ketch.error")


class BackgroundTask:
    """One call to make after the response is sent; sync callables run on the thread pool."""

    def __init__(self, func: Callable[_P, Any], *args: _P.args, **kwargs: _P.kwargs) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.is_async = is_async_callable(func)

    async def __call__(self) -> None:
        if self.is_async:
            await self.func(*self.args, **self.kwargs)
        else:
            await run_in_threadpool(self.func, *self.args, **self.kwargs)


class BackgroundTasks(BackgroundTask):
    """Several tasks run in order after the response.

    A task that raises is logged (the response was already sent and is not affected) and the tasks after it in
    the same batch are skipped, as in Starlette.
    """

    def __init__(self, tasks: list[BackgroundTask] | None = None) -> None:
        self.tasks = list(tasks) if tasks else []

    def add_task(self, func: Callable[_P, Any], *args: _P.args, **kwargs: _P.kwargs) -> None:
        self.tasks.append(BackgroundTask(func, *args, **kwargs))

    async def __call__(self) -> None:
        for task in self.tasks:
            await task()


async def run_background(task: BackgroundTask, where: str) -> None:
    """Run ``task`` after a response; a failure is logged with ``where`` (the route) and never re-raised."""
    try:
        await task()
    except Exception:
        logger.exception("Background task failed after the response to %s", where)
