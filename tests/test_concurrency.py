"""The thread pool that sync endpoints, dependencies and file I/O run on."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from ketch import concurrency
from ketch.concurrency import configure_thread_pool, iterate_in_threadpool, run_in_threadpool

pytestmark = pytest.mark.timeout(20)

_who: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


@pytest.fixture(autouse=True)
def _default_pool() -> object:
    yield
    configure_thread_pool(concurrency.DEFAULT_THREAD_POOL_SIZE)


def test_result_arguments_and_context_reach_the_thread() -> None:
    def work(a: int, *, b: int) -> tuple[int, str, bool]:
        return a + b, _who.get(), threading.current_thread() is threading.main_thread()

    async def main() -> tuple[int, str, bool]:
        _who.set("caller")
        return await run_in_threadpool(work, 1, b=2)

    assert asyncio.run(main()) == (3, "caller", False)


def test_context_changes_in_the_thread_stay_in_the_thread() -> None:
    async def main() -> str:
        _who.set("caller")
        await run_in_threadpool(_who.set, "worker")
        return _who.get()

    assert asyncio.run(main()) == "caller"


def test_exceptions_reach_the_caller() -> None:
    def boom() -> None:
        raise KeyError("missing")

    async def main() -> None:
        await run_in_threadpool(boom)

    with pytest.raises(KeyError, match="missing"):
        asyncio.run(main())


def test_stop_iteration_becomes_runtime_error_instead_of_a_hang() -> None:
    async def main() -> None:
        await run_in_threadpool(next, iter(()))

    with pytest.raises(RuntimeError, match="StopIteration"):
        asyncio.run(main())


def test_pool_bound_is_respected_and_saturation_queues() -> None:
    configure_thread_pool(2)
    running = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    async def main() -> None:
        await asyncio.gather(*(run_in_threadpool(work) for _ in range(8)))

    asyncio.run(main())
    assert peak == 2
    assert len(concurrency._get_pool()._threads) == 2


def test_threads_are_reused_for_sequential_calls() -> None:
    configure_thread_pool(5)

    async def main() -> set[str]:
        return {await run_in_threadpool(lambda: threading.current_thread().name) for _ in range(20)}

    names = asyncio.run(main())
    assert len(names) == 1
    assert names.pop().startswith("ketch-worker")


def test_cancelled_caller_lets_the_call_finish_and_drops_the_result() -> None:
    finished = threading.Event()

    def slow() -> str:
        time.sleep(0.05)
        finished.set()
        return "late"

    async def main() -> None:
        task = asyncio.ensure_future(run_in_threadpool(slow))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The pool still answers afterwards.
        assert await run_in_threadpool(lambda: "next") == "next"

    asyncio.run(main())
    assert finished.wait(2)


def test_result_after_the_loop_closed_is_dropped_quietly() -> None:
    release = threading.Event()
    done = threading.Event()

    def blocked() -> None:
        release.wait(2)
        done.set()

    loop = asyncio.new_event_loop()
    task = loop.create_task(run_in_threadpool(blocked))
    loop.run_until_complete(asyncio.sleep(0.01))
    task.cancel()
    loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
    loop.close()
    release.set()
    assert done.wait(2)
    # The worker survived the closed loop and serves the next caller.
    assert asyncio.run(run_in_threadpool(lambda: 7)) == 7


def test_reconfiguring_stops_the_old_workers() -> None:
    configure_thread_pool(3)
    asyncio.run(run_in_threadpool(lambda: None))
    old = concurrency._get_pool()
    threads = list(old._threads)
    configure_thread_pool(4)
    for thread in threads:
        thread.join(2)
        assert not thread.is_alive()
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(RuntimeError, match="shut down"):
            old.submit(loop, loop.create_future(), lambda: None)
    finally:
        loop.close()
    assert asyncio.run(run_in_threadpool(lambda: "new")) == "new"


def test_configure_refuses_zero() -> None:
    with pytest.raises(ValueError):
        configure_thread_pool(0)


def test_iterate_in_threadpool_runs_steps_on_threads_and_closes() -> None:
    closed = threading.Event()

    def numbers() -> object:
        try:
            yield threading.current_thread() is threading.main_thread()
            yield 2
            yield 3
        finally:
            closed.set()

    async def first_only() -> list[object]:
        out = []
        async for item in iterate_in_threadpool(numbers()):  # type: ignore[arg-type]
            out.append(item)
            break
        return out

    async def main() -> list[object]:
        return [item async for item in iterate_in_threadpool(numbers())]  # type: ignore[arg-type]

    assert asyncio.run(main()) == [False, 2, 3]
    closed.clear()
    assert asyncio.run(first_only()) == [False]
    assert closed.wait(2)
