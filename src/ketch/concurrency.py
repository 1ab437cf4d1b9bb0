"""Running sync code off the event loop, on one bounded thread pool."""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import functools
import inspect
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
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


class _ThreadPool:
    """Worker threads fed by one C queue, each result handed back to the caller's loop with one callback.

    # PERF: ``loop.run_in_executor`` on a ``ThreadPoolExecutor`` costs two futures chained by callbacks, a
    # condition variable and a Python work item per call (about 170k instructions per hop under callgrind); this
    # pool costs one asyncio future and one ``call_soon_threadsafe``.
    """

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], call: Callable[[], Any]) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the thread pool is shut down")
            if self._idle:
                self._idle -= 1  # an idle worker will take it
            elif len(self._threads) < self.max_workers:
                self._start_worker()
            # else every worker is busy: the job waits in the queue for the first one free
        self._jobs.put((loop, future, call))

    def _start_worker(self) -> None:
        name = f"ketch-worker-{len(self._threads)}"
        thread = threading.Thread(target=self._work, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _work(self) -> None:
        get = self._jobs.get
        while True:
            job = get()
            if job is None:
                return
            loop, future, call = job
            del job
            settle, value = _outcome(call)
            # Idle before the caller hears back, so its next call reuses this thread instead of starting one.
            with self._lock:
                self._idle += 1
            _deliver(loop, settle, future, value)
            del loop, future, call, value  # nothing of a finished call stays alive while the worker waits

    def shutdown(self, wait: bool) -> None:
        """Stop the workers once they finish the jobs already queued; ``wait`` joins them."""
        with self._lock:
            threads, self._threads, self._closed = self._threads, [], True
        for _ in threads:
            self._jobs.put(None)
        if wait:
            for thread in threads:
                thread.join()


_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


def _outcome(call: Callable[[], Any]) -> tuple[Callable[[asyncio.Future[Any], Any], None], Any]:
    """Run ``call``: how to settle its caller's future, and with what."""
    try:
        return _succeed, call()
    except BaseException as exc:
        return _fail, exc


def _deliver(loop: asyncio.AbstractEventLoop, settle: Callable[..., None], future: Any, value: Any) -> None:
    try:
        loop.call_soon_threadsafe(settle, future, value)
    except RuntimeError:
        pass  # the loop closed while the call ran: nobody is waiting for the result


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # the caller may have been cancelled meanwhile
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        if isinstance(exc, StopIteration):  # a Future refuses StopIteration, as a coroutine does (PEP 479)
            error = RuntimeError("a function run on a thread raised StopIteration")
            error.__cause__ = exc
            exc = error
        future.set_exception(exc)


_pool_size = DEFAULT_THREAD_POOL_SIZE
_pool: _ThreadPool | None = None


def configure_thread_pool(max_workers: int) -> None:
    """Set how many threads sync endpoints and dependencies may use at once (default 40).

    A saturated pool queues further calls; it never deadlocks the event loop.
    """
    global _pool, _pool_size
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    if max_workers == _pool_size and _pool is not None:
        return
    old, _pool, _pool_size = _pool, None, max_workers
    if old is not None:
        old.shutdown(wait=False)


def _get_pool() -> _ThreadPool:
    global _pool
    if _pool is None:
        _pool = _ThreadPool(_pool_size)
    return _pool


@atexit.register
def _shutdown_at_exit() -> None:
    # Workers are daemon threads so a stuck call cannot hang the exit forever on its own, but calls already
    # running get to finish, as ThreadPoolExecutor's do: a sync endpoint mid-write is never cut off.
    if _pool is not None:
        _pool.shutdown(wait=True)


def _submit(call: Callable[[], _T]) -> asyncio.Future[_T]:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()
    _get_pool().submit(loop, future, call)
    return future


async def run_on_own_thread(func: Callable[[], _T], name: str) -> _T:
    """Call ``func`` on a daemon thread of its own (not the pool), with the caller's context variables.

    For a call that may never return and that the caller may give up on (a start-up hook under a timeout): a
    thread cannot be stopped, and the pool's threads are waited for at exit, so such a call must not hold one.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()
    call = functools.partial(contextvars.copy_context().run, func)

    def work() -> None:
        settle, value = _outcome(call)
        _deliver(loop, settle, future, value)

    threading.Thread(target=work, name=name, daemon=True).start()
    return await future


async def run_in_threadpool(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Call ``func`` on the thread pool, with the caller's context variables, and await its result.

    If the caller is cancelled, the call still runs to its end on its thread; its result is dropped.
    """
    context = contextvars.copy_context()
    call = (
        functools.partial(context.run, func, *args, **kwargs) if kwargs else functools.partial(context.run, func, *args)
    )
    return await _submit(call)


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
    context = contextvars.copy_context()
    iterator = iter(iterable)
    step: asyncio.Future[_T] | None = None
    try:
        while True:
            step = _submit(functools.partial(context.run, _next, iterator))
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
            await _submit(functools.partial(context.run, close))


def is_async_callable(obj: Any) -> bool:
    """True for coroutine functions, partials of them, and objects whose ``__call__`` is one."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    return inspect.iscoroutinefunction(obj) or (callable(obj) and inspect.iscoroutinefunction(obj.__call__))
