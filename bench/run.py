"""The one benchmark command: ``python bench/run.py [--quick] [--only ketch,fastapi] [--scenarios ...]
[--no-e2e] [--no-callgrind]`` (``scripts/bench`` calls it).

It creates bench/.venv (once, and again when bench/requirements.txt or pyproject.toml change), installs ketch
from the repo and the peers at pinned versions, re-runs itself inside that venv, installs wrk if missing (apt),
then measures, prints one table per measurement and writes the report: bench/RESULTS.md for a full run,
bench/results/quick.md for ``--quick``. Raw numbers and logs go to bench/results/ (not committed).
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
REQUIREMENTS = BENCH / "requirements.txt"
STAMP = VENV / ".bench-installed"
RESULTS_DIR = BENCH / "results"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# What each mode does; every value can be overridden on the command line.
MODES: dict[str, dict[str, Any]] = {
    "full": {
        "number": 2000,
        "repeat": 7,
        "warmup": 300,
        "cg_number": 200,
        "cg_apps": None,
        "cg_scenarios": None,
        "duration": 3.0,
        "runs": 5,  # end-to-end figures on a shared 2-core machine swing by +-10%: the median of 5 rounds holds
        "e2e_warmup": 1.0,
        "e2e_apps": None,
        "e2e_scenarios": None,
        "e2e_servers": None,
        "import_runs": 9,
        "startup_runs": 5,
        "extras_apps": None,
    },
    "quick": {
        "number": 300,
        "repeat": 3,
        "warmup": 50,
        "cg_number": 100,
        "cg_apps": ["raw_asgi", "raw_wsgi", "ketch", "fastapi", "flask"],
        "cg_scenarios": ["plaintext", "json"],
        "duration": 1.0,
        "runs": 1,
        "e2e_warmup": 0.0,
        "e2e_apps": ["raw_asgi", "ketch", "fastapi"],
        "e2e_scenarios": ["plaintext", "json"],
        "e2e_servers": ["uvicorn"],
        "import_runs": 3,
        "startup_runs": 2,
        "extras_apps": ["raw_asgi", "ketch", "fastapi", "flask"],
    },
}
# {distribution: the module an app imports}
IMPORTS = {
    "ketch": "ketch",
    "fastapi": "fastapi",
    "flask": "flask",
    "starlette": "starlette.applications",
    "litestar": "litestar",
    "quart": "quart",
    "blacksheep": "blacksheep",
    "falcon": "falcon.asgi",
    "sanic": "sanic",
}
STARTUP_ROUTES = 200

NOTES = """\
- **What is measured.** Every app answers the same requests (bench/scenarios.py); every answer is checked
  before it is measured, and each validating scenario must also refuse bad input with a 4xx. An app that answers
  wrong shows FAIL, never a number.
- **In-process** calls the app object directly (ASGI: synthetic scope/receive/send on one asyncio loop after
  lifespan start-up; WSGI: a PEP 3333 environ and start_response). Times are medians of repeated runs; the cost
  of the same loop around an empty app is subtracted from times and instruction counts alike, so the numbers are
  the app's own. Instructions come from valgrind's callgrind (see bench/callgrind.py): unlike times, they do not
  move with machine load, so they are the numbers to trust on a busy machine.
- **Ratios** are to the raw ASGI app (the raw WSGI app for WSGI apps), which is hand-written against the
  protocol with the standard library (stdlib `json` for encoding, `urllib.parse` for queries), itsdangerous and
  Jinja2. ketch and FastAPI encode JSON with pydantic-core, which is cheaper than stdlib `json`; so on the `json`
  scenario part of what the floor pays is its encoder, and ratios there flatter the frameworks that use a faster one.
- **Hand validation.** Frameworks that ship no validator (Starlette, Flask, Quart, Falcon, Sanic) and
  "ketch (core, hand-validated)" validate items and users with the same hand-written checks
  (bench/apps/_shared.py). That is not ketch's typed face ("ketch (typed)"), which validates with type hints.
- **Dependencies.** Only frameworks with dependency injection run `deps`/`deps_sync`; FastAPI runs sync providers
  in its thread pool (as it always does), Litestar with `sync_to_thread=False` (as its docs advise for
  non-blocking providers), BlackSheep's container is sync only. "ketch (typed)" declares its non-blocking sync
  providers with `Depends(..., sync_to_thread=False)` (they run on the loop, as Litestar's do); "ketch (typed, sync
  providers on the thread pool)" keeps FastAPI's semantics (one thread hop for the chain). The raw floors call the
  chain by hand.
- **Classic.** "ketch (classic)" declares its view non-blocking (`@app.route(..., sync_to_thread=False)`: the request
  sequence runs on the loop); "ketch (classic, view on the thread pool)" is the default (one thread hop per
  request, as a WSGI worker runs a view). Flask runs on gunicorn's sync worker, one worker like every other server.
- **End to end** runs one worker per server pinned to core 0, wrk (1 thread) pinned to core 1; granian runs the
  plaintext and json scenarios only. On a machine where other work is running (see the load averages above) these
  numbers are noisy: an app "faster" than its raw floor is the tell (listed under "Implausible" when it happens).
  gunicorn's default sync worker closes every connection, so WSGI numbers include a TCP connect per request.
"""


def _stamp_value() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + (ROOT / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def ensure_venv(argv: list[str]) -> None:
    """Create and fill bench/.venv when needed, then re-run this command inside it."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not VENV_PYTHON.exists():
        print(f"creating {VENV.relative_to(ROOT)} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if not STAMP.exists() or STAMP.read_text() != _stamp_value():
        print("installing ketch (editable) and the pinned peers ...", flush=True)
        pip = [str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-e", str(ROOT), "-r", str(REQUIREMENTS)], check=True)
        STAMP.write_text(_stamp_value())
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *argv])


def ensure_wrk() -> bool:
    """wrk on PATH, installing the Debian package when we can; False if e2e cannot run."""
    if shutil.which("wrk"):
        return True
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("installing wrk (apt-get) ...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
    return shutil.which("wrk") is not None


def _machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    return f"{platform.system()} {platform.release()} {platform.machine()}, {model}, {os.cpu_count()} cores{memory}"


def _versions(specs: dict[str, Any]) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    names = [s.distribution for s in specs.values() if s.distribution]
    names += ["pydantic", "pydantic-core", "uvicorn", "uvloop", "httptools", "granian", "gunicorn"]
    found: dict[str, str] = {}
    for name in dict.fromkeys(names):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def _commit() -> str | None:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True)
    return proc.stdout.strip() + (" (src/ has uncommitted changes)" if dirty.stdout.strip() else "")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _child_json(command: list[str], log: Path, timeout: float) -> Any:
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    log.write_text(proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(" / ".join(proc.stderr.strip().splitlines()[-3:]))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_inprocess(plan: dict[str, list[str]], cfg: dict[str, Any], logs: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    from bench.e2e import pin_to_core

    results: dict[str, Any] = {}
    nulls: dict[str, Any] = {}
    for app, scenarios in plan.items():
        _say(f"  in-process: {app}")
        command = [
            *pin_to_core(1),
            *(sys.executable, "-m", "bench.inprocess", app, "--scenarios", ",".join(scenarios)),
            *("--number", str(cfg["number"]), "--repeat", str(cfg["repeat"]), "--warmup", str(cfg["warmup"])),
        ]
        try:
            data = _child_json(command, logs / f"inprocess-{app}.log", timeout=900)
            results[app], nulls[app] = data["scenarios"], data["null_us"]
        except Exception as exc:
            results[app] = {s: {"us": None, "error": str(exc)} for s in scenarios}
    return results, nulls


def run_callgrind(plan: dict[str, list[str]], cfg: dict[str, Any], logs: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    from bench.callgrind import measure

    if not shutil.which("valgrind"):
        _say("  callgrind: valgrind is not installed, skipped")
        return {}, {}
    _say(f"  callgrind: {', '.join(plan)} (2 at a time)")
    raw = measure(plan, cfg["cg_number"], jobs=2, logs=logs)
    nulls = {app: data.pop("null") for app, data in raw.items()}
    return raw, nulls


def run_e2e(plan: list[tuple[str, str, list[str]]], specs: dict[str, Any], cfg: dict[str, Any], logs: Path) -> Any:
    from bench.e2e import run_plan

    pairs = ", ".join(f"{app}@{server}" for app, server, _ in plan)
    _say(f"  e2e: {pairs}; {cfg['runs']} interleaved runs of {cfg['duration']:g}s per scenario")
    return run_plan(
        [(specs[app], server, scenarios) for app, server, scenarios in plan],
        duration=cfg["duration"],
        runs=cfg["runs"],
        warmup=cfg["e2e_warmup"],
        connections=cfg["connections"],
        logs=logs,
    )


def run_extras(apps: list[str], specs: dict[str, Any], cfg: dict[str, Any], logs: Path) -> dict[str, Any]:
    from bench.extras import idle_rss, import_time, startup_time

    modules = [m for d, m in IMPORTS.items() if d == "ketch" or any(s.distribution == d for s in specs.values())]
    if cfg["mode"] == "quick":
        modules = [m for m in modules if m in ("ketch", "fastapi", "flask")]
    _say(f"  extras: import time of {', '.join(modules)}")
    imports = {m: import_time(m, cfg["import_runs"]) for m in modules}
    _say("  extras: idle RSS and start-up")
    rss = {app: idle_rss(specs[app], logs) for app in apps if specs[app].servers}
    startup = {
        app: startup_time(app, STARTUP_ROUTES, cfg["startup_runs"])
        for app in apps
        if hasattr(specs[app].module, "many_routes")
    }
    return {"import": imports, "rss": rss, "startup": startup}


def _select(names: list[str] | None, default: list[str]) -> list[str]:
    return [n for n in default if names is None or n in names]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (< 3 minutes)")
    parser.add_argument("--only", help="comma-separated apps (module names in bench/apps/)")
    parser.add_argument("--scenarios", help="comma-separated scenarios")
    parser.add_argument("--no-inprocess", action="store_true")
    parser.add_argument("--no-callgrind", action="store_true")
    parser.add_argument("--no-e2e", action="store_true")
    parser.add_argument("--no-extras", action="store_true")
    parser.add_argument("--check", action="store_true", help="only check every app answers every scenario right")
    parser.add_argument("--duration", type=float, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, help="wrk runs per scenario (the median is reported)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--number", type=int, help="requests per in-process timed run")
    parser.add_argument("--repeat", type=int, help="in-process timed runs")
    parser.add_argument("--cg-number", type=int, help="requests per scenario under callgrind")
    parser.add_argument("--output", type=Path, help="where to write the Markdown report")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    ensure_venv(argv)
    # Every app measured with its bytecode cached, as deployed: ketch is installed editable (no .pyc until first
    # imported), and PYTHONDONTWRITEBYTECODE in the caller's environment would keep every child compiling it.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(str(ROOT / "src" / "ketch"), quiet=1)
    from bench.apps import app_names, load
    from bench.inprocess import check_app
    from bench.report import render
    from bench.scenarios import scenario_names

    args = parse_args(argv)
    mode = "quick" if args.quick else "full"
    cfg = {**MODES[mode], "mode": mode, "connections": args.connections}
    for key in ("duration", "runs", "number", "repeat", "cg_number"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    only = args.only.split(",") if args.only else None
    wanted = args.scenarios.split(",") if args.scenarios else None
    names = _select(only, app_names())
    scenarios = _select(wanted, scenario_names())
    specs = {name: load(name) for name in names}
    plan = {n: [s for s in scenarios if s in specs[n].scenarios] for n in names}
    plan = {n: s for n, s in plan.items() if s}

    if args.check:
        bad = 0
        for name, wanted_scenarios in plan.items():
            for scenario, problem in check_app(specs[name], wanted_scenarios).items():
                print(f"{'FAIL' if problem else 'ok  '} {name:12} {scenario:10} {problem or ''}")
                bad += bool(problem)
        return 1 if bad else 0

    RESULTS_DIR.mkdir(exist_ok=True)
    logs = RESULTS_DIR / "logs"
    logs.mkdir(exist_ok=True)
    started = time.monotonic()
    settings = {k: cfg[k] for k in ("number", "repeat", "cg_number", "duration", "runs", "connections") if k in cfg} | {
        "routes": STARTUP_ROUTES
    }
    results: dict[str, Any] = {
        "meta": {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "mode": mode,
            "filtered": bool(only or wanted),
            "commit": _commit(),
            "machine": _machine(),
            "python": platform.python_version(),
            "versions": _versions(specs),
            "settings": settings,
            "load": {"start": _load()},
            "apps": names,
            "scenarios": scenarios,
        }
    }
    if not args.no_inprocess:
        _say("A. in-process time")
        results["inprocess"], results["inprocess_null_us"] = run_inprocess(plan, cfg, logs)
        results["meta"]["load"]["after inprocess"] = _load()
    if not args.no_callgrind:
        _say("A. in-process instructions")
        cg_apps = _select(cfg["cg_apps"], names)
        cg_scenarios = _select(cfg["cg_scenarios"], scenarios)
        cg_plan = {n: [s for s in plan.get(n, []) if s in cg_scenarios] for n in cg_apps}
        results["callgrind"], results["callgrind_null"] = run_callgrind(
            {n: s for n, s in cg_plan.items() if s}, cfg, logs
        )
        results["meta"]["load"]["after callgrind"] = _load()
    if not args.no_e2e:
        if ensure_wrk():
            _say("B. end to end")
            e2e_plan = []
            for name in _select(cfg["e2e_apps"], names):
                chosen = [s for s in plan.get(name, []) if s in _select(cfg["e2e_scenarios"], scenarios)]
                for i, server in enumerate(_select(cfg["e2e_servers"], list(specs[name].servers))):
                    # An app's second server (granian) runs the hello-world scenarios only: it bounds the run.
                    on_server = chosen if i == 0 else [s for s in chosen if s in ("plaintext", "json")]
                    if on_server:
                        e2e_plan.append((name, server, on_server))
            results["e2e"] = run_e2e(e2e_plan, specs, cfg, logs)
            results["meta"]["load"]["after e2e"] = _load()
        else:
            _say("B. end to end: wrk is not available, skipped")
    if not args.no_extras:
        _say("extras")
        results["extras"] = run_extras(_select(cfg["extras_apps"], names), specs, cfg, logs)
        results["meta"]["load"]["after extras"] = _load()
    results["meta"]["elapsed_s"] = round(time.monotonic() - started)

    report = render(results, specs, NOTES)
    print(report)
    output = args.output or (RESULTS_DIR / "quick.md" if args.quick else BENCH / "RESULTS.md")
    output.write_text(report)
    (RESULTS_DIR / f"{mode}.json").write_text(json.dumps(results, indent=1))
    _say(f"wrote {output} in {results['meta']['elapsed_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
