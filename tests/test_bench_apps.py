"""Smoke test of the benchmark: every ketch bench app and the raw floors answer every scenario right, in-process.

The peers (FastAPI, Flask, ...) live only in the bench venv (bench/.venv); here their apps are skipped. The
benchmark's numbers are never checked: CI does not gate on time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.apps import AppSpec, app_names, load  # noqa: E402
from bench.e2e import parse_wrk, wrk_script  # noqa: E402
from bench.inprocess import check_app  # noqa: E402
from bench.report import render  # noqa: E402
from bench.scenarios import SCENARIOS  # noqa: E402

LOCAL = ("raw_asgi", "raw_wsgi")  # the floors need only what ketch itself depends on


def _load(name: str) -> AppSpec:
    try:
        return load(name)
    except ImportError as exc:
        if name.startswith("ketch") or name in LOCAL:
            raise
        pytest.skip(f"{name} needs the bench venv (python bench/run.py): {exc}")


def _cases() -> list[tuple[str, str]]:
    cases = []
    for name in app_names():
        try:
            scenarios = load(name).scenarios
        except ImportError:
            scenarios = ("-",)  # a peer outside the bench venv: one case, skipped
        cases += [(name, s) for s in scenarios]
    return cases


def test_ketch_and_floors_are_present() -> None:
    names = app_names()
    assert {"ketch", "ketch_typed", "ketch_classic", "ketch_core", "raw_asgi", "raw_wsgi"} <= set(names)
    assert names[:2] == ["raw_asgi", "raw_wsgi"]


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("name", "scenario"), _cases())
def test_app_answers_scenario(name: str, scenario: str) -> None:
    spec = _load(name)
    assert check_app(spec, [scenario]) == {scenario: None}


@pytest.mark.parametrize("name", app_names())
def test_app_declares_every_scenario(name: str) -> None:
    spec = _load(name)
    assert spec.kind in ("asgi", "wsgi")
    assert spec.role in ("floor", "ketch", "peer")
    assert set(spec.scenarios) <= set(SCENARIOS)
    # Each scenario is either served or says why not: a gap is never silent.
    assert set(spec.scenarios) | set(spec.missing) == set(SCENARIOS)
    assert not set(spec.scenarios) & set(spec.missing)


def test_ketch_plaintext_is_the_core_app() -> None:
    spec = _load("ketch")
    assert type(spec.app_for("plaintext")).__name__ == "Ketch"
    assert spec.scenarios == ("plaintext", "json")


def test_ketch_startup_app_with_many_routes() -> None:
    spec = _load("ketch")
    many = spec.module.many_routes(5)
    assert len(many.routes) == 5


def test_parse_wrk_reads_rate_latency_and_errors() -> None:
    output = (
        "Running 3s test @ http://127.0.0.1:8000/plaintext\n  1 threads and 64 connections\n"
        "  Latency Distribution\n     50%    1.10ms\n     75%    1.50ms\n     90%    2.00ms\n"
        "     99%  850.00us\n  40000 requests in 3.00s, 5.00MB read\n"
        "  Socket errors: connect 0, read 12, write 1, timeout 2\n  Non-2xx or 3xx responses: 4\n"
        "Requests/sec:  13333.33\nTransfer/sec:      1.67MB\n"
    )
    assert parse_wrk(output) == {"rps": 13333.33, "p99_ms": 0.85, "errors": 7}
    assert parse_wrk("") == {"rps": None, "p99_ms": None, "errors": 0}


def test_wrk_script_sets_method_body_and_headers() -> None:
    script = wrk_script(SCENARIOS["users"], None)
    assert "wrk.method = [==[POST]==]" in script
    assert '"age": 36' in script
    assert 'wrk.headers["Content-Type"] = [==[application/json]==]' in script
    assert "Cookie" in wrk_script(SCENARIOS["classic"], "session=abc")


def test_report_renders_tables_and_targets() -> None:
    specs = {name: _load(name) for name in ("raw_asgi", "ketch")}
    results = {
        "meta": {
            "date": "today",
            "mode": "quick",
            "commit": "abc",
            "machine": "test",
            "python": "3.11",
            "versions": {"ketch": "0.1.0"},
            "settings": {"number": 1},
            "load": {"start": "0.00 0.00 0.00"},
            "apps": list(specs),
            "scenarios": ["plaintext", "json"],
        },
        "callgrind": {
            "raw_asgi": {"plaintext": {"instr": 10000.0, "error": None}, "json": {"instr": 20000.0, "error": None}},
            "ketch": {"plaintext": {"instr": 30000.0, "error": None}, "json": {"instr": None, "error": "boom"}},
        },
        "e2e": {
            "raw_asgi@uvicorn": {"plaintext": {"rps": 1000.0, "p99_ms": 2.0, "error": None}},
            "ketch@uvicorn": {"plaintext": {"rps": 950.0, "p99_ms": 2.5, "error": None}},
        },
    }
    report = render(results, specs, "a note")
    assert "| ketch | 30.0k (3.00x) | FAIL |" in report
    assert "| instructions/request, plaintext: ketch <= 2x raw ASGI | 3.00x (30.0k vs 10.0k) | MISSED |" in report
    assert "0.95x (950 vs 1,000) | met |" in report
    assert "- callgrind, ketch, json: boom" in report
    assert "a note" in report
