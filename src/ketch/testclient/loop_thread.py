"""The sync client's event loop: a private loop on a daemon thread, which the app runs on."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import warnings
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__: list[str] = []

_T = TypeVar("_T")

# How long close() waits for the loop thread to finish.
_JOIN_TIMEOUT = 10.0


class _LoopThread:
    """A private event loop on a daemon thread, started on first use.

    ``stop()`` cancels what is left, shuts the loop down (async generators, default executor) and joins the
    thread; the next call starts a fresh one. Whoever holds this object (the client, a response stream, a
    WebSocket session) keeps the loop usable; once nothing does, a finalizer stops it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def call(self, func: Callable[..., Coroutine[Any, Any, _T]], *args: Any) -> _T:
        """Run ``func(*args)`` on the loop and wait for its result (or exception)."""
        loop = self._start()
        if threading.current_thread() is self._thread:
            raise RuntimeError("TestClient was called from inside the app's own event loop; use AsyncTestClient")
        return asyncio.run_coroutine_threadsafe(func(*args), loop).result()

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                ready: concurrent.futures.Future[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]
                ready = concurrent.futures.Future()
                thread = threading.Thread(target=_serve_loop, args=(ready,), name="ketch-testclient", daemon=True)
                thread.start()
                loop, stopped = ready.result()
                self._loop, self._thread = loop, thread
                # The finalizer holds what it needs to stop the thread, never this object.
                self._finalizer = weakref.finalize(self, _stop_loop, loop, stopped, thread)
            return self._loop

    def stop(self) -> None:
        """Stop the loop and join its thread (idempotent)."""
        with self._lock:
            finalizer, self._finalizer = self._finalizer, None
            self._loop = self._thread = None
        if finalizer is not None:
            finalizer()


def _serve_loop(ready: concurrent.futures.Future[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]) -> None:
    async def serve() -> None:
        stopped = asyncio.get_running_loop().create_future()
        ready.set_result((asyncio.get_running_loop(), stopped))
        await stopped

    with asyncio.Runner() as runner:
        runner.run(serve())


def _stop_loop(loop: asyncio.AbstractEventLoop, stopped: asyncio.Future[None], thread: threading.Thread) -> None:
    if loop.is_closed():
        return
    loop.call_soon_threadsafe(stopped.set_result, None)
    if thread is threading.current_thread():
        return  # collected on its own thread: it stops once this callback returns
    thread.join(_JOIN_TIMEOUT)
    if thread.is_alive():
        warnings.warn(
            "The test client's event loop did not stop: the app ignores cancellation", ResourceWarning, stacklevel=2
        )
