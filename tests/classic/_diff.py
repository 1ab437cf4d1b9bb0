"""The differential harness for the classic face: one app built on Flask and on ketch, the same requests, the
same responses (status, mimetype, body, Location, Allow, cookie names and attributes).

The Flask app is driven by Flask's own test client; the ketch app by ketch's TestClient at ``http://localhost``
(Flask's test host), so URLs built from the host agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import flask
import werkzeug.exceptions

import ketch
import ketch.compat.flask
import ketch.ctx
import ketch.globals
import ketch.helpers
import ketch.wrappers
from ketch.testclient import TestClient

__all__ = ["FLASK", "KETCH", "Req", "compare", "flask_style_ketch", "run"]


def flask_style_ketch(import_name: str, **options: Any) -> ketch.Ketch:
    """A ketch app with Flask's defaults: ``ketch.compat.flask.Flask``."""
    app: ketch.Ketch = ketch.compat.flask.Flask(import_name, **options)
    return app


FLASK = SimpleNamespace(
    name="flask",
    Flask=flask.Flask,
    request=flask.request,
    g=flask.g,
    session=flask.session,
    current_app=flask.current_app,
    abort=flask.abort,
    redirect=flask.redirect,
    url_for=flask.url_for,
    jsonify=flask.jsonify,
    make_response=flask.make_response,
    Response=flask.Response,
    after_this_request=flask.after_this_request,
    stream_with_context=flask.stream_with_context,
    flash=flask.flash,
    get_flashed_messages=flask.get_flashed_messages,
    send_from_directory=flask.send_from_directory,
    HTTPException=werkzeug.exceptions.HTTPException,
)
KETCH = SimpleNamespace(
    name="ketch",
    Flask=flask_style_ketch,
    request=ketch.globals.request,
    g=ketch.globals.g,
    session=ketch.globals.session,
    current_app=ketch.globals.current_app,
    abort=ketch.helpers.abort,
    redirect=ketch.helpers.redirect,
    url_for=ketch.helpers.url_for,
    jsonify=ketch.helpers.jsonify,
    make_response=ketch.helpers.make_response,
    Response=ketch.wrappers.Response,
    after_this_request=ketch.ctx.after_this_request,
    stream_with_context=ketch.helpers.stream_with_context,
    flash=ketch.helpers.flash,
    get_flashed_messages=ketch.helpers.get_flashed_messages,
    send_from_directory=ketch.helpers.send_from_directory,
    HTTPException=werkzeug.exceptions.HTTPException,
)


@dataclass
class Req:
    """One request of a scenario."""

    method: str
    path: str
    data: Any = None
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # Which parts of the response to compare.
    check: tuple[str, ...] = ("status", "mimetype", "body", "location", "allow", "vary", "cookies")


def _cookies(values: Iterable[str]) -> list[tuple[str, tuple[str, ...]]]:
    """(name, sorted attribute names) per Set-Cookie line; values differ (timestamps), attributes must not."""
    found = []
    for line in values:
        name = line.split("=", 1)[0].strip()
        attributes = sorted(part.split("=", 1)[0].strip().lower() for part in line.split(";")[1:] if part.strip())
        found.append((name, tuple(attributes)))
    return sorted(found)


def _allow(value: str | None) -> list[str] | None:
    # Werkzeug lists a set, so its order is arbitrary: compare the methods.
    return sorted(m.strip() for m in value.split(",")) if value is not None else None


def _flask_result(client: Any, req: Req) -> dict[str, Any]:
    response = client.open(req.path, method=req.method, data=req.data, json=req.json, headers=req.headers)
    result = {
        "status": response.status_code,
        "mimetype": response.mimetype,
        "body": response.get_data(),
        "location": response.headers.get("Location"),
        "allow": _allow(response.headers.get("Allow")),
        "vary": _allow(response.headers.get("Vary")),
        "cookies": _cookies(response.headers.getlist("Set-Cookie")),
    }
    response.close()
    return result


def _ketch_result(client: TestClient, req: Req) -> dict[str, Any]:
    response = client.request(req.method, req.path, data=req.data, json=req.json, headers=req.headers)
    content_type = response.headers.get("content-type")
    return {
        "status": response.status_code,
        "mimetype": content_type.split(";")[0].strip().lower() if content_type else None,
        "body": response.content,
        "location": response.headers.get("location"),
        "allow": _allow(response.headers.get("allow")),
        "vary": _allow(response.headers.get("vary")),
        "cookies": _cookies(response.headers.get_list("set-cookie")),
    }


def run(build: Callable[[SimpleNamespace], Any], requests: list[Req]) -> tuple[list[Any], list[Any]]:
    """Build the app on both faces and send ``requests`` in order (cookies persist); return both results."""
    flask_app = build(FLASK)
    ketch_app = build(KETCH)
    # Not as a context manager: that keeps each request's context and pops it again (teardown twice).
    flask_client = flask_app.test_client()
    flask_results = [_flask_result(flask_client, req) for req in requests]
    ketch_results = []
    with TestClient(
        ketch_app, base_url="http://localhost", follow_redirects=False, raise_server_exceptions=False
    ) as ketch_client:
        for req in requests:
            ketch_results.append(_ketch_result(ketch_client, req))
    return flask_results, ketch_results


def compare(build: Callable[[SimpleNamespace], Any], requests: list[Req]) -> list[dict[str, Any]]:
    """Assert both faces answer ``requests`` alike; return ketch's results for further checks."""
    flask_results, ketch_results = run(build, requests)
    for req, expected, got in zip(requests, flask_results, ketch_results, strict=True):
        for key in req.check:
            assert got[key] == expected[key], f"{req.method} {req.path}: {key} differs\nflask: {expected}\nketch: {got}"
    return ketch_results
