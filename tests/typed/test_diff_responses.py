"""Differential tests: return values, response models, status codes, the Response parameter, background tasks."""

# The app is built twice, from two import surfaces held in a namespace: its annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, attr-defined, misc, assignment"

import dataclasses
import enum
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import PurePosixPath
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel, Field

from ._diff import Req, compare

LOG: list[str] = []


class UserIn(BaseModel):
    username: str
    password: str
    email: str | None = None


class UserOut(BaseModel):
    username: str
    email: str | None = None


class Settings(BaseModel):
    name: str
    level: int = 1
    note: str | None = None
    nick: str = Field("n", alias="nickName")


class Kind(enum.Enum):
    a = "alpha"
    b = 2


@dataclasses.dataclass
class Point:
    x: int
    when: datetime


def build(api: SimpleNamespace) -> object:
    app = api.App()

    @app.get("/user", response_model=UserOut)
    async def user() -> Any:
        return UserIn(username="bob", password="secret", email="b@x.org")

    @app.get("/user-annotated")
    async def user_annotated() -> UserOut:
        return UserIn(username="bob", password="secret")  # type: ignore[return-value]

    @app.get("/user-dict", response_model=UserOut)
    async def user_dict() -> Any:
        return {"username": "ann", "password": "x"}

    @app.get("/bad", response_model=UserOut)
    async def bad() -> Any:
        return {"email": 3}

    @app.get("/settings", response_model=Settings, response_model_exclude_unset=True)
    async def settings() -> Any:
        return Settings.model_validate({"name": "x", "note": None})

    @app.get("/settings-none", response_model=Settings, response_model_exclude_none=True, response_model_by_alias=False)
    async def settings_none() -> Any:
        return Settings.model_validate({"name": "x"})

    @app.get("/settings-include", response_model=Settings, response_model_include={"name"})
    async def settings_include() -> Any:
        return {"name": "y", "level": 3}

    @app.get("/list", response_model=list[UserOut])
    def users() -> Any:
        return [{"username": "a", "password": "p"}, UserIn(username="b", password="q")]

    @app.get("/no-model", response_model=None)
    async def no_model() -> UserOut:
        return UserIn(username="bob", password="secret")  # type: ignore[return-value]

    @app.get("/values")
    async def values():  # type: ignore[no-untyped-def]  # no annotation: no response model
        return {
            "when": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "naive": datetime(2024, 1, 2, 3, 4, 5, 6),
            "day": date(2024, 2, 29),
            "delta": timedelta(seconds=90, microseconds=5),
            "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "dec": Decimal("1.50"),
            "int_dec": Decimal("10"),
            "kind": Kind.a,
            "kind2": Kind.b,
            "set": {3},
            "frozen": frozenset({"x"}),
            "tuple": (1, "a"),
            "bytes": b"raw",
            "path": PurePosixPath("/a/b"),
            "point": Point(1, datetime(2020, 5, 5)),
            "model": UserOut(username="m"),
            "nested": {"_sa_state": 1, "keep": [None, True, 1.5, 1e-7]},
            5: "int key",
        }

    @app.post("/created", status_code=201)
    async def created() -> dict[str, bool]:
        return {"ok": True}

    @app.delete("/gone", status_code=204)
    async def gone() -> None:
        return None

    @app.get("/sub-response")
    async def sub_response(response: api.Response) -> dict[str, str]:
        response.headers["X-Extra"] = "1"
        response.set_cookie("flavour", "mint")
        response.status_code = 202
        return {"ok": "yes"}

    @app.get("/returned-response")
    async def returned_response(response: api.Response) -> Any:
        response.headers["X-Ignored"] = "1"
        return api.PlainTextResponse("plain", status_code=203, headers={"X-Own": "1"})

    @app.get("/html", response_class=api.HTMLResponse)
    async def html() -> str:
        return "<p>hi</p>"

    @app.get("/text", response_class=api.PlainTextResponse, status_code=418)
    def text() -> str:
        return "teapot"

    @app.get("/error")
    async def error() -> None:
        raise api.HTTPException(status_code=403, detail={"why": "no"}, headers={"X-Why": "no"})

    @app.get("/error-304")
    async def error_304() -> None:
        raise api.HTTPException(status_code=304)

    @app.post("/background")
    async def background(tasks: api.BackgroundTasks, name: str = "x") -> dict[str, str]:
        tasks.add_task(LOG.append, f"{api.name}:{name}")
        return {"queued": name}

    @app.get("/strings")
    def strings() -> list[str]:
        return ["\u00e9", "\u2028", "</script>", "\x00", "\ud7ff"]

    return app


def test_response_models() -> None:
    compare(
        build,
        [
            Req("GET", "/user"),
            Req("GET", "/user-annotated"),
            Req("GET", "/user-dict"),
            Req("GET", "/settings"),
            Req("GET", "/settings-none"),
            Req("GET", "/settings-include"),
            Req("GET", "/list"),
            Req("GET", "/no-model"),
            Req("GET", "/strings"),
        ],
    )


def test_jsonable_values() -> None:
    compare(build, [Req("GET", "/values")])


def test_status_codes_and_response_parameter() -> None:
    compare(
        build,
        [
            Req("POST", "/created"),
            Req("DELETE", "/gone", headers_to_compare=["content-length"]),
            # NOTE: not comparing Set-Cookie: ketch's set_cookie adds HttpOnly by default, Starlette's does not.
            Req("GET", "/sub-response", headers_to_compare=["x-extra"]),
            Req("GET", "/returned-response", headers_to_compare=["x-ignored", "x-own"]),
            Req("GET", "/html"),
            Req("GET", "/text"),
            Req("GET", "/error", headers_to_compare=["x-why"]),
            Req("GET", "/error-304"),
        ],
    )


def test_background_tasks_run_after_the_response() -> None:
    LOG.clear()
    compare(build, [Req("POST", "/background?name=n1")])
    assert sorted(LOG) == ["fastapi:n1", "ketch:n1"]
