"""Turning the collected results into Markdown tables: one per measurement, the targets, and RESULTS.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.apps import AppSpec
from bench.scenarios import SCENARIOS

__all__ = ["render", "targets"]

Results = dict[str, Any]
# (value, label) of the best app of a role, or None when none was measured.
Best = tuple[float, str] | None
# An app measured this much faster than the raw floor on the same server says more about the machine than the app.
NOISE = 1.10


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _k(value: float) -> str:
    return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}"


def _ratio(value: float | None, floor: float | None) -> str:
    if value is None or not floor:
        return ""
    return f" ({value / floor:.2f}x)"


def _cell(entry: dict[str, Any] | None, key: str, floor: float | None, fmt: Callable[[float], str]) -> str:
    if entry is None:
        return "–"
    if entry.get(key) is None:
        return "FAIL" if entry.get("error") else "–"
    return fmt(entry[key]) + _ratio(entry[key], floor)


def _scenario_columns(results: Results) -> list[str]:
    wanted = results["meta"]["scenarios"]
    return [name for name in SCENARIOS if name in wanted]


def _per_app_table(results: Results, specs: dict[str, AppSpec], section: str, key: str, fmt: Any) -> str:
    data = results.get(section) or {}
    columns = _scenario_columns(results)
    rows = []
    for name, spec in specs.items():
        if name not in data:
            continue
        floor_data = data.get(spec.floor, {})
        row = [spec.label]
        for scenario in columns:
            floor_entry = floor_data.get(scenario) or {}
            floor = floor_entry.get(key) if spec.role != "floor" else None
            row.append(_cell(data[name].get(scenario), key, floor, fmt))
        rows.append(row)
    return _table(["app", *columns], rows)


def _e2e_table(results: Results, specs: dict[str, AppSpec], key: str, fmt: Any, ratios: bool) -> str:
    data = results.get("e2e") or {}
    columns = _scenario_columns(results)
    rows = []
    for pair, by_scenario in data.items():
        name, server = pair.split("@")
        spec = specs[name]
        floor = data.get(f"{spec.floor}@{server}", {})
        row = [f"{spec.label} @ {server}"]
        for scenario in columns:
            floor_value = (floor.get(scenario) or {}).get(key) if ratios and spec.role != "floor" else None
            row.append(_cell(by_scenario.get(scenario), key, floor_value, fmt))
        rows.append(row)
    return _table(["app @ server", *columns], rows)


def _best(
    section: dict[str, Any], specs: dict[str, AppSpec], role: str, scenario: str, key: str, highest: bool = False
) -> Best:
    """(value, label) of the lowest ``key`` (highest with ``highest``) among apps of ``role`` for ``scenario``.

    Stopgap apps (``STOPGAP = True``) count only when no other app of the role has a value. None if none has one.
    """
    sign = -1 if highest else 1
    found = [
        (specs[name].stopgap, sign * entry[key], specs[name].label)
        for name, by_scenario in section.items()
        if name in specs and specs[name].role == role
        for entry in [by_scenario.get(scenario) or {}]
        if entry.get(key) is not None
    ]
    if not found:
        return None
    _, value, label = min(found)
    return sign * value, label


def _value(section: dict[str, Any], name: str, scenario: str, key: str) -> float | None:
    value = ((section.get(name) or {}).get(scenario) or {}).get(key)
    return float(value) if value is not None else None


def _on_server(e2e: dict[str, Any], server: str) -> dict[str, Any]:
    """The end-to-end results of one server, keyed by app name."""
    return {pair.split("@")[0]: by_scenario for pair, by_scenario in e2e.items() if pair.endswith(f"@{server}")}


def _status(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def _not_measured(what: str, *missing: str, second: str = "") -> list[str]:
    detail = f" ({', '.join(missing)})" if missing else ""
    return [what, _join(f"not measured{detail}", second), "–"]


# Targets of issue #6. In-process rows are judged on instructions (callgrind): times move with machine load.
HELLO = ("plaintext", "json")  # judged against the raw floor
TYPED = ("items", "users", "deps")  # judged against FastAPI (and, in-process, the best peer)


def targets(results: Results, specs: dict[str, AppSpec]) -> list[list[str]]:
    """One row per target of issue #6: what is checked, what was measured, and whether it is met."""
    return [*_in_process_rows(results, specs), *_e2e_rows(results, specs), *_extras_rows(results, specs)]


def _in_process_rows(results: Results, specs: dict[str, AppSpec]) -> list[list[str]]:
    cg = results.get("callgrind") or {}
    us = results.get("inprocess") or {}
    rows = [_floor_row(cg, us, specs, scenario) for scenario in HELLO]
    rows += [_peers_row(cg, us, specs, scenario) for scenario in TYPED]
    return [*rows, _sync_row(cg, us, specs), _peers_row(cg, us, specs, "classic")]


def _floor_row(cg: dict[str, Any], us: dict[str, Any], specs: dict[str, AppSpec], scenario: str) -> list[str]:
    what = f"instructions/request, {scenario}: ketch <= 2x raw ASGI"
    ketch = _best(cg, specs, "ketch", scenario, "instr")
    base = _value(cg, "raw_asgi", scenario, "instr")
    second = _us_vs_floor(us, specs, scenario)
    if ketch is None or not base:
        return _not_measured(what, *_absent(("ketch", ketch), ("raw ASGI", base)), second=second)
    ratio = ketch[0] / base
    return [what, _join(f"{ratio:.2f}x ({_k(ketch[0])} vs {_k(base)})", second), _status(ratio <= 2)]


def _us_vs_floor(us: dict[str, Any], specs: dict[str, AppSpec], scenario: str) -> str:
    """The second figure of a floor row: microseconds and their ratio to the raw floor."""
    ketch = _best(us, specs, "ketch", scenario, "us")
    base = _value(us, "raw_asgi", scenario, "us")
    if ketch is None or not base:
        return ""
    return f"µs: {ketch[0] / base:.2f}x ({ketch[0]:.2f} vs {base:.2f})"


def _contenders(
    section: dict[str, Any], specs: dict[str, AppSpec], scenario: str, key: str
) -> tuple[Best, Best, float | None]:
    """(ketch, best peer, FastAPI) for ``scenario``: the first two as (value, label), FastAPI as a value."""
    best_peer = _best(section, specs, "peer", scenario, key)
    return _best(section, specs, "ketch", scenario, key), best_peer, _value(section, "fastapi", scenario, key)


def _peers_row(cg: dict[str, Any], us: dict[str, Any], specs: dict[str, AppSpec], scenario: str) -> list[str]:
    what = f"instructions/request, {scenario}: ketch < best peer and <= 1/4 FastAPI"
    ketch, peer, fastapi = _contenders(cg, specs, scenario, "instr")
    second = _us_vs_peers(us, specs, scenario)
    if ketch is None or peer is None or not fastapi:
        return _not_measured(what, *_absent(("ketch", ketch), ("peers", peer), ("FastAPI", fastapi)), second=second)
    measured = _join(
        f"{ketch[1]}: {_k(ketch[0])}",
        f"best peer {peer[1]}: {_k(peer[0])}",
        f"FastAPI: {_k(fastapi)} ({fastapi / ketch[0]:.1f}x ketch)",
        _below_floor(cg, scenario, fastapi, 4),
        second,
    )
    return [what, measured, _status(ketch[0] < peer[0] and ketch[0] <= fastapi / 4)]


def _sync_row(cg: dict[str, Any], us: dict[str, Any], specs: dict[str, AppSpec]) -> list[str]:
    """deps_sync: the target is 1/5 of FastAPI; the best peer is shown for information only."""
    what = "instructions/request, deps_sync (sync providers): ketch <= 1/5 FastAPI"
    ketch, peer, fastapi = _contenders(cg, specs, "deps_sync", "instr")
    second = _us_vs_peers(us, specs, "deps_sync")
    if ketch is None or not fastapi:
        return _not_measured(what, *_absent(("ketch", ketch), ("FastAPI", fastapi)), second=second)
    info = ""
    if peer is not None:
        info = f"best peer {peer[1]}: {_k(peer[0])} (ketch {'ahead' if ketch[0] < peer[0] else 'behind'})"
    measured = _join(
        f"{ketch[1]}: {_k(ketch[0])}",
        f"FastAPI: {_k(fastapi)} ({fastapi / ketch[0]:.1f}x ketch)",
        info,
        _below_floor(cg, "deps_sync", fastapi, 5),
        second,
    )
    return [what, measured, _status(ketch[0] <= fastapi / 5)]


def _absent(*named: tuple[str, Any]) -> list[str]:
    """The names whose value was not measured (None, or a zero that cannot be divided by); none if all are."""
    absent = [name for name, value in named if not value]
    return absent if len(absent) < len(named) else []


def _below_floor(cg: dict[str, Any], scenario: str, fastapi: float, divisor: int) -> str:
    """A note when the FastAPI fraction asked for is cheaper than the raw floor itself (so beyond reach)."""
    base = _value(cg, "raw_asgi", scenario, "instr")
    if base is None or fastapi / divisor >= base:
        return ""
    return f"NB FastAPI/{divisor} = {_k(fastapi / divisor)} is below the raw floor ({_k(base)})"


def _us_vs_peers(us: dict[str, Any], specs: dict[str, AppSpec], scenario: str) -> str:
    """The second figure of a peer row: ketch, the best peer and FastAPI in microseconds."""
    ketch, peer, fastapi = _contenders(us, specs, scenario, "us")
    if ketch is None:
        return ""
    parts = [f"µs: {ketch[1]} {ketch[0]:.2f}"]
    if peer is not None:
        parts.append(f"best peer {peer[1]} {peer[0]:.2f}")
    if fastapi is not None:
        parts.append(f"FastAPI {fastapi:.2f}" + (f" ({fastapi / ketch[0]:.1f}x ketch)" if ketch[0] else ""))
    return ", ".join(parts)


def _e2e_rows(results: Results, specs: dict[str, AppSpec]) -> list[list[str]]:
    on = _on_server(results.get("e2e") or {}, "uvicorn")
    rows = [_e2e_floor_row(on, specs, scenario) for scenario in HELLO]
    rows += [_e2e_fastapi_row(on, specs, scenario) for scenario in TYPED]
    return rows + [_e2e_peers_row(on, specs, scenario) for scenario in SCENARIOS]


def _e2e_floor_row(on: dict[str, Any], specs: dict[str, AppSpec], scenario: str) -> list[str]:
    what = f"end-to-end req/s on uvicorn (1 worker), {scenario}: ketch >= 0.9x raw ASGI"
    ketch = _best(on, specs, "ketch", scenario, "rps", highest=True)
    base = _value(on, "raw_asgi", scenario, "rps")
    if ketch is None or not base:
        return _not_measured(what, *_absent(("ketch", ketch), ("raw ASGI", base)))
    ratio = ketch[0] / base
    status = "unreliable (faster than the floor: noise)" if ratio > NOISE else _status(ratio >= 0.9)
    return [what, f"{ratio:.2f}x ({ketch[0]:,.0f} vs {base:,.0f})", status]


def _e2e_fastapi_row(on: dict[str, Any], specs: dict[str, AppSpec], scenario: str) -> list[str]:
    what = f"end-to-end req/s on uvicorn (1 worker), {scenario}: ketch >= 2x FastAPI"
    ketch = _best(on, specs, "ketch", scenario, "rps", highest=True)
    fastapi = _value(on, "fastapi", scenario, "rps")
    if ketch is None or not fastapi:
        return _not_measured(what, *_absent(("ketch", ketch), ("FastAPI", fastapi)))
    ratio = ketch[0] / fastapi
    return [what, f"{ratio:.2f}x ({ketch[1]}: {ketch[0]:,.0f} vs FastAPI: {fastapi:,.0f})", _status(ratio >= 2)]


def _e2e_peers_row(on: dict[str, Any], specs: dict[str, AppSpec], scenario: str) -> list[str]:
    what = f"end-to-end req/s on uvicorn (1 worker), {scenario}: ketch ahead of every peer"
    ketch = _best(on, specs, "ketch", scenario, "rps", highest=True)
    peer = _best(on, specs, "peer", scenario, "rps", highest=True)
    if ketch is None or not peer:
        return _not_measured(what, *_absent(("ketch", ketch), ("peers", peer)))
    measured = (
        f"{ketch[1]}: {ketch[0]:,.0f}; fastest peer {peer[1]}: {peer[0]:,.0f} (ketch {ketch[0] / peer[0] - 1:+.0%})"
    )
    return [what, measured, _status(ketch[0] > peer[0])]


def _extras_rows(results: Results, specs: dict[str, AppSpec]) -> list[list[str]]:
    return [_classic_row(results, specs), _import_row(results), _startup_row(results, specs)]


def _classic_row(results: Results, specs: dict[str, AppSpec]) -> list[str]:
    """Both servers run one worker (bench/e2e.py: uvicorn's default, gunicorn ``--workers 1`` sync)."""
    what = "end-to-end req/s, classic face: ketch on uvicorn >= 3x Flask on gunicorn (sync workers), equal workers"
    e2e = results.get("e2e") or {}
    ketch = _best(_on_server(e2e, "uvicorn"), specs, "ketch", "classic", "rps", highest=True)
    flask = _value(_on_server(e2e, "gunicorn"), "flask", "classic", "rps")
    if ketch is None or not flask:
        return _not_measured(what, *_absent(("ketch", ketch), ("Flask", flask)))
    ratio = ketch[0] / flask
    measured = f"{ratio:.2f}x ({ketch[1]} @ uvicorn: {ketch[0]:,.0f} vs Flask @ gunicorn: {flask:,.0f}); 1 worker each"
    return [what, measured, _status(ratio >= 3)]


def _import_row(results: Results) -> list[str]:
    what = "import time: ketch no slower than FastAPI"
    imports = (results.get("extras") or {}).get("import") or {}
    ketch, fastapi = imports.get("ketch"), imports.get("fastapi")
    if ketch is None or not fastapi:
        return _not_measured(what, *_absent(("ketch", ketch), ("FastAPI", fastapi)))
    return [what, f"{ketch / fastapi:.2f}x ({ketch:.1f} ms vs {fastapi:.1f} ms)", _status(ketch <= fastapi)]


def _startup_row(results: Results, specs: dict[str, AppSpec]) -> list[str]:
    what = "start-up: a 200-route app builds and answers its first request in under 1 s"
    extras = results.get("extras") or {}
    totals = {
        name: {"startup": {"ms": entry["build_ms"] + entry["first_ms"]}}
        for name, entry in (extras.get("startup") or {}).items()
        if entry
    }
    ketch = _best(totals, specs, "ketch", "startup", "ms")
    if ketch is None:
        return _not_measured(what)
    routes = results.get("meta", {}).get("settings", {}).get("routes", 200)
    return [what, f"{ketch[1]}, {routes} routes: {ketch[0]:.1f} ms", _status(ketch[0] < 1000)]


def _missing(results: Results, specs: dict[str, AppSpec]) -> str:
    lines = []
    for spec in specs.values():
        gaps = [f"{s} ({why})" for s, why in spec.missing.items() if s in results["meta"]["scenarios"]]
        if gaps:
            lines.append(f"- {spec.label}: " + "; ".join(gaps))
    return "\n".join(lines)


def _extras(results: Results, specs: dict[str, AppSpec]) -> list[tuple[str, str]]:
    extras = results.get("extras") or {}
    out = []
    if extras.get("import"):
        rows = [[module, f"{ms:.1f}" if ms is not None else "FAIL"] for module, ms in extras["import"].items()]
        out.append(("Import time (`import X` in a fresh process, median; ms)", _table(["import", "ms"], rows)))
    if extras.get("rss"):
        rows = [
            [specs[name].label, specs[name].servers[0], f"{mib:.1f}" if mib is not None else "FAIL"]
            for name, mib in extras["rss"].items()
        ]
        out.append(("Idle worker RSS after 20 requests (MiB)", _table(["app", "server", "MiB"], rows)))
    if extras.get("startup"):
        rows = []
        for name, entry in extras["startup"].items():
            if entry is None:
                rows.append([specs[name].label, "FAIL", "FAIL", "FAIL"])
                continue
            total = entry["build_ms"] + entry["first_ms"]
            rows.append([specs[name].label, f"{entry['build_ms']:.1f}", f"{entry['first_ms']:.1f}", f"{total:.1f}"])
        routes = results["meta"]["settings"].get("routes", 200)
        title = f"Start-up of an app with {routes} routes (ms, median of fresh processes, imports excluded)"
        out.append((title, _table(["app", "build", "first request", "total"], rows)))
    return out


def _meta(results: Results) -> str:
    meta = results["meta"]
    versions = ", ".join(f"{name} {version}" for name, version in meta["versions"].items())
    lines = [
        f"- Date: {meta['date']} (mode: {meta['mode']}{', filtered' if meta.get('filtered') else ''})",
        f"- Commit: {meta.get('commit') or 'unknown'}",
        f"- Machine: {meta['machine']}",
        f"- Python: {meta['python']}",
        f"- Versions: {versions}",
        f"- Settings: {', '.join(f'{k}={v}' for k, v in meta['settings'].items())}",
        "- Load average (1, 5, 15 min): " + "; ".join(f"{when}: {value}" for when, value in meta["load"].items()),
    ]
    return "\n".join(lines)


def render(results: Results, specs: dict[str, AppSpec], notes: str = "") -> str:
    """The whole report as Markdown: metadata, one table per measurement, targets, gaps and notes."""
    specs = {name: spec for name, spec in specs.items() if name in results["meta"]["apps"]}
    parts = ["# ketch benchmark results", "", _meta(results)]

    def section(title: str, body: str) -> None:
        parts.extend(["", f"## {title}", "", body])

    if results.get("inprocess"):
        section(
            "A. In-process time (µs per request, net of the driver; ratio to the raw floor)",
            _per_app_table(results, specs, "inprocess", "us", lambda v: f"{v:.2f}"),
        )
    if results.get("callgrind"):
        section(
            "A. In-process instructions per request (callgrind, net of the driver; ratio to the raw floor)",
            _per_app_table(results, specs, "callgrind", "instr", _k),
        )
    if results.get("e2e"):
        section(
            "B. End to end: requests/second (median; ratio to the raw floor on the same server)",
            _e2e_table(results, specs, "rps", lambda v: f"{v:,.0f}", True),
        )
        section("B. End to end: p99 latency (ms, median of runs)", _e2e_table(results, specs, "p99_ms", _ms, False))
    for title, body in _extras(results, specs):
        section(title, body)
    section("Targets (reported, never gated)", _table(["target", "measured", "status"], targets(results, specs)))
    missing = _missing(results, specs)
    if missing:
        section("Scenarios an app does not cover (–)", missing)
    failures = _failures(results, specs)
    if failures:
        section("Failures (FAIL)", failures)
    implausible = _implausible(results, specs)
    if implausible:
        section("Implausible end-to-end results (faster than the raw floor: the machine was busy)", implausible)
    if notes:
        section("Notes", notes)
    return "\n".join(parts) + "\n"


def _ms(value: float) -> str:
    return f"{value:.2f}"


def _failures(results: Results, specs: dict[str, AppSpec]) -> str:
    lines = []
    for section in ("inprocess", "callgrind"):
        for name, by_scenario in (results.get(section) or {}).items():
            for scenario, entry in by_scenario.items():
                if isinstance(entry, dict) and entry.get("error"):
                    lines.append(f"- {section}, {specs[name].label}, {scenario}: {entry['error']}")
    for pair, by_scenario in (results.get("e2e") or {}).items():
        for scenario, entry in by_scenario.items():
            if entry.get("error"):
                lines.append(f"- e2e, {pair}, {scenario}: {entry['error']}")
    return "\n".join(lines)


def _implausible(results: Results, specs: dict[str, AppSpec]) -> str:
    data = results.get("e2e") or {}
    lines = []
    for pair, by_scenario in data.items():
        name, server = pair.split("@")
        floor = data.get(f"{specs[name].floor}@{server}", {})
        for scenario, entry in by_scenario.items():
            base = (floor.get(scenario) or {}).get("rps")
            if specs[name].role != "floor" and entry.get("rps") and base and entry["rps"] > NOISE * base:
                lines.append(f"- {specs[name].label} @ {server}, {scenario}: {entry['rps'] / base:.2f}x the floor")
    return "\n".join(lines)
