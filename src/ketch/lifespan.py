"""The ASGI lifespan protocol: start-up (planning, hooks, the lifespan context) and shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from ketch.concurrency import is_async_callable, run_in_threadpool, run_on_own_thread
from ketch.types import Receive, Scope, Send

__all__ = ["LifespanRunner", "run_hooks"]

logger = logging.getLogger("ketch.error")


class _StartupTimeout(TimeoutError):
    """Start-up did not finish within the app's ``startup_timeout``; what was still running was cancelled."""


async def run_hooks(hooks: Sequence[Callable[[], Any]]) -> None:
    """Call each hook in order (sync hooks on the thread pool)."""
    for hook in hooks:
        if is_async_callable(hook):
            await hook()
        else:
            await run_in_threadpool(hook)


class LifespanRunner:
    """Run one lifespan conversation with the server for ``app``.

    Start-up: ``prepare()`` (the app plans its routes), the ``on_startup`` hooks, then the ``lifespan`` context is
    entered; a mapping it yields becomes the lifespan state every request sees in ``request.state``. With a
    ``startup_timeout`` (seconds), a start-up still running when it expires is cancelled and reported as failed.
    Shutdown: the ``lifespan`` context is left, then the ``on_shutdown`` hooks run in order; an error in one step is
    logged and the rest still run.
    """

    def __init__(
        self,
        app: Any,
        prepare: Callable[[], None],
        lifespan: Callable[[Any], AbstractAsyncContextManager[Any]] | None,
        on_startup: Sequence[Callable[[], Any]],
        on_shutdown: Sequence[Callable[[], Any]],
        startup_timeout: float | None = None,
    ) -> None:
        self.app = app
        self.prepare = prepare
        self.lifespan = lifespan
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        self.startup_timeout = startup_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        try:
            context = await self.startup(scope)
        except BaseException as exc:
            cause = str(exc) if isinstance(exc, _StartupTimeout) else f"{type(exc).__name__}: {exc}"
            logger.error("Application startup failed: %s", cause, exc_info=exc)
            await send({"type": "lifespan.startup.failed", "message": cause})
            return
        await send({"type": "lifespan.startup.complete"})

        message = await receive()
        assert message["type"] == "lifespan.shutdown"
        failures = await self.shutdown(context)
        if failures:
            await send({"type": "lifespan.shutdown.failed", "message": "; ".join(failures)})
        else:
            await send({"type": "lifespan.shutdown.complete"})

    async def startup(self, scope: Scope) -> AbstractAsyncContextManager[Any] | None:
        """Plan, run the hooks and enter the lifespan context, within the timeout; the entered context, if any."""
        if self.startup_timeout is None:
            self.prepare()
            await run_hooks(self.on_startup)
            return await self.enter(scope)
        # The deadline cancels this very task, so the lifespan context is entered and later left in one task.
        deadline = asyncio.timeout(self.startup_timeout)
        try:
            async with deadline:
                self.prepare()
                for hook in self.on_startup:
                    # A sync hook gets a daemon thread of its own: one the deadline gives up on must not hold the exit.
                    await (hook() if is_async_callable(hook) else run_on_own_thread(hook, "ketch-startup-hook"))
                return await self.enter(scope)
        except TimeoutError as exc:
            if not deadline.expired():
                raise  # the app's own TimeoutError, not the deadline
            raise _StartupTimeout(f"startup did not finish within {self.startup_timeout:g} s") from exc

    async def enter(self, scope: Scope) -> AbstractAsyncContextManager[Any] | None:
        """Enter the lifespan context and merge the state it yields into the scope's."""
        if self.lifespan is None:
            return None
        context = self.lifespan(self.app)
        state = await context.__aenter__()
        if state is not None:
            try:
                if "state" not in scope:
                    raise RuntimeError('The server does not support "state" in the lifespan scope.')
                if not isinstance(state, Mapping):
                    raise TypeError("A lifespan may yield a mapping of state, or nothing")
                scope["state"].update(state)
            except BaseException as exc:
                await context.__aexit__(type(exc), exc, exc.__traceback__)  # entered: it must be left
                raise
        return context

    async def shutdown(self, context: AbstractAsyncContextManager[Any] | None) -> list[str]:
        """Leave the lifespan context, then run every shutdown hook; the one-line causes of the steps that failed."""
        failures: list[str] = []
        if context is not None:
            try:
                await context.__aexit__(None, None, None)
            except BaseException as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                logger.error("Error in lifespan shutdown", exc_info=exc)
        for hook in self.on_shutdown:
            try:
                await run_hooks([hook])
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                logger.error("Error in shutdown hook %r", hook, exc_info=exc)
        return failures
