"""The benchmark scenarios: one request each, the answer every framework must give, and a bad request to refuse.

Every measurement (in-process, callgrind, end-to-end) and the smoke test read the scenarios from here, so the
frameworks are compared on exactly the same requests. ``check`` says whether an answer is the right one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["SCENARIOS", "Scenario", "check", "scenario_names"]

USER = {"name": "Ada", "email": "ada@example.com", "age": 36, "tags": ["math", "code"]}
DEPS_ANSWER = {"id": 1, "name": "Ada", "source": "memory://bench"}


@dataclass(frozen=True)
class Scenario:
    """One benchmark request and the answer it must get.

    Attributes:
        name: the scenario's name (a column in every table).
        method, path, query, body, content_type: the request.
        status: the expected status.
        json: the expected JSON body (compared as data), if the answer is JSON.
        text: the expected body, exactly, if the answer is text.
        contains: a string the (HTML) body must contain.
        media_type: what the ``Content-Type`` must start with.
        bad: requests (path, query, body) that must be refused with a 4xx: proof that the app validates.
        cookie: the request carries the app's own session cookie (the app module's ``session_cookie()``).
        about: one line for the README and RESULTS tables.
    """

    name: str
    method: str
    path: str
    status: int
    media_type: str
    about: str
    query: str = ""
    body: bytes = b""
    content_type: str | None = None
    json: Any = None
    text: str | None = None
    contains: str | None = None
    bad: tuple[tuple[str, str, bytes], ...] = ()
    cookie: bool = False

    @property
    def target(self) -> str:
        """The path and query, as a client sends them."""
        return self.path + ("?" + self.query if self.query else "")


_USER_BODY = json.dumps(USER).encode()

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "plaintext",
            "GET",
            "/plaintext",
            200,
            "text/plain",
            "GET /plaintext -> text 'Hello, world!'",
            text="Hello, world!",
        ),
        Scenario(
            "json",
            "GET",
            "/json",
            200,
            "application/json",
            'GET /json -> {"message": "Hello, world!"}',
            json={"message": "Hello, world!"},
        ),
        Scenario(
            "items",
            "GET",
            "/items/42",
            200,
            "application/json",
            "GET /items/{id:int}?q=&limit= validated (q <= 50 chars, 1 <= limit <= 100, default 10), echoed",
            query="q=hello&limit=5",
            json={"id": 42, "q": "hello", "limit": 5},
            bad=(
                ("/items/42", "limit=0", b""),
                ("/items/42", "limit=abc", b""),
                ("/items/42", "q=" + "x" * 51, b""),
            ),
        ),
        Scenario(
            "users",
            "POST",
            "/users",
            201,
            "application/json",
            "POST /users JSON validated into {name, email, age >= 0, tags: list[str]}, 201 echo",
            body=_USER_BODY,
            content_type="application/json",
            json=USER,
            bad=(
                ("/users", "", json.dumps({**USER, "age": -1}).encode()),
                ("/users", "", json.dumps({**USER, "tags": "math"}).encode()),
                ("/users", "", b"{not json"),
            ),
        ),
        Scenario(
            "deps",
            "GET",
            "/deps",
            200,
            "application/json",
            "GET /deps: handler <- repo <- db <- settings, async providers, resolved per request",
            json=DEPS_ANSWER,
        ),
        Scenario(
            "deps_sync",
            "GET",
            "/deps-sync",
            200,
            "application/json",
            "GET /deps-sync: the same chain with sync (def) providers",
            json=DEPS_ANSWER,
        ),
        Scenario(
            "classic",
            "GET",
            "/classic",
            200,
            "text/html",
            "GET /classic?name=Ada: query arg + signed session value + a Jinja2 template",
            query="name=Ada",
            contains="<p>Hello Ada! Signed in as ada.</p>",
            cookie=True,
        ),
    )
}


def scenario_names() -> list[str]:
    """Every scenario, in table order."""
    return list(SCENARIOS)


def check(scenario: Scenario, status: int, headers: dict[str, str], body: bytes) -> str | None:
    """None if the answer is right, else what is wrong with it. ``headers`` keys are lower case."""
    if status != scenario.status:
        return f"status {status}, expected {scenario.status}: {body[:200]!r}"
    media_type = headers.get("content-type", "")
    if not media_type.startswith(scenario.media_type):
        return f"content-type {media_type!r}, expected {scenario.media_type}"
    if scenario.json is not None:
        try:
            data = json.loads(body)
        except ValueError:
            return f"body is not JSON: {body[:200]!r}"
        if data != scenario.json:
            return f"JSON {data!r}, expected {scenario.json!r}"
    if scenario.text is not None and body.decode("utf-8", "replace") != scenario.text:
        return f"body {body[:200]!r}, expected {scenario.text!r}"
    if scenario.contains is not None and scenario.contains not in body.decode("utf-8", "replace"):
        return f"body {body[:300]!r} lacks {scenario.contains!r}"
    return None
