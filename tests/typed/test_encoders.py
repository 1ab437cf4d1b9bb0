"""jsonable_encoder against FastAPI's, and encode_json against the bytes FastAPI's JSONResponse sends."""

import dataclasses
import enum
import json
import uuid
from collections import deque
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from ipaddress import IPv4Address
from pathlib import PurePosixPath
from typing import Any

import pytest
from fastapi.encoders import jsonable_encoder as fastapi_encoder
from pydantic import BaseModel, Field, SecretStr

from ketch.encoders import encode_json, jsonable_encoder


class Kind(enum.Enum):
    a = "alpha"


class Inner(BaseModel):
    when: datetime
    note: str | None = None


class Outer(BaseModel):
    name: str = Field(alias="Name")
    inner: Inner
    count: int = 0


@dataclasses.dataclass
class Point:
    x: float
    tags: list[str]


class Plain:
    def __init__(self) -> None:
        self.a = 1
        self.b = [Kind.a]


VALUES: list[Any] = [
    None,
    True,
    3,
    2.5,
    "text",
    b"bytes",
    [1, (2, 3), {4}],
    frozenset({"f"}),
    deque([1]),
    {"k": {"_sa_instance_state": 1, "_keep": 2, "n": None}},
    {1: "int key", 2.5: "float key", Kind.a: "enum key"},
    datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    date(2024, 2, 29),
    time(12, 30),
    timedelta(days=1, seconds=1.5),
    Decimal("1.50"),
    Decimal("7"),
    Decimal("1E+2"),
    uuid.UUID(int=1),
    Kind.a,
    PurePosixPath("/x"),
    IPv4Address("10.0.0.1"),
    SecretStr("hidden"),
    Outer(Name="o", inner=Inner(when=datetime(2020, 1, 1))),
    Point(1.0, ["t"]),
    Plain(),
    {"nested": [Point(2.0, []), Inner(when=datetime(2021, 1, 1, tzinfo=UTC))]},
    1e-7,
    [1e20, -0.0, 123456789.125],
]


@pytest.mark.parametrize("value", VALUES, ids=[type(v).__name__ for v in VALUES])
def test_same_as_fastapi(value: Any) -> None:
    assert jsonable_encoder(value) == fastapi_encoder(value)


@pytest.mark.parametrize("value", VALUES, ids=[type(v).__name__ for v in VALUES])
def test_encode_json_matches_fastapi_json_response_bytes(value: Any) -> None:
    expected = json.dumps(fastapi_encoder(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    assert encode_json(value) == expected.encode("utf-8")


@pytest.mark.parametrize(
    "options",
    [
        {"include": {"name"}},
        {"exclude": {"inner"}},
        {"by_alias": False},
        {"exclude_unset": True},
        {"exclude_defaults": True},
        {"exclude_none": True},
        {"custom_encoder": {datetime: lambda d: "custom"}},
        {"sqlalchemy_safe": False},
    ],
)
def test_options_same_as_fastapi(options: dict[str, Any]) -> None:
    value = Outer(Name="o", inner=Inner(when=datetime(2020, 1, 1)))
    assert jsonable_encoder(value, **options) == fastapi_encoder(value, **options)
    data = {"_sa": 1, "name": "x", "none": None, "when": datetime(2020, 1, 1)}
    assert jsonable_encoder(data, **options) == fastapi_encoder(data, **options)


def test_nan_is_refused() -> None:
    with pytest.raises(ValueError):
        encode_json({"x": float("nan")})


def test_unencodable_value_raises_value_error() -> None:
    with pytest.raises(ValueError):
        jsonable_encoder(object())
