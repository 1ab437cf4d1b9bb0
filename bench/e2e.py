"""Measurement B, end to end: each app behind a real server on 127.0.0.1, loaded by wrk.

Each server runs one worker pinned to the first core, wrk one thread pinned to the second (``taskset``), so they
do not fight over a core. Every (app, server) is started once; every scenario is checked with one real request,
warmed up, then measured ``runs`` times for ``duration`` seconds, the runs interleaved across apps; the median
requests/second and the median p99 latency are reported. Servers bind to 127.0.0.1 only and are always
stopped, by the process group this module started, in a ``finally``.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.apps import AppSpec
from bench.scenarios import SCENARIOS, Scenario, check

__all__ = [
    "Server",
    "free_port",
    "parse_wrk",
    "pin_to_core",
    "request_once",
    "run_plan",
    "server_command",
    "wrk_script",
]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


def pin_to_core(core: int) -> list[str]:
    """``taskset -c core`` when there are at least two cores to split between server and load generator."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", str(core)]
    return []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_command(server: str, target: str, port: int) -> list[str]:
    """The command line that serves ``target`` (``module:attribute``) with one worker on ``HOST:port``."""
    if server == "uvicorn":
        return [
            *(sys.executable, "-m", "uvicorn", target, "--host", HOST, "--port", str(port)),
            *("--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log"),
        ]
    if server == "granian":
        return [
            *(str(BIN / "granian"), "--interface", "asgi", "--host", HOST, "--port", str(port), "--workers", "1"),
            *("--loop", "uvloop", "--no-ws", "--log-level", "warning", "--no-access-log", target),
        ]
    if server == "gunicorn":
        return [str(BIN / "gunicorn"), "--workers", "1", "--bind", f"{HOST}:{port}", "--log-level", "warning", target]
    raise ValueError(f"unknown server {server!r}")


class Server:
    """A server process in its own process group; ``stop`` ends that group (and only it)."""

    def __init__(self, command: list[str], log: Path) -> None:
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [*pin_to_core(0), *command], cwd=ROOT, stdout=self.log, stderr=self.log, start_new_session=True
        )

    def wait_ready(self, port: int, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode} (see {self.log.name})")
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=2)
                conn.request("GET", path)
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout:.0f}s")

    def worker_pids(self) -> list[int]:
        """The server process and its children (the workers of gunicorn and granian)."""
        pids = [self.proc.pid]
        for pid in list(pids):
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                pids.extend(int(child) for child in task.read_text().split())
        return pids

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(5)
        except ProcessLookupError:
            pass
        finally:
            self.log.close()


def request_once(port: int, scenario: Scenario, cookie: str | None) -> str | None:
    """One real request for ``scenario``; None if the answer is right, else what is wrong."""
    headers = {"Accept": "*/*"}
    if scenario.content_type:
        headers["Content-Type"] = scenario.content_type
    if scenario.cookie and cookie:
        headers["Cookie"] = cookie
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request(scenario.method, scenario.target, body=scenario.body or None, headers=headers)
        response = conn.getresponse()
        body = response.read()
        got = {k.lower(): v for k, v in response.getheaders()}
        return check(scenario, response.status, got, body)
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def wrk_script(scenario: Scenario, cookie: str | None) -> str:
    """A wrk Lua script setting the scenario's method, body and headers."""
    lines = [f"wrk.method = {_lua_string(scenario.method)}"]
    if scenario.body:
        lines.append(f"wrk.body = {_lua_string(scenario.body.decode())}")
    if scenario.content_type:
        lines.append(f'wrk.headers["Content-Type"] = {_lua_string(scenario.content_type)}')
    if scenario.cookie and cookie:
        lines.append(f'wrk.headers["Cookie"] = {_lua_string(cookie)}')
    return "\n".join(lines) + "\n"


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/second, p99 in milliseconds, and the count of errors (non-2xx/3xx answers, socket errors)."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if sockets:
        # gunicorn's sync worker closes every connection: wrk counts those as read errors; count the rest.
        errors += int(sockets.group(1)) + int(sockets.group(3)) + int(sockets.group(4))
    return {
        "rps": float(rps.group(1)) if rps else None,
        "p99_ms": float(p99.group(1)) * _UNITS[p99.group(2)] if p99 else None,
        "errors": errors,
    }


def run_wrk(url: str, script: Path, duration: float, connections: int) -> dict[str, Any]:
    command = [
        *pin_to_core(1),
        *("wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency", "-s", str(script), url),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    return parse_wrk(proc.stdout)


class _Target:
    """One app object behind one server, and the scenarios loaded through it."""

    def __init__(self, spec: AppSpec, server: str, attribute: str, scenarios: list[str], logs: Path) -> None:
        self.key = f"{spec.name}@{server}"
        self.port = free_port()
        self.scenarios = scenarios
        self.cookie = spec.cookie() if "classic" in scenarios else None
        command = server_command(server, f"bench.apps.{spec.name}:{attribute}", self.port)
        self.server = Server(command, logs / f"server-{spec.name}-{server}-{attribute}.log")


def run_plan(
    plan: list[tuple[AppSpec, str, list[str]]],
    *,
    duration: float,
    runs: int,
    warmup: float,
    connections: int,
    logs: Path,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Load every ``(app, server, scenarios)`` of ``plan``; results as ``{"app@server": {scenario: {...}}}``.

    All servers are started first and the runs are interleaved (run 1 of everything, then run 2, ...), scenario
    by scenario with the floors first, so a slow spell on a shared machine lands on every app alike instead of on
    whichever ran then.
    """
    targets: list[_Target] = []
    results: dict[str, dict[str, dict[str, Any]]] = {}
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    try:
        for spec, server, scenarios in plan:
            results.setdefault(f"{spec.name}@{server}", {})
            by_attribute: dict[str, list[str]] = {}
            for name in scenarios:
                by_attribute.setdefault(spec.attribute(name), []).append(name)
            for attribute, names in by_attribute.items():
                targets.append(_Target(spec, server, attribute, names, logs))
        live: list[tuple[_Target, str]] = []
        for target in targets:
            try:
                target.server.wait_ready(target.port, SCENARIOS[target.scenarios[0]].path)
            except Exception as exc:  # a server that cannot start fails its scenarios, not the whole run
                for name in target.scenarios:
                    results[target.key][name] = {"rps": None, "p99_ms": None, "error": f"{type(exc).__name__}: {exc}"}
                continue
            for name in target.scenarios:
                problem = request_once(target.port, SCENARIOS[name], target.cookie)
                if problem:
                    results[target.key][name] = {"rps": None, "p99_ms": None, "error": problem}
                else:
                    live.append((target, name))
        # Scenario-major order, floors first: the numbers that get compared are taken seconds apart.
        order = list(SCENARIOS)
        live.sort(key=lambda pair: order.index(pair[1]))
        with tempfile.TemporaryDirectory(prefix="ketch-wrk-") as tmp:
            for target, name in live:
                script = Path(tmp) / f"{target.key}-{name}.lua"
                script.write_text(wrk_script(SCENARIOS[name], target.cookie))
            for run in range(runs + (1 if warmup > 0 else 0)):
                measured = not (warmup > 0 and run == 0)
                for target, name in live:
                    url = f"http://{HOST}:{target.port}{SCENARIOS[name].target}"
                    script = Path(tmp) / f"{target.key}-{name}.lua"
                    sample = run_wrk(url, script, duration if measured else warmup, connections)
                    if measured:
                        samples.setdefault((target.key, name), []).append(sample)
    finally:
        for target in targets:
            target.server.stop()
    for (key, name), got in samples.items():
        results[key][name] = _summary(got)
    return results


def _summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    rps = [s["rps"] for s in samples if s["rps"] is not None]
    p99 = [s["p99_ms"] for s in samples if s["p99_ms"] is not None]
    errors = sum(s["errors"] for s in samples)
    if not rps:
        return {"rps": None, "p99_ms": None, "error": "wrk reported nothing"}
    return {
        "rps": statistics.median(rps),
        "p99_ms": statistics.median(p99) if p99 else None,
        "runs": rps,
        "error": f"{errors} failed requests" if errors else None,
    }
