"""Running sync code off the event loop, on one bounded thread pool."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

__all__ = [
    "configure_thread_pool",
    "is_async_callable",
    "iterate_in_threadpool",
    "run_in_threadpool",
]

_P = ParamSpec("_P")
_T = TypeVar("_T")

DEFAULT_THREAD_POOL_SIZE = 40
_pool_size = DEFAULT_THREAD_POOL_SIZE
_executor: ThreadPoolExecutor | None = None


def configure_thread_pool(max_workers: int) -> None:
    """Set how many threads sync endpoints and dependencies may use at once (default 40).

    A saturated pool queues further calls; it never deadlocks the event loop.
    """
    global _executor, _pool_size
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    if max_workers == _pool_size and _executor is not None:
        return
    old, _executor, _pool_size = _executor, None, max_workers
    if old is not None:
        old.shutdown(wait=False)


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=_pool_size, thread_name_prefix="ketch-worker")
    return _executor


async def run_in_threadpool(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Call ``func`` on the thread pool, with the caller's context variables, and await its result."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    call = (
        functools.partial(context.run, func, *args, **kwargs) if kwargs else functools.partial(context.run, func, *args)
    )
    return await loop.run_in_executor(_get_executor(), call)


class _StopIteration(Exception):
    pass


def _next(iterator: Iterator[_T]) -> _T:
    # StopIteration cannot cross a Future boundary, so it is swapped for a private exception.
    try:
        return next(iterator)
    except StopIteration:
        raise _StopIteration from None


async def iterate_in_threadpool(iterable: Iterable[_T]) -> AsyncIterator[_T]:
    """Iterate a sync iterable on the thread pool, one item per hop, in one copy of the caller's context.

    If the consumer is cancelled while a step runs on a thread, the step is allowed to finish (a generator cannot
    be closed mid-step), then the iterator is closed on the pool, so its ``finally`` blocks always run.
    """
    loop = asyncio.get_running_loop()
    executor = _get_executor()
    context = contextvars.copy_context()
    iterator = iter(iterable)
    step: asyncio.Future[_T] | None = None
    try:
        while True:
            step = loop.run_in_executor(executor, context.run, _next, iterator)
            try:
                item = await asyncio.shield(step)
            except _StopIteration:
                break
            yield item
    finally:
        if step is not None and not step.done():
            await asyncio.wait([step])
        if step is not None and not step.cancelled():
            step.exception()  # retrieved, so a late failure is not reported as "never retrieved"
        close = getattr(iterator, "close", None)
        if close is not None:
            await loop.run_in_executor(executor, context.run, close)


def is_async_callable(obj: Any) -> bool:
    """True for coroutine functions, partials of them, and objects whose ``__call__`` is one."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    return inspect.iscoroutinefunction(obj) or (callable(obj) and inspect.iscoroutinefunction(obj.__call__))
