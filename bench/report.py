"""Turning the collected results into Markdown tables: one per measurement, the targets, and RESULTS.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.apps import AppSpec
from bench.scenarios import SCENARIOS

__all__ = ["render", "targets"]

Results = dict[str, Any]
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


def _best(section: dict[str, Any], specs: dict[str, AppSpec], role: str, scenario: str, key: str) -> Any:
    """(value, label) of the lowest ``key`` among apps of ``role`` for ``scenario``, or None.

    Stopgap apps (``STOPGAP = True``) count only when no other app of the role has a value.
    """
    found = [
        (specs[name].stopgap, entry[key], specs[name].label)
        for name, by_scenario in section.items()
        if name in specs and specs[name].role == role
        for entry in [by_scenario.get(scenario) or {}]
        if entry.get(key) is not None
    ]
    return min(found)[1:] if found else None


def targets(results: Results, specs: dict[str, AppSpec]) -> list[list[str]]:
    """One row per target: what is checked, what was measured, and whether it is met."""
    rows: list[list[str]] = []
    cg = results.get("callgrind") or {}
    floor = cg.get("raw_asgi", {})
    for scenario in ("plaintext", "json"):
        ketch = _best(cg, specs, "ketch", scenario, "instr")
        base = (floor.get(scenario) or {}).get("instr")
        what = f"instructions/request, {scenario}: ketch <= 2x raw ASGI"
        if ketch is None or base is None:
            rows.append([what, "not measured", "–"])
            continue
        ratio = ketch[0] / base
        rows.append([what, f"{ratio:.2f}x ({_k(ketch[0])} vs {_k(base)})", "met" if ratio <= 2 else "MISSED"])
    for scenario in ("items", "users", "deps", "deps_sync", "classic"):
        what = f"instructions/request, {scenario}: ketch < best peer and <= 1/4 FastAPI"
        ketch = _best(cg, specs, "ketch", scenario, "instr")
        peer = _best(cg, specs, "peer", scenario, "instr")
        fastapi = (cg.get("fastapi", {}).get(scenario) or {}).get("instr")
        if ketch is None:
            covered = any(s.role == "ketch" and scenario in s.scenarios for s in specs.values())
            rows.append([what, "not measured in this run" if covered else "no ketch app covers it yet", "–"])
            continue
        if peer is None or fastapi is None:
            rows.append([what, f"{ketch[1]}: {_k(ketch[0])}; peers not measured", "–"])
            continue
        met = ketch[0] < peer[0] and ketch[0] <= fastapi / 4
        measured = (
            f"{ketch[1]}: {_k(ketch[0])}; best peer {peer[1]}: {_k(peer[0])}; "
            f"FastAPI: {_k(fastapi)} ({fastapi / ketch[0]:.1f}x ketch)"
        )
        base = (floor.get(scenario) or {}).get("instr")
        if base is not None and fastapi / 4 < base:
            measured += f"; NB FastAPI/4 = {_k(fastapi / 4)} is below the raw floor ({_k(base)})"
        rows.append([what, measured, "met" if met else "MISSED"])
    e2e = results.get("e2e") or {}
    for scenario in ("plaintext", "json"):
        what = f"end-to-end req/s on uvicorn, {scenario}: ketch >= 0.9x raw ASGI"
        ketch_rps = (e2e.get("ketch@uvicorn", {}).get(scenario) or {}).get("rps")
        raw_rps = (e2e.get("raw_asgi@uvicorn", {}).get(scenario) or {}).get("rps")
        if ketch_rps is None or raw_rps is None:
            rows.append([what, "not measured", "–"])
            continue
        ratio = ketch_rps / raw_rps
        status = "met" if ratio >= 0.9 else "MISSED"
        if ratio > NOISE:
            status = "unreliable (faster than the floor: noise)"
        rows.append([what, f"{ratio:.2f}x ({ketch_rps:,.0f} vs {raw_rps:,.0f})", status])
    return rows


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
