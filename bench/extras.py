"""The other costs: how long ``import <framework>`` takes, how much memory an idle worker holds, and how long an
app with many routes takes to build and answer its first request.

- Import time: the wall time of the ``import X`` statement in a fresh process (X being what an app imports, e.g.
  ``starlette.applications``, whose package ``__init__`` is empty), median over several processes; the
  interpreter's own start-up is not included.
- Idle RSS: the app's module served by its first server with one worker, after a few requests, from
  ``/proc/<pid>/status`` (for gunicorn and granian, the worker process).
- Start-up with N routes: in a fresh process, after the imports, the time to build the app with N routes
  (``many_routes(N)``) and then to answer its first request (lifespan start-up included: some frameworks plan
  their routes there, ketch among them), median over several processes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.apps import AppSpec, load

__all__ = ["idle_rss", "import_time", "startup_time"]

ROOT = Path(__file__).resolve().parents[1]


def import_time(module: str, runs: int) -> float | None:
    """Median wall time of ``import module`` in a fresh process, in milliseconds; None if it does not import."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    # Bytecode as a deployed app has it: written by an unmeasured first import (an editable install, like ketch
    # here, has no .pyc until then, and PYTHONDONTWRITEBYTECODE in the caller's environment would keep it so).
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    samples = []
    for attempt in range(runs + 1):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", env=env)
        if proc.returncode != 0:
            return None
        if attempt:
            samples.append(float(proc.stdout.strip()) * 1000)
    return statistics.median(samples)


def idle_rss(spec: AppSpec, logs: Path) -> float | None:
    """Resident memory (MiB) of the idle worker serving ``spec`` after 20 plaintext (or first scenario) requests."""
    from bench.e2e import Server, free_port, request_once, server_command
    from bench.scenarios import SCENARIOS

    server = spec.servers[0]
    scenario = SCENARIOS["plaintext" if "plaintext" in spec.scenarios else spec.scenarios[0]]
    port = free_port()
    target = f"bench.apps.{spec.name}:{spec.attribute(scenario.name)}"
    srv = Server(server_command(server, target, port), logs / f"rss-{spec.name}.log")
    try:
        srv.wait_ready(port, scenario.path)
        for _ in range(20):
            request_once(port, scenario, None)
        time.sleep(0.5)
        pids = srv.worker_pids()
        worker = pids[-1]  # the server itself for uvicorn, its one worker for gunicorn and granian
        for line in Path(f"/proc/{worker}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return None
    except Exception:
        return None
    finally:
        srv.stop()


def startup_time(app: str, routes: int, runs: int) -> dict[str, float] | None:
    """Median build and first-request times (ms) of ``many_routes(routes)``, each in a fresh process."""
    builds, firsts = [], []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-m", "bench.extras", "--startup-child", app, str(routes)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        if proc.returncode != 0:
            return None
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        if data.get("error"):
            return None
        builds.append(data["build_ms"])
        firsts.append(data["first_ms"])
    return {"build_ms": statistics.median(builds), "first_ms": statistics.median(firsts)}


def _startup_child(app: str, routes: int) -> None:
    from bench.inprocess import driver_for
    from bench.scenarios import Scenario

    spec = load(app)
    last = routes - 1
    scenario = Scenario("startup", "GET", f"/r{last}/7", 200, "application/json", "", json={"route": last, "id": 7})
    start = time.perf_counter()
    many = spec.module.many_routes(routes)
    built = time.perf_counter()
    driver = driver_for(spec.kind, many)
    status, headers, body = driver.call(driver.template(scenario, None))
    answered = time.perf_counter()
    driver.close()
    from bench.scenarios import check

    error = check(scenario, status, headers, body)
    print(json.dumps({"build_ms": (built - start) * 1000, "first_ms": (answered - built) * 1000, "error": error}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--startup-child", nargs=2, metavar=("APP", "ROUTES"))
    args = parser.parse_args()
    if args.startup_child:
        _startup_child(args.startup_child[0], int(args.startup_child[1]))


if __name__ == "__main__":
    main()
