"""``import ketch`` stays cheap: only the standard library, pydantic and its own helpers get imported."""

from __future__ import annotations

import json
import subprocess
import sys

ALLOWED_THIRD_PARTY = {
    "ketch",
    "pydantic",
    "pydantic_core",
    "typing_extensions",
    "annotated_types",
    "typing_inspection",
}

# Each has exactly one owner module that imports it on demand; none may load with the package.
FORBIDDEN = {"multipart", "python_multipart", "jinja2", "httpx", "uvicorn", "click", "watchfiles", "itsdangerous"}
FORBIDDEN |= {"anyio", "starlette", "fastapi", "flask", "werkzeug", "h11", "httptools", "uvloop"}

SCRIPT = """
import json, sys
before = set(sys.modules)
import ketch
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def imported_by_ketch() -> set[str]:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=60)
    return {name.split(".")[0] for name in json.loads(result.stdout)}


def test_import_ketch_pulls_only_stdlib_and_pydantic() -> None:
    top_level = imported_by_ketch()
    stdlib = set(sys.stdlib_module_names) | {"_distutils_hack"}
    # sysconfig loads a generated, platform-named stdlib module that stdlib_module_names does not list.
    unexpected = {
        name
        for name in top_level
        if name not in stdlib and name not in ALLOWED_THIRD_PARTY and not name.startswith("_sysconfigdata")
    }
    assert unexpected == set()
    assert top_level & FORBIDDEN == set()
    assert "ketch" in top_level
