"""``ketch openapi``: the document as JSON or YAML, as OpenAPI 3.1 or 3.0."""

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from click.testing import CliRunner
from openapi_spec_validator import validate

from ketch.cli import main

APP = """
from collections.abc import AsyncIterator
from typing import Annotated
from pydantic import BaseModel, Field
from ketch import Ketch
from ketch.params import Body, File, Query
from ketch.datastructures import UploadFile
from ketch.openapi import WebhookRouter

class Item(BaseModel):
    name: str | None = None
    kind: str = Field("thing", examples=["thing"])
    size: float = Field(1.0, gt=0)
    pair: tuple[int, str] | None = None

webhooks = WebhookRouter()
app = Ketch(title="CLI ünïcode", summary="only in 3.1", license_info={"name": "MIT", "identifier": "MIT"},
            webhooks=webhooks)

@webhooks.post("ping")
def ping(item: Item) -> None: ...

@app.post("/items")
async def create(item: Item, flag: Annotated[bool | None, Query()] = None) -> Item:
    return item

@app.post("/files")
async def upload(data: Annotated[bytes, File()], more: UploadFile | None = None) -> dict[str, int]:
    return {}

@app.get("/stream")
async def stream() -> AsyncIterator[Item]:
    yield Item()
"""


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "docapp.py").write_text(APP, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("docapp", None)


def run(*args: str) -> Any:
    result = CliRunner().invoke(main, ["openapi", *args], catch_exceptions=False)
    return result


def test_json_to_stdout(app_dir: Path) -> None:
    result = run("docapp:app")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "CLI ünïcode"
    validate(document)


def test_yaml_by_extension_and_by_flag(app_dir: Path) -> None:
    assert run("docapp:app", "-o", "doc.yaml").exit_code == 0
    from_file = yaml.safe_load((app_dir / "doc.yaml").read_text(encoding="utf-8"))
    assert from_file == json.loads(run("docapp:app").output)
    assert yaml.safe_load(run("docapp:app", "--format", "yaml").output) == from_file
    assert run("docapp:app", "-o", "doc.json", "--indent", "0").exit_code == 0
    assert json.loads((app_dir / "doc.json").read_text(encoding="utf-8")) == from_file


def test_openapi_30_for_client_generators(app_dir: Path) -> None:
    document = json.loads(run("docapp:app", "--openapi-version", "3.0").output)
    validate(document)
    assert document["openapi"] == "3.0.3"
    assert "webhooks" not in document and "summary" not in document["info"]
    assert document["info"]["license"] == {"name": "MIT"}
    item = document["components"]["schemas"]["Item"]["properties"]
    assert item["name"] == {"type": "string", "nullable": True, "title": "Name"}
    assert item["kind"]["example"] == "thing" and "examples" not in item["kind"]
    assert item["size"]["minimum"] == 0 and item["size"]["exclusiveMinimum"] is True
    assert item["pair"]["nullable"] is True and "prefixItems" not in json.dumps(item["pair"])
    body = document["paths"]["/files"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    upload = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]["properties"]
    assert upload["data"] == {"type": "string", "format": "binary", "title": "Data"}
    assert upload["more"]["format"] == "binary" and upload["more"]["nullable"] is True
    stream = document["paths"]["/stream"]["get"]["responses"]["200"]["content"]["application/jsonl"]
    assert "x-itemSchema" in stream and "itemSchema" not in stream


def test_yaml_without_pyyaml_says_what_to_install(app_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)
    result = CliRunner().invoke(main, ["openapi", "docapp:app", "-f", "yaml"])
    assert result.exit_code == 1
    assert "pip install pyyaml" in result.output


def test_unknown_app_is_a_usage_error(app_dir: Path) -> None:
    result = CliRunner().invoke(main, ["openapi", "nowhere:app"])
    assert result.exit_code == 2
