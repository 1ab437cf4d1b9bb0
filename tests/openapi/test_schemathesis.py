"""schemathesis, in-process, against the showcase's own document: no 500, no status the document does not list,
responses that match their schemas, invalid input refused.

The cases are sent through ketch's test client (so the showcase's lifespan runs) and checked with schemathesis's
checks. One adjustment, for FastAPI-compatible lax coercion: pydantic accepts ``"5"`` for an integer and
``"true"`` for a boolean, so a negative case that only turns such a value into its string form is valid input,
and a 2xx for it is right.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from ketch.testclient import TestClient

_REQUEST_KEYS = ("headers", "params", "json", "data", "files", "content")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KETCH_SHOWCASE_DB", str(tmp_path_factory.mktemp("showcase") / "notes.sqlite3"))
        from examples.showcase.app import app

        with TestClient(app) as client:
            yield client


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()  # type: ignore[no-any-return]


def _lax(value: Any) -> Any:
    """``value`` with the strings pydantic's lax mode would read as numbers or booleans turned into them."""
    if isinstance(value, dict):
        return {key: _lax(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_lax(item) for item in value]
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return parsed if isinstance(parsed, int | float | bool) else value
    return value


def lax_negative_data_rejection(document: dict[str, Any]) -> Any:
    def check(ctx: Any, response: Any, case: Any) -> bool | None:
        body_schema = None
        for body in case.operation.body:
            if body.media_type == case.media_type:
                body_schema = body.definition.get("schema")
        if 200 <= response.status_code < 300 and body_schema is not None and case.body is not None:
            schema = {**body_schema, "components": document.get("components", {})}
            if Draft202012Validator(schema).is_valid(_lax(case.body)):
                return None  # valid once coerced, as FastAPI (and ketch) read it
        return negative_data_rejection(ctx, response, case)  # type: ignore[no-any-return]

    check.__name__ = "negative_data_rejection"
    return check


def operations(client_document: dict[str, Any]) -> list[str]:
    return [f"{method.upper()} {path}" for path, item in client_document["paths"].items() for method in item]


def _showcase_labels() -> list[str]:
    # The showcase's document at collection time: building it needs no database (only its lifespan opens one).
    from examples.showcase.app import app

    return operations(app.openapi())


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
@pytest.mark.parametrize("label", _showcase_labels())
def test_showcase_conforms_to_its_document(
    client: TestClient, document: dict[str, Any], label: str, mode: GenerationMode
) -> None:
    config = SchemathesisConfig.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": ["400", "401", "403", "404", "413", "422"]}}}
    )
    schema = schemathesis.openapi.from_dict(document, config=config)
    operation = schema[label.split(" ", 1)[1]][label.split(" ", 1)[0]]
    checks = [lax_negative_data_rejection(document)]
    sent: list[int] = []

    # derandomize: the same cases on every run, so CI never fails on a case no one can reproduce.
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        method, url = kwargs.pop("method"), kwargs.pop("url")
        cookies = kwargs.pop("cookies", None) or {}
        request = {key: value for key, value in kwargs.items() if key in _REQUEST_KEYS and value is not None}
        if isinstance(request.get("data"), bytes | str):
            request["content"] = request.pop("data")  # requests' raw body argument is httpx's content
        if cookies:
            request.setdefault("headers", {})["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        response = client.request(method, url, **request)
        sent.append(response.status_code)
        assert response.status_code < 500, response.text
        case.validate_response(response, additional_checks=checks, excluded_checks=[negative_data_rejection])

    if mode is GenerationMode.NEGATIVE and not (operation.body or operation.path_parameters or operation.query):
        pytest.skip("nothing to make invalid")
    run()
    assert sent
