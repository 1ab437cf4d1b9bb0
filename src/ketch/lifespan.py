"""The ASGI lifespan protocol: start-up (planning, hooks, the lifespan context) and shutdown."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from ketch.concurrency import is_async_callable, run_in_threadpool
from ketch.types import Receive, Scope, Send

__all__ = ["LifespanRunner", "run_hooks"]

logger = logging.getLogger("ketch.error")


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
    entered; a mapping it yields becomes the lifespan state every request sees in ``request.state``. Shutdown runs
    in reverse; an error in one shutdown step is logged and the rest still run.
    """

    def __init__(
        self,
        app: Any,
        prepare: Callable[[], None],
        lifespan: Callable[[Any], AbstractAsyncContextManager[Any]] | None,
        on_startup: Sequence[Callable[[], Any]],
        on_shutdown: Sequence[Callable[[], Any]],
    ) -> None:
        self.app = app
        self.prepare = prepare
        self.lifespan = lifespan
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        context: AbstractAsyncContextManager[Any] | None = None
        try:
            self.prepare()
            await run_hooks(self.on_startup)
            if self.lifespan is not None:
                context = self.lifespan(self.app)
                state = await context.__aenter__()
                if state is not None:
                    if "state" not in scope:
                        raise RuntimeError('The server does not support "state" in the lifespan scope.')
                    if not isinstance(state, Mapping):
                        raise TypeError("A lifespan may yield a mapping of state, or nothing")
                    scope["state"].update(state)
        except BaseException as exc:
            cause = f"{type(exc).__name__}: {exc}"
            logger.error("Application startup failed: %s", cause, exc_info=exc)
            await send({"type": "lifespan.startup.failed", "message": cause})
            return
        await send({"type": "lifespan.startup.complete"})

        message = await receive()
        assert message["type"] == "lifespan.shutdown"
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
        if failures:
            await send({"type": "lifespan.shutdown.failed", "message": "; ".join(failures)})
        else:
            await send({"type": "lifespan.shutdown.complete"})
