"""The public surface: one sorted ``ketch.__all__``, every name importable and owned by ``ketch``."""

from __future__ import annotations

import inspect
import re
import types

import ketch


def _isort_key(name: str) -> tuple[int, list[int | str]]:
    """ruff RUF022's "isort-style" order: SCREAMING_CASE, then CamelCase, then the rest; natural order inside."""
    if name.isupper() or re.fullmatch(r"[A-Z0-9_]+", name):
        kind = 0
    elif name[:1].isupper():
        kind = 1
    else:
        kind = 2
    return kind, [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def test_all_is_sorted_and_unique() -> None:
    assert ketch.__all__ == sorted(ketch.__all__, key=_isort_key)
    assert len(ketch.__all__) == len(set(ketch.__all__))


def test_every_public_name_is_importable() -> None:
    namespace: dict[str, object] = {}
    exec("from ketch import *", namespace)
    for name in ketch.__all__:
        assert getattr(ketch, name) is namespace[name]


def test_public_classes_and_functions_belong_to_ketch() -> None:
    for name in ketch.__all__:
        obj = getattr(ketch, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__module__ == "ketch", f"{name}.__module__ is {obj.__module__!r}"


def test_nothing_public_is_left_out_of_all() -> None:
    public = {
        name
        for name, value in vars(ketch).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - set(ketch.__all__) == set()


def test_core_names_are_exported() -> None:
    core = {
        "BackgroundTask",
        "BackgroundTasks",
        "ClientDisconnect",
        "HTMLResponse",
        "HTTPException",
        "Headers",
        "ImproperlyConfigured",
        "JSONResponse",
        "Ketch",
        "Limits",
        "Middleware",
        "Mount",
        "MutableHeaders",
        "PlainTextResponse",
        "QueryParams",
        "RedirectResponse",
        "Request",
        "RequestTooLarge",
        "Response",
        "Route",
        "Router",
        "State",
        "StreamingResponse",
        "URL",
        "UploadFile",
        "WebSocket",
        "WebSocketDisconnect",
        "WebSocketException",
        "WebSocketRoute",
    }
    assert core <= set(ketch.__all__)


def test_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:\S*)", ketch.__version__)
