"""The docs_src example of the lifespan page's "Start-up timeout" section, exercised as described."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ketch.testclient import TestClient


def test_a_start_up_in_time_serves() -> None:
    from docs_src.lifespan_timeout import app

    assert app.startup_timeout == 5
    with TestClient(app) as client:
        assert client.get("/health").json() == {"database": True}


def test_a_start_up_past_the_timeout_never_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    import docs_src.lifespan_timeout as example

    cancelled: list[str] = []

    async def dead_host(url: str) -> dict[str, Any]:
        try:
            await asyncio.sleep(3600)
        finally:
            cancelled.append(url)
        raise AssertionError("unreachable")

    monkeypatch.setattr(example, "connect", dead_host)
    monkeypatch.setattr(example.app, "startup_timeout", 0.2)
    with pytest.raises(RuntimeError, match="startup did not finish within 0.2 s"):
        with TestClient(example.app):
            pass
    assert cancelled == ["postgresql://db.internal/app"]
