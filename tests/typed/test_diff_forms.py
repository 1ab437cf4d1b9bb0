"""Differential tests: form fields, form models, files (UploadFile and bytes), on FastAPI and on ketch."""

# The app is built twice, from two import surfaces held in a namespace: its annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, attr-defined, misc, assignment"

from types import SimpleNamespace
from typing import Annotated, Any

from pydantic import BaseModel

from ._diff import Req, compare


class Login(BaseModel):
    model_config = {"extra": "forbid"}
    username: str
    password: str
    remember: bool = False


def build(api: SimpleNamespace) -> object:
    app = api.App()

    @app.post("/login")
    async def login(
        username: Annotated[str, api.Form()],
        password: Annotated[str, api.Form(min_length=3)],
        tags: Annotated[list[str], api.Form()] = [],  # noqa: B006
        age: Annotated[int | None, api.Form()] = None,
    ) -> dict[str, Any]:
        return {"username": username, "password": password, "tags": tags, "age": age}

    @app.post("/model")
    async def model(data: Annotated[Login, api.Form()]) -> Login:
        return data

    @app.post("/files")
    async def files(
        file: Annotated[bytes, api.File()],
        upload: api.UploadFile,
        note: Annotated[str, api.Form()] = "",
    ) -> dict[str, Any]:
        content = await upload.read()
        return {
            "file": len(file),
            "name": upload.filename,
            "type": upload.content_type,
            "content": content.decode(),
            "note": note,
        }

    @app.post("/many")
    async def many(files: list[api.UploadFile], blobs: Annotated[list[bytes], api.File()] = []) -> dict[str, Any]:  # noqa: B006
        return {"names": [f.filename for f in files], "blobs": [len(b) for b in blobs]}

    @app.post("/optional-file")
    async def optional_file(upload: api.UploadFile | None = None) -> dict[str, Any]:
        return {"name": upload.filename if upload else None}

    return app


def test_form_fields() -> None:
    compare(
        build,
        [
            Req("POST", "/login", data={"username": "bob", "password": "secret", "tags": ["a", "b"], "age": "3"}),
            Req("POST", "/login", data={"username": "bob", "password": "se", "age": "old"}),
            Req("POST", "/login", data={"username": "", "password": ""}),
            Req("POST", "/login"),
            Req("POST", "/login", json={"username": "bob", "password": "secret"}),
            Req("POST", "/login", files={"username": (None, "bob"), "password": (None, "secret")}),
            # The error's input is the UploadFile's attributes, which differ between the two UploadFile classes.
            Req(
                "POST",
                "/login",
                project=lambda body: [(e["type"], e["loc"], e["msg"]) for e in body["detail"]],
                files={"username": ("u.txt", b"bob"), "password": (None, "secret")},
            ),
        ],
    )


def test_form_models() -> None:
    compare(
        build,
        [
            Req("POST", "/model", data={"username": "bob", "password": "pw"}),
            Req("POST", "/model", data={"username": "bob", "password": "pw", "remember": "yes"}),
            Req("POST", "/model", data={"username": "bob", "extra": "no"}),
            Req("POST", "/model"),
        ],
    )


def test_files() -> None:
    compare(
        build,
        [
            Req("POST", "/files", files={"file": ("a.bin", b"12345"), "upload": ("b.txt", b"hello", "text/plain")}),
            Req("POST", "/files", files={"file": ("a.bin", b"1")}, data={"note": "n"}),
            Req("POST", "/files", data={"file": "text", "upload": "not a file"}),
            Req("POST", "/files"),
            Req(
                "POST",
                "/many",
                files=[("files", ("1.txt", b"1")), ("files", ("2.txt", b"22")), ("blobs", ("b", b"333"))],
            ),
            Req("POST", "/many", files=[("blobs", ("b", b"333"))]),
            Req("POST", "/optional-file"),
            Req("POST", "/optional-file", files={"upload": ("", b"")}),
            Req("POST", "/optional-file", files={"upload": ("x.txt", b"x")}),
        ],
    )
