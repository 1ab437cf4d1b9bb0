"""Measurement A, instructions: how many CPU instructions one request costs, counted by valgrind's callgrind.

One valgrind process per app. Inside it (``--child``), after imports, start-up and a warm-up, each scenario's
batch of N requests runs inside ``sys.call_tracing(...)``; callgrind is told to zero its counters when that C
function is entered and to dump them when it is left (``--zero-before``/``--dump-after``), so each dump counts
exactly one batch, worker threads included. The batch for an empty app is dumped first, and subtracted: what is
left is the app's own cost per request. Import and start-up are never counted, so one run per app suffices
(rather than an N-request run minus a 0-request run per scenario, which counts the same thing twice as slowly).

Counts are deterministic to well under 1 %: unlike times, they do not move with machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

__all__ = ["measure", "read_totals"]

ROOT = Path(__file__).resolve().parents[1]
MARKER = "sys_call_tracing"


def read_totals(path: Path) -> int:
    """The instruction count of one callgrind output file (its ``totals:`` or ``summary:`` line)."""
    for line in path.read_text().splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise ValueError(f"no totals in {path}")


def _child(app: str, scenarios: list[str], number: int) -> None:
    """Runs under valgrind: marked batches for the empty app, then for each scenario that answers right."""
    from bench.apps import load
    from bench.inprocess import AppDrivers, check_scenario, null_asgi, null_wsgi, settle
    from bench.scenarios import SCENARIOS

    spec = load(app)
    drivers = AppDrivers(spec)
    batches: list[str] = []
    errors: dict[str, str] = {}

    def batch(label: str, run: Any) -> None:
        # NOTE: the first marked batch of a code path costs a few hundred thousand instructions more than the
        # next ones (a one-off, measured: the same whatever N is), so each is run twice and only the second kept.
        for prefix in ("_warm:", ""):
            settle()
            sys.call_tracing(run, ())
            batches.append(prefix + label)

    null = drivers.any()
    null_app = null_asgi if spec.kind == "asgi" else null_wsgi
    batch("_null", null.runner(null.template(SCENARIOS["plaintext"], None), number, null_app))
    for name in scenarios:
        error = check_scenario(drivers, name)
        if error:
            errors[name] = error
            continue
        driver = drivers.for_scenario(name)
        batch(name, driver.runner(driver.template(SCENARIOS[name], drivers.cookie), number))
    drivers.close()
    print(json.dumps({"batches": batches, "errors": errors}))


def measure_app(app: str, scenarios: list[str], number: int, log: Path | None = None) -> dict[str, Any]:
    """``{"null": instr/req of the driver, scenario: {"instr": net instr/req, "error": ...}}`` for one app."""
    with tempfile.TemporaryDirectory(prefix="ketch-cg-") as tmp:
        out = Path(tmp) / "cg.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            f"--zero-before={MARKER}",
            f"--dump-after={MARKER}",
            sys.executable,
            "-m",
            "bench.callgrind",
            "--child",
            app,
            "--scenarios",
            ",".join(scenarios),
            "--number",
            str(number),
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        if log is not None:
            log.write_text(proc.stderr)
        if proc.returncode != 0:
            lines = [line for line in proc.stderr.strip().splitlines() if not line.startswith("==")]  # not valgrind's
            tail = lines[-3:] or [f"exit status {proc.returncode}"]
            return {"null": None, **{s: {"instr": None, "error": " / ".join(tail)} for s in scenarios}}
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        dumps = sorted(Path(tmp).glob("cg.out.*"), key=lambda p: int(p.suffix[1:]))
        if len(dumps) != len(report["batches"]):
            problem = f"expected {len(report['batches'])} callgrind dumps, got {len(dumps)} (is {MARKER} a symbol?)"
            return {"null": None, **{s: {"instr": None, "error": problem} for s in scenarios}}
        totals = {
            label: read_totals(path) / number
            for label, path in zip(report["batches"], dumps, strict=True)
            if not label.startswith("_warm:")
        }
    null = totals.pop("_null")
    result: dict[str, Any] = {"null": null}
    for name in scenarios:
        if name in totals:
            result[name] = {"instr": totals[name] - null, "error": None}
        else:
            result[name] = {"instr": None, "error": report["errors"].get(name, "not run")}
    return result


def measure(
    plan: dict[str, list[str]], number: int, jobs: int = 2, logs: Path | None = None
) -> dict[str, dict[str, Any]]:
    """Run ``measure_app`` for every ``{app: scenarios}`` in ``plan``, ``jobs`` valgrind processes at a time.

    Instruction counts do not depend on what else runs, so running apps in parallel is safe.
    """

    def one(app: str) -> dict[str, Any]:
        log = logs / f"callgrind-{app}.log" if logs else None
        return measure_app(app, plan[app], number, log)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(zip(plan, pool.map(one, plan), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("app")
    parser.add_argument("--scenarios", default="plaintext,json")
    parser.add_argument("--number", type=int, default=200)
    args = parser.parse_args()
    scenarios = [s for s in args.scenarios.split(",") if s]
    if args.child:
        _child(args.app, scenarios, args.number)
        return
    print(json.dumps(measure_app(args.app, scenarios, args.number), indent=2))


if __name__ == "__main__":
    main()
