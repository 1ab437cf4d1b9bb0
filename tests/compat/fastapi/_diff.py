"""The differential harness for ``ketch.compat.fastapi``.

A test writes an app once, as a function of the import surface: ``build(fastapi, starlette)`` receives either the
real ``fastapi`` and ``starlette`` packages or ``ketch.compat.fastapi`` and ``ketch.compat.starlette`` (with every
submodule imported, so ``fastapi.responses.JSONResponse`` works on both). Each app is driven through its own
framework's ``TestClient``; the responses are compared: status, headers and body.
"""

from __future__ import annotations

import importlib
import json
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx

__all__ = ["FASTAPI", "KETCH", "Req", "Surface", "check", "clients", "compare"]

FASTAPI_MODULES = (
    "applications",
    "background",
    "concurrency",
    "datastructures",
    "encoders",
    "exception_handlers",
    "exceptions",
    "middleware",
    "middleware.cors",
    "middleware.gzip",
    "middleware.httpsredirect",
    "middleware.trustedhost",
    "middleware.wsgi",
    "param_functions",
    "params",
    "requests",
    "responses",
    "routing",
    "sse",
    "staticfiles",
    "templating",
    "testclient",
    "websockets",
)
STARLETTE_MODULES = (
    "applications",
    "background",
    "concurrency",
    "datastructures",
    "exceptions",
    "middleware",
    "middleware.base",
    "middleware.cors",
    "middleware.gzip",
    "middleware.httpsredirect",
    "middleware.trustedhost",
    "middleware.wsgi",
    "requests",
    "responses",
    "routing",
    "staticfiles",
    "status",
    "templating",
    "testclient",
    "types",
    "websockets",
)

# Headers whose value depends on the moment, not on the framework.
VOLATILE_HEADERS = frozenset({"date", "server", "last-modified", "etag"})


def load(root: str, names: Iterable[str]) -> ModuleType:
    """Import ``root`` and its submodules ``names``; the real ones warn on import (starlette.testclient without
    httpx2, starlette.middleware.wsgi), which is not what these tests are about."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            importlib.import_module(f"{root}.{name}")
        return importlib.import_module(root)


@dataclass(frozen=True)
class Surface:
    """One import surface: the ``fastapi`` and ``starlette`` packages an app is written against."""

    name: str
    fastapi: Any
    starlette: Any

    def build(self, build: Callable[[Any, Any], Any]) -> Any:
        return build(self.fastapi, self.starlette)


FASTAPI = Surface("fastapi", load("fastapi", FASTAPI_MODULES), load("starlette", STARLETTE_MODULES))
KETCH = Surface(
    "ketch",
    load("ketch.compat.fastapi", FASTAPI_MODULES),
    load("ketch.compat.starlette", STARLETTE_MODULES),
)


class Req:
    """One request to send to both apps.

    Args:
        method, url: what to send; other keywords go to ``client.request``.
        body: how to compare bodies: ``"bytes"`` (exact), ``"json"`` (parsed) or ``"none"``.
        compare_headers: header names to compare; ``None`` compares every header except the volatile ones.
        ignore_headers: header names to leave out of the comparison.
    """

    def __init__(
        self,
        method: str,
        url: str,
        *,
        body: str = "bytes",
        compare_headers: Iterable[str] | None = None,
        ignore_headers: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        self.method = method
        self.url = url
        self.body = body
        self.headers = None if compare_headers is None else tuple(h.lower() for h in compare_headers)
        self.ignore = frozenset(h.lower() for h in ignore_headers) | VOLATILE_HEADERS
        self.kwargs = kwargs

    def __repr__(self) -> str:
        extra = {k: v for k, v in self.kwargs.items() if k != "files"}
        return f"{self.method} {self.url} {extra or ''}"


def _header_items(response: httpx.Response, names: tuple[str, ...] | None, ignore: frozenset[str]) -> list[Any]:
    items: list[Any] = []
    wanted = names if names is not None else sorted({k.lower() for k in response.headers} - ignore)
    for name in wanted:
        values = response.headers.get_list(name)
        if name == "allow":
            # Starlette joins a set of methods: its order is arbitrary.
            values = [", ".join(sorted(m.strip() for value in values for m in value.split(",")))]
        elif name == "set-cookie":
            values = [_cookie(value) for value in values]
        items.append((name, values))
    return items


def _cookie(value: str) -> str:
    # The attributes of a Set-Cookie header in a fixed order (http.cookies sorts them, ketch does not), names
    # lower-cased: the same cookie either way.
    first, *attributes = value.split("; ")
    parts = sorted((key.lower(), rest) for key, _, rest in (a.partition("=") for a in attributes))
    return "; ".join([first, *(f"{key}={rest}" if rest else key for key, rest in parts)])


def check(req: Req, expected: httpx.Response, actual: httpx.Response) -> None:
    """Assert that ketch's response matches FastAPI's for ``req``."""
    where = (
        f"{req!r}:\n  fastapi {expected.status_code} {dict(expected.headers)} {expected.content[:300]!r}\n"
        f"  ketch   {actual.status_code} {dict(actual.headers)} {actual.content[:300]!r}"
    )
    assert actual.status_code == expected.status_code, where
    if req.body == "bytes":
        assert actual.content == expected.content, where
    elif req.body == "json":
        assert json.loads(actual.content) == json.loads(expected.content), where
    ignore = req.ignore | ({"content-length"} if req.body != "bytes" else frozenset())
    names = req.headers
    if names is None:
        names = tuple(sorted(({k.lower() for k in expected.headers} | {k.lower() for k in actual.headers}) - ignore))
    assert _header_items(actual, names, ignore) == _header_items(expected, names, ignore), where


@contextmanager
def clients(build: Callable[[Any, Any], Any], **options: Any) -> Iterator[tuple[Any, Any]]:
    """``(fastapi_client, ketch_client)``: the app built on each surface, in its own TestClient (lifespan on)."""
    with ExitStack() as stack:
        expected = stack.enter_context(FASTAPI.fastapi.testclient.TestClient(FASTAPI.build(build), **options))
        actual = stack.enter_context(KETCH.fastapi.testclient.TestClient(KETCH.build(build), **options))
        yield expected, actual


def compare(build: Callable[[Any, Any], Any], requests: Iterable[Req], **options: Any) -> None:
    """Build the app on both surfaces, send each request to both, and compare the responses."""
    with clients(build, **options) as (expected_client, actual_client):
        for req in requests:
            expected = expected_client.request(req.method, req.url, **req.kwargs)
            actual = actual_client.request(req.method, req.url, **req.kwargs)
            check(req, expected, actual)
