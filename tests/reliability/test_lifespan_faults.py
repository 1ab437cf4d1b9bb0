"""Reliability battery, row G6: a start-up that raises or hangs, a shutdown that raises.

The lifespan protocol is driven by hand (a scripted ``receive``, a recording ``send``), then ``ketch run`` is run for
real ("S" in the battery): a subprocess on 127.0.0.1 with a free port, bounded by timeouts, killed by PID at the end.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner

from ketch import Ketch, cli
from ketch.testclient import TestClient
from ketch.types import Message

# -- the lifespan protocol, driven by hand -------------------------------------------------------------------------


async def converse(app: Ketch, state: dict[str, Any] | None = None) -> list[tuple[float, Message]]:
    """Start the app up and, if it started, shut it down: what it sent, each with the seconds since the start."""
    incoming: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[tuple[float, Message]] = []
    began = time.monotonic()

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append((time.monotonic() - began, message))
        if message["type"] == "lifespan.startup.failed":
            incoming.clear()  # a server stops the conversation here

    scope: dict[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {} if state is None else state}
    await app(scope, receive, send)
    return sent


def messages(app: Ketch, state: dict[str, Any] | None = None) -> list[Message]:
    return [message for _, message in asyncio.run(converse(app, state))]


def startup_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "ketch.error" and r.levelno == logging.ERROR]


# -- a start-up that hangs ------------------------------------------------------------------------------------------


def test_a_hanging_lifespan_is_cancelled_and_reported_in_time(caplog: pytest.LogCaptureFixture) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[None]:
        events.append("enter")
        try:
            await asyncio.sleep(3600)  # a database that never answers
            yield
        finally:
            events.append("finally")

    sent = asyncio.run(converse(Ketch(lifespan=lifespan, startup_timeout=0.2)))
    [(elapsed, message)] = sent
    assert message == {"type": "lifespan.startup.failed", "message": "startup did not finish within 0.2 s"}
    assert 0.2 <= elapsed < 0.5
    assert events == ["enter", "finally"]
    [record] = startup_errors(caplog)
    assert record.getMessage() == "Application startup failed: startup did not finish within 0.2 s"
    assert record.exc_info is not None  # the traceback shows where start-up was stuck
    assert "asyncio.sleep(3600)" in caplog.text


def test_a_hanging_startup_hook_is_cancelled_and_nothing_after_it_runs() -> None:
    events: list[str] = []

    async def connect() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            events.append("connect cancelled")

    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[None]:
        events.append("lifespan entered")
        yield

    app = Ketch(lifespan=lifespan, on_startup=[connect, lambda: events.append("next hook")], startup_timeout=0.2)
    assert messages(app) == [{"type": "lifespan.startup.failed", "message": "startup did not finish within 0.2 s"}]
    assert events == ["connect cancelled"]


def test_a_hanging_sync_hook_does_not_hold_the_thread_pool() -> None:
    # A thread cannot be cancelled: the hook runs on a daemon thread of its own, which exit does not wait for
    # (the pool's threads are joined at exit, so a stuck one would keep a failed server from exiting).
    release = threading.Event()
    threads: list[threading.Thread] = []

    def blocking_connect() -> None:
        threads.append(threading.current_thread())
        release.wait(10)

    try:
        sent = asyncio.run(converse(Ketch(on_startup=[blocking_connect], startup_timeout=0.2)))
        [(elapsed, message)] = sent
        assert message["message"] == "startup did not finish within 0.2 s"
        assert elapsed < 0.5
        [thread] = threads
        assert thread.daemon and thread.name == "ketch-startup-hook" and thread.is_alive()
    finally:
        release.set()
    thread.join(5)
    assert not thread.is_alive()


def test_a_startup_that_finishes_in_time_completes() -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
    events: list[Any] = []

    async def warm_up() -> None:
        await asyncio.sleep(0.05)
        request_id.set("set at start-up")
        events.append("async hook")

    def sync_hook() -> None:
        events.append(("sync hook", request_id.get(), threading.current_thread().name))

    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[dict[str, Any]]:
        task = asyncio.current_task()
        yield {"pool": "ready"}
        events.append(("same task", asyncio.current_task() is task))

    state: dict[str, Any] = {}
    app = Ketch(lifespan=lifespan, on_startup=[warm_up, sync_hook], startup_timeout=2)
    assert messages(app, state) == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert state == {"pool": "ready"}
    assert events == [
        "async hook",
        ("sync hook", "set at start-up", "ketch-startup-hook"),  # the caller's context variables go along
        ("same task", True),  # entered and left in one task, so cancel scopes and task groups inside it work
    ]


def test_errors_within_the_timeout_keep_their_own_cause() -> None:
    def sync_broken() -> None:
        raise ValueError("bad settings")

    async def own_timeout() -> None:
        raise TimeoutError("the database did not answer")

    assert messages(Ketch(on_startup=[sync_broken], startup_timeout=5)) == [
        {"type": "lifespan.startup.failed", "message": "ValueError: bad settings"}
    ]
    assert messages(Ketch(on_startup=[own_timeout], startup_timeout=5)) == [
        {"type": "lifespan.startup.failed", "message": "TimeoutError: the database did not answer"}
    ]


def test_without_a_timeout_a_slow_startup_is_waited_for() -> None:
    names: list[str] = []

    async def slow() -> None:
        await asyncio.sleep(0.3)

    app = Ketch(on_startup=[slow, lambda: names.append(threading.current_thread().name)])
    assert app.startup_timeout is None
    sent = asyncio.run(converse(app))
    assert [message for _, message in sent] == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]
    assert sent[0][0] >= 0.3
    assert names[0].startswith("ketch-worker-")  # sync hooks still run on the shared pool


def test_the_test_client_refuses_to_serve_an_app_that_did_not_start() -> None:
    async def hang() -> None:
        await asyncio.sleep(3600)

    with pytest.raises(RuntimeError, match="startup did not finish within 0.2 s"):
        with TestClient(Ketch(on_startup=[hang], startup_timeout=0.2)):
            pass


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_the_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(ValueError, match="startup_timeout"):
        Ketch(startup_timeout=timeout)


def test_a_context_entered_before_a_failed_check_is_left() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[Any]:
        try:
            yield ["not", "a", "mapping"]
        finally:
            events.append("closed")

    [message] = messages(Ketch(lifespan=lifespan))
    assert message["type"] == "lifespan.startup.failed" and "mapping" in message["message"]
    assert events == ["closed"]


# -- a shutdown that raises -----------------------------------------------------------------------------------------


def test_a_failing_shutdown_hook_is_logged_and_the_rest_still_run(caplog: pytest.LogCaptureFixture) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Ketch) -> AsyncIterator[None]:
        yield
        events.append("lifespan exit")

    def flush() -> None:
        events.append("flush")
        raise OSError("disk gone")

    async def close() -> None:
        events.append("close")

    app = Ketch(lifespan=lifespan, on_shutdown=[flush, close], startup_timeout=5)
    app.on_event("shutdown")(lambda: events.append("last"))
    assert messages(app) == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.failed", "message": "OSError: disk gone"},
    ]
    assert events == ["lifespan exit", "flush", "close", "last"]  # registration order, as Starlette
    [record] = startup_errors(caplog)
    assert record.getMessage().startswith("Error in shutdown hook")
    assert record.exc_info is not None and isinstance(record.exc_info[1], OSError)


# -- ketch run --startup-timeout --------------------------------------------------------------------------------------


HANGING_APP = """
import asyncio
import time

from ketch import Ketch

async def connect():
    await asyncio.sleep(3600)

def connect_blocking():
    time.sleep(3600)

app = Ketch(on_startup=[connect])
blocking = Ketch(on_startup=[connect_blocking])
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tmp_path`` holding ``hangmod.py``, as the current folder, with the app env vars restored afterwards."""
    (tmp_path / "hangmod.py").write_text(textwrap.dedent(HANGING_APP), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("KETCH_APP", "KETCH_DEBUG", "KETCH_STARTUP_TIMEOUT"):
        monkeypatch.setenv(name, "")  # recorded, so teardown restores whatever was there (or removes it)
        monkeypatch.delenv(name)
    yield tmp_path
    sys.modules.pop("hangmod", None)


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    return calls


def test_run_sets_the_timeout_on_the_app(project: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    result = CliRunner().invoke(cli.main, ["run", "hangmod:app", "--startup-timeout", "2.5"])
    assert result.exit_code == 0, result.output
    [(app, _)] = uvicorn_calls
    assert isinstance(app, Ketch) and app.startup_timeout == 2.5


def test_run_passes_the_timeout_to_workers(project: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    result = CliRunner().invoke(cli.main, ["run", "hangmod:app", "--workers", "2", "--startup-timeout", "1.5"])
    assert result.exit_code == 0, result.output
    [(target, options)] = uvicorn_calls
    assert (target, options["factory"]) == ("ketch.cli:_load_from_env", True)  # each worker loads and sets it
    assert os.environ["KETCH_STARTUP_TIMEOUT"] == "1.5"
    assert cli._load_from_env().startup_timeout == 1.5


def test_run_refuses_a_timeout_that_is_not_positive(
    project: Path, uvicorn_calls: list[tuple[Any, dict[str, Any]]]
) -> None:
    result = CliRunner().invoke(cli.main, ["run", "hangmod:app", "--startup-timeout", "0"])
    assert result.exit_code == 2 and "--startup-timeout" in result.output
    assert uvicorn_calls == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("KETCH_APP", "KETCH_DEBUG", "KETCH_STARTUP_TIMEOUT")}


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("app", ["hangmod:app", "hangmod:blocking"])
def test_run_exits_3_when_startup_hangs_past_the_timeout(project: Path, app: str) -> None:
    command = [sys.executable, "-m", "ketch", "run", app, "--port", str(free_port()), "--startup-timeout", "0.5"]
    began = time.monotonic()
    proc = subprocess.Popen(command, env=server_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _, stderr = proc.communicate(timeout=15)
    finally:
        stop(proc)
    elapsed = time.monotonic() - began
    assert proc.returncode == 3
    text = stderr.decode()
    assert text.strip().splitlines()[-1] == "Error: application startup failed: startup did not finish within 0.5 s"
    assert "Traceback" not in text
    assert elapsed < 10  # the interpreter's start-up and uvicorn's import, then half a second


SHUTDOWN_APP = """
from pathlib import Path

from ketch import Ketch

def flush():
    raise OSError("disk gone")

app = Ketch(on_shutdown=[flush, lambda: Path("closed").write_text("yes")])

@app.get("/")
async def index():
    return "up"
"""


@pytest.mark.timeout(30)
def test_a_server_logs_a_failing_shutdown_hook_and_runs_the_next(project: Path) -> None:
    (project / "downmod.py").write_text(textwrap.dedent(SHUTDOWN_APP), encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "ketch", "run", "downmod:app", "--port", str(port)]
    proc = subprocess.Popen(command, env=server_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline, served = time.monotonic() + 10, None
        while served is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                served = httpx.get(f"http://127.0.0.1:{port}/", timeout=1).json()
            except httpx.TransportError:
                time.sleep(0.1)
        assert served == "up"
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=10)
    finally:
        stop(proc)
    text = stderr.decode()
    assert (project / "closed").read_text() == "yes", text
    assert text.count("Error in shutdown hook") == 1 and "OSError: disk gone" in text
    assert "Application shutdown failed" in text
