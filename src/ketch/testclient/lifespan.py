"""The lifespan protocol as the test client speaks it: start-up when a ``with`` block opens, shutdown when it ends."""

from __future__ import annotations

import asyncio
from typing import Any

from ketch.testclient.server import _Exit, _run_app, _stop_task
from ketch.types import ASGIApp, Message, Scope

__all__: list[str] = []


class _Lifespan:
    """One lifespan conversation: ``startup()`` on enter, ``shutdown()`` on exit; ``state`` is what it yields."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message | _Exit] = asyncio.Queue()
        self._task: asyncio.Task[BaseException | None] | None = None
        self._running = False

    async def startup(self) -> None:
        scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        send = self._outbox.put
        self._task = asyncio.ensure_future(_run_app(self.app, scope, self._to_app.get, send, self._outbox))
        message = await self._ask("lifespan.startup")
        if message is None:
            return  # the app returned: it does not speak lifespan
        if message["type"] == "lifespan.startup.failed":
            await _stop_task(self._task)
            raise RuntimeError(f"Application startup failed: {message.get('message', '')}")
        self._running = True

    async def shutdown(self, raise_errors: bool = True) -> None:
        """Run shutdown; ``raise_errors=False`` when an error is already on its way (never hide it)."""
        if not self._running:
            return
        self._running = False
        try:
            message = await self._ask("lifespan.shutdown")
        except Exception:
            if raise_errors:
                raise
            return
        await _stop_task(self._task)
        if raise_errors and message is not None and message["type"] == "lifespan.shutdown.failed":
            raise RuntimeError(f"Application shutdown failed: {message.get('message', '')}")

    async def _ask(self, kind: str) -> Message | None:
        self._to_app.put_nowait({"type": kind})
        item = await self._outbox.get()
        if isinstance(item, _Exit):
            if item.error is not None:
                raise item.error
            return None
        return item
