"""The OpenAPI differential harness: build one app on the real FastAPI and on ``ketch.compat.fastapi``, compare
the documents with ``==``.

A test writes ``build(fa)`` once against the namespace it is given (``fa.FastAPI``, ``fa.Query``,
``fa.security.OAuth2PasswordBearer``...) and calls ``compare(build)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import fastapi
import fastapi.openapi.models
import fastapi.responses
import fastapi.security
import fastapi.sse

import ketch.compat.fastapi as kfastapi
import ketch.compat.fastapi.openapi.models
import ketch.compat.fastapi.responses
import ketch.compat.fastapi.security
import ketch.compat.fastapi.sse

__all__ = ["FASTAPI", "KETCH", "assert_same", "compare"]

_NAMES = [
    "FastAPI",
    "APIRouter",
    "Query",
    "Path",
    "Header",
    "Cookie",
    "Body",
    "Form",
    "File",
    "Depends",
    "Security",
    "UploadFile",
    "Request",
    "Response",
    "HTTPException",
    "BackgroundTasks",
    "status",
]


def _surface(module: Any, responses: Any, security: Any, models: Any, sse: Any) -> SimpleNamespace:
    return SimpleNamespace(
        **{name: getattr(module, name) for name in _NAMES},
        responses=responses,
        security=security,
        models=models,
        sse=sse,
        name=module.__name__,
    )


FASTAPI = _surface(fastapi, fastapi.responses, fastapi.security, fastapi.openapi.models, fastapi.sse)
KETCH = _surface(
    kfastapi,
    ketch.compat.fastapi.responses,
    ketch.compat.fastapi.security,
    ketch.compat.fastapi.openapi.models,
    ketch.compat.fastapi.sse,
)


def ketch_document(app: Any) -> dict[str, Any]:
    # FastAPI's documents list no framework statuses (400/413/401): a compat app's do not either.
    assert app.openapi_framework_responses is False
    return app.openapi()  # type: ignore[no-any-return]


def _first_difference(expected: Any, actual: Any, path: str = "") -> str:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual), key=str):
            if key not in actual:
                return f"{path}/{key}: missing in ketch"
            if key not in expected:
                return f"{path}/{key}: extra in ketch: {json.dumps(actual[key])[:300]}"
            found = _first_difference(expected[key], actual[key], f"{path}/{key}")
            if found:
                return found
        return ""
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (a, b) in enumerate(zip(expected, actual, strict=True)):
            found = _first_difference(a, b, f"{path}/{index}")
            if found:
                return found
        return ""
    if expected != actual:
        return f"{path}: FastAPI {json.dumps(expected)[:400]} != ketch {json.dumps(actual)[:400]}"
    return ""


def assert_same(expected: dict[str, Any], actual: dict[str, Any]) -> None:
    """``actual == expected``, failing with the first path where they differ."""
    if actual != expected:
        raise AssertionError(_first_difference(expected, actual) or "documents differ")


def compare(build: Callable[[SimpleNamespace], Any]) -> dict[str, Any]:
    """Build the app on both, assert the documents are equal, return FastAPI's."""
    expected = build(FASTAPI).openapi()
    actual = ketch_document(build(KETCH))
    assert_same(expected, actual)
    return expected  # type: ignore[no-any-return]
