"""Measurement A, in-process: call an app directly with synthetic ASGI scope/receive/send (or a WSGI environ and
start_response), check every answer, then time many requests per scenario.

Run one app per process (``python -m bench.inprocess APP``) so imports and global state never mix; it prints one
JSON object. The same drivers serve ``bench/callgrind.py`` and ``tests/test_bench_apps.py``.

Times are net of the driver: the cost of the same loop around an empty app (``null``) is subtracted, so the raw
floor shows what the floor app costs, not what this harness costs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from bench.apps import AppSpec, load
from bench.scenarios import SCENARIOS, Scenario, check

__all__ = [
    "AppDrivers",
    "AsgiDriver",
    "WsgiDriver",
    "check_app",
    "check_scenario",
    "driver_for",
    "null_asgi",
    "null_wsgi",
    "settle",
    "time_app",
]

HOST = b"127.0.0.1:8000"
Answer = tuple[int, dict[str, str], bytes]


def _request_headers(scenario: Scenario, body: bytes, cookie: str | None) -> list[tuple[bytes, bytes]]:
    headers = [(b"host", HOST), (b"user-agent", b"ketch-bench"), (b"accept", b"*/*")]
    if scenario.content_type is not None:
        headers.append((b"content-type", scenario.content_type.encode()))
    if body or scenario.method == "POST":
        headers.append((b"content-length", str(len(body)).encode()))
    if scenario.cookie and cookie:
        headers.append((b"cookie", cookie.encode()))
    return headers


class _Receive:
    """The request body in one message; a second call means the client has gone (the response is complete)."""

    __slots__ = ("message", "sent")

    def __init__(self, message: dict[str, Any]) -> None:
        self.message = message
        self.sent = False

    async def __call__(self) -> dict[str, Any]:
        if self.sent:
            return {"type": "http.disconnect"}
        self.sent = True
        return self.message


async def _discard(message: dict[str, Any]) -> None:
    pass


class AsgiDriver:
    """Drives one ASGI app on its own event loop: lifespan start-up first, as a server would."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.state: dict[str, Any] = {}
        self._lifespan: Any = None
        self.loop.run_until_complete(self._startup())

    async def _startup(self) -> None:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        task = asyncio.ensure_future(self.app(scope, inbox.get, outbox.put))
        await inbox.put({"type": "lifespan.startup"})
        reply = asyncio.ensure_future(outbox.get())
        done, _ = await asyncio.wait({task, reply}, return_when=asyncio.FIRST_COMPLETED)
        if reply in done:
            message = reply.result()
            if message["type"] != "lifespan.startup.complete":
                raise RuntimeError(f"lifespan start-up failed: {message}")
            self._lifespan = (task, inbox, outbox)
        else:  # the app does not speak lifespan: fine, as with uvicorn's "auto"
            reply.cancel()
            task.exception()

    def close(self) -> None:
        if self._lifespan is not None:
            task, inbox, outbox = self._lifespan
            inbox.put_nowait({"type": "lifespan.shutdown"})
            self.loop.run_until_complete(asyncio.wait_for(outbox.get(), 10))
            self.loop.run_until_complete(asyncio.wait_for(task, 10))
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()
        asyncio.set_event_loop(None)

    def template(self, scenario: Scenario, cookie: str | None, target: tuple[str, str, bytes] | None = None) -> Any:
        path, query, body = target or (scenario.path, scenario.query, scenario.body)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "scheme": "http",
            "method": scenario.method,
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": _request_headers(scenario, body, cookie),
        }
        return scope, {"type": "http.request", "body": body, "more_body": False}

    def call(self, template: Any) -> Answer:
        """One request; the status, headers (lower-case names) and body it got."""
        scope, message = template
        sent: list[dict[str, Any]] = []

        async def send(msg: dict[str, Any]) -> None:
            sent.append(msg)

        request = {**scope, "headers": list(scope["headers"]), "state": dict(self.state)}
        self.loop.run_until_complete(self.app(request, _Receive(message), send))
        start = next(m for m in sent if m["type"] == "http.response.start")
        headers = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return start["status"], headers, body

    def runner(self, template: Any, n: int, app: Any = None) -> Callable[[], None]:
        """A no-argument callable that serves ``n`` requests (for timing and for callgrind)."""
        scope, message = template
        app = app or self.app
        state = self.state

        async def serve() -> None:
            for _ in range(n):
                request = scope.copy()
                request["headers"] = list(scope["headers"])
                request["state"] = state.copy()
                await app(request, _Receive(message), _discard)

        return lambda: self.loop.run_until_complete(serve())


async def null_asgi(scope: Any, receive: Any, send: Any) -> None:
    """The empty app: what the driver's loop costs by itself."""


def null_wsgi(environ: Any, start_response: Any) -> Iterable[bytes]:
    return ()


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
    return _write


def _write(data: bytes) -> None:
    pass


class WsgiDriver:
    """Drives one WSGI app with a PEP 3333 environ per request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def close(self) -> None:
        pass

    def template(self, scenario: Scenario, cookie: str | None, target: tuple[str, str, bytes] | None = None) -> Any:
        path, query, body = target or (scenario.path, scenario.query, scenario.body)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scenario.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": "50000",
            "HTTP_HOST": HOST.decode(),
            "HTTP_USER_AGENT": "ketch-bench",
            "HTTP_ACCEPT": "*/*",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if scenario.content_type is not None:
            environ["CONTENT_TYPE"] = scenario.content_type
        if body or scenario.method == "POST":
            environ["CONTENT_LENGTH"] = str(len(body))
        if scenario.cookie and cookie:
            environ["HTTP_COOKIE"] = cookie
        return environ, body

    def call(self, template: Any) -> Answer:
        environ, body = template
        got: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            got[:] = [int(status.split()[0]), {k.lower(): v for k, v in headers}]
            return _write

        result = self.app({**environ, "wsgi.input": io.BytesIO(body)}, start_response)
        try:
            data = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return got[0], got[1], data

    def runner(self, template: Any, n: int, app: Any = None) -> Callable[[], None]:
        environ, body = template
        app = app or self.app

        def serve() -> None:
            for _ in range(n):
                request = environ.copy()
                request["wsgi.input"] = io.BytesIO(body)
                result = app(request, _start_response)
                for _chunk in result:
                    pass
                close = getattr(result, "close", None)
                if close is not None:
                    close()

        return serve


def driver_for(kind: str, app: Any) -> AsgiDriver | WsgiDriver:
    return AsgiDriver(app) if kind == "asgi" else WsgiDriver(app)


class AppDrivers:
    """One driver per app object of a module (a scenario may use its own app, e.g. one with session middleware)."""

    def __init__(self, spec: AppSpec) -> None:
        self.spec = spec
        self.cookie = spec.cookie() if "classic" in spec.scenarios else None
        self._drivers: dict[str, AsgiDriver | WsgiDriver] = {}

    def for_scenario(self, scenario: str) -> AsgiDriver | WsgiDriver:
        attribute = self.spec.attribute(scenario)
        if attribute not in self._drivers:
            self._drivers[attribute] = driver_for(self.spec.kind, self.spec.app_for(scenario))
        return self._drivers[attribute]

    def any(self) -> AsgiDriver | WsgiDriver:
        return self.for_scenario(self.spec.scenarios[0])

    def close(self) -> None:
        for driver in self._drivers.values():
            driver.close()


def check_scenario(drivers: AppDrivers, name: str) -> str | None:
    """None if the app answers ``name`` right and refuses its bad requests with a 4xx; else what went wrong."""
    scenario = SCENARIOS[name]
    driver = drivers.for_scenario(name)
    try:
        status, headers, body = driver.call(driver.template(scenario, drivers.cookie))
        problem = check(scenario, status, headers, body)
        if problem:
            return problem
        for bad in scenario.bad:
            status, _, body = driver.call(driver.template(scenario, drivers.cookie, bad))
            if not 400 <= status < 500:
                return f"bad request {bad[0]}?{bad[1]} {bad[2][:40]!r} got {status}, expected a 4xx"
    except Exception as exc:  # report, do not crash the whole run
        return f"{type(exc).__name__}: {exc}"
    return None


def check_app(spec: AppSpec, scenarios: Iterable[str]) -> dict[str, str | None]:
    drivers = AppDrivers(spec)
    try:
        return {name: check_scenario(drivers, name) for name in scenarios}
    finally:
        drivers.close()


def settle() -> None:
    """Collect garbage and freeze what survives, so a batch never pays for a full collection of the start-up heap
    (tens of millions of instructions, landing at random in one batch). Collections of what requests allocate
    still happen, and are counted."""
    gc.collect()
    gc.freeze()


def _per_request_ns(run: Callable[[], None], n: int, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        settle()
        start = time.perf_counter_ns()
        run()
        samples.append((time.perf_counter_ns() - start) / n)
    return statistics.median(samples)


def time_app(spec: AppSpec, scenarios: Iterable[str], number: int, repeat: int, warmup: int) -> dict[str, Any]:
    """Check each scenario, then time it: median over ``repeat`` runs of ``number`` requests, minus the driver."""
    drivers = AppDrivers(spec)
    results: dict[str, Any] = {}
    try:
        null = drivers.any()
        null_template = null.template(SCENARIOS["plaintext"], None)
        null_app = null_asgi if spec.kind == "asgi" else null_wsgi
        null.runner(null_template, warmup, null_app)()
        null_ns = _per_request_ns(null.runner(null_template, number, null_app), number, repeat)
        for name in scenarios:
            error = check_scenario(drivers, name)
            if error:
                results[name] = {"us": None, "error": error}
                continue
            driver = drivers.for_scenario(name)
            template = driver.template(SCENARIOS[name], drivers.cookie)
            driver.runner(template, warmup)()
            ns = _per_request_ns(driver.runner(template, number), number, repeat)
            results[name] = {"us": max(ns - null_ns, 0.0) / 1000, "error": None}
    finally:
        drivers.close()
    return {"null_us": null_ns / 1000, "scenarios": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app")
    parser.add_argument("--scenarios", default="")
    parser.add_argument("--number", type=int, default=2000, help="requests per timed run")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs; the median is reported")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--check-only", action="store_true")
    args = parser.parse_args()
    spec = load(args.app)
    wanted = [s for s in (args.scenarios.split(",") if args.scenarios else spec.scenarios) if s in spec.scenarios]
    if args.check_only:
        out: dict[str, Any] = {"checks": check_app(spec, wanted)}
    else:
        out = time_app(spec, wanted, args.number, args.repeat, args.warmup)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
