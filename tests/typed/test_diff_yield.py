"""Differential tests: yield dependencies (cleanup once, exceptions thrown in), overrides, Security scopes."""

# The app is built twice, from two import surfaces held in a namespace: its annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, attr-defined, misc, assignment"

from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Annotated, Any

from ._diff import Req, compare

EVENTS: dict[str, list[str]] = {"fastapi": [], "ketch": []}


class Boom(Exception):
    pass


def build(api: SimpleNamespace) -> object:
    events = EVENTS[api.name]

    def sync_db() -> Iterator[str]:
        events.append("sync:open")
        try:
            yield "db"
        except api.HTTPException as exc:
            events.append(f"sync:http:{exc.status_code}")
            raise
        finally:
            events.append("sync:close")

    async def async_session(db: Annotated[str, api.Depends(sync_db)]) -> AsyncIterator[str]:
        events.append("async:open")
        try:
            yield f"session({db})"
        finally:
            events.append("async:close")

    def function_scoped() -> Iterator[str]:
        events.append("fn:open")
        yield "fn"
        events.append("fn:close")

    async def raises_after(request: api.Request) -> AsyncIterator[None]:
        yield None
        raise api.HTTPException(status_code=418, detail="after yield")

    def get_user(scopes: api.SecurityScopes, token: Annotated[str | None, api.Header()] = None) -> dict[str, Any]:
        return {"scopes": scopes.scopes, "scope_str": scopes.scope_str, "token": token}

    def get_active(user: Annotated[dict[str, Any], api.Security(get_user, scopes=["me"])]) -> dict[str, Any]:
        return user

    def real_settings() -> str:
        return "real"

    app = api.App()

    @app.get("/ok")
    async def ok(session: Annotated[str, api.Depends(async_session)]) -> str:
        events.append("endpoint")
        return session

    @app.get("/http-error")
    def http_error(session: Annotated[str, api.Depends(async_session)]) -> str:
        raise api.HTTPException(status_code=404, detail="nope")

    @app.get("/function")
    def function(value: Annotated[str, api.Depends(function_scoped, scope="function")]) -> str:
        events.append("endpoint")
        return value

    @app.get("/after")
    async def after(_: Annotated[None, api.Depends(raises_after, scope="function")]) -> str:
        return "body"

    @app.get("/me")
    async def me(user: Annotated[dict[str, Any], api.Security(get_active, scopes=["items"])]) -> dict[str, Any]:
        return user

    @app.get("/settings")
    def settings(value: Annotated[str, api.Depends(real_settings)]) -> str:
        return value

    return app


def test_yield_dependencies_clean_up_once() -> None:
    for events in EVENTS.values():
        events.clear()
    compare(build, [Req("GET", "/ok")])
    assert EVENTS["ketch"] == EVENTS["fastapi"]
    assert EVENTS["ketch"] == ["sync:open", "async:open", "endpoint", "async:close", "sync:close"]


def test_exceptions_are_thrown_into_yield_dependencies() -> None:
    for events in EVENTS.values():
        events.clear()
    compare(build, [Req("GET", "/http-error"), Req("GET", "/function"), Req("GET", "/after")])
    assert EVENTS["ketch"] == EVENTS["fastapi"]


def test_security_scopes() -> None:
    compare(build, [Req("GET", "/me", headers={"token": "t"}), Req("GET", "/me")])


def test_dependency_overrides() -> None:
    def override() -> str:
        return "override"

    def build_with_override(api: SimpleNamespace) -> object:
        app = build(api)
        # The override is keyed by the original function, which build() keeps local: find it on the route.
        target = next(r for r in app.routes if getattr(r, "path", "") == "/settings")
        original = _dependency_of(target.endpoint)
        app.dependency_overrides[original] = override
        return app

    compare(build_with_override, [Req("GET", "/settings")])


def _dependency_of(endpoint: Any) -> Any:
    import inspect

    annotation = inspect.signature(endpoint).parameters["value"].annotation
    return annotation.__metadata__[0].dependency
