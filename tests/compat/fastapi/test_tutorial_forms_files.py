"""FastAPI tutorial: "Form Data", "Form Models", "Request Files" and "Request Forms and Files"."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

from typing import Annotated, Any

from pydantic import BaseModel

from ._diff import Req, compare


class FormData(BaseModel):
    username: str
    password: str
    model_config = {"extra": "forbid"}


def build(fastapi: Any, starlette: Any) -> Any:
    app = fastapi.FastAPI()
    UploadFile, File, Form = fastapi.UploadFile, fastapi.File, fastapi.Form

    @app.post("/login/")
    async def login(username: Annotated[str, Form()], password: Annotated[str, Form(min_length=3)]):
        return {"username": username, "password_length": len(password)}

    @app.post("/login-model/")
    async def login_model(data: Annotated[FormData, Form()]):
        return data

    @app.post("/tags/")
    async def tags(tags: Annotated[list[str], Form()], count: Annotated[int, Form()] = 0):
        return {"tags": tags, "count": count}

    @app.post("/files/")
    async def create_file(file: Annotated[bytes, File(description="A file read as bytes")]):
        return {"file_size": len(file)}

    @app.post("/uploadfile/")
    async def create_upload_file(file: UploadFile):
        content = await file.read()
        return {"filename": file.filename, "content_type": file.content_type, "size": file.size, "len": len(content)}

    @app.post("/optional-file/")
    async def optional_file(file: UploadFile | None = None):
        return {"filename": file.filename if file else None}

    @app.post("/multiple/")
    async def multiple(files: Annotated[list[UploadFile], File(description="Multiple files")]):
        return {"filenames": [file.filename for file in files]}

    @app.post("/multiple-bytes/")
    async def multiple_bytes(files: Annotated[list[bytes], File()]):
        return {"file_sizes": [len(file) for file in files]}

    @app.post("/forms-and-files/")
    async def forms_and_files(
        file: Annotated[bytes, File()],
        fileb: Annotated[UploadFile, File()],
        token: Annotated[str, Form()],
    ):
        return {"file_size": len(file), "token": token, "fileb_content_type": fileb.content_type}

    @app.get("/form-page/", response_class=fastapi.responses.HTMLResponse)
    async def main():
        return '<form action="/files/" enctype="multipart/form-data" method="post"><input name="files" type="file">'

    return app


def test_form_data() -> None:
    compare(
        build,
        [
            Req("POST", "/login/", data={"username": "johndoe", "password": "secret"}),
            Req("POST", "/login/", data={"username": "johndoe", "password": "se"}),
            Req("POST", "/login/", data={"username": "johndoe"}),
            Req("POST", "/login/"),
            Req("POST", "/login/", json={"username": "johndoe", "password": "secret"}),
            Req("POST", "/login/", files={"username": (None, "multi"), "password": (None, "part!")}),
            Req("POST", "/tags/", data={"tags": ["a", "b"], "count": "2"}),
            Req("POST", "/tags/", data={"count": "x"}),
        ],
    )


def test_form_models() -> None:
    compare(
        build,
        [
            Req("POST", "/login-model/", data={"username": "a", "password": "b"}),
            Req("POST", "/login-model/", data={"username": "a", "password": "b", "extra": "c"}),
            Req("POST", "/login-model/", data={"username": "a"}),
        ],
    )


def test_request_files() -> None:
    compare(
        build,
        [
            Req("POST", "/files/", files={"file": ("a.txt", b"hello")}),
            Req("POST", "/files/"),
            Req("POST", "/files/", data={"file": "not a file"}),
            Req("POST", "/uploadfile/", files={"file": ("a.txt", b"hello world", "text/plain")}),
            Req("POST", "/uploadfile/", files={"file": ("", b"")}),
            Req("POST", "/uploadfile/", data={"file": "text"}),
            Req("POST", "/uploadfile/"),
            Req("POST", "/optional-file/"),
            Req("POST", "/optional-file/", files={"file": ("b.bin", b"\x00\x01")}),
            Req("POST", "/multiple/", files=[("files", ("a.txt", b"1")), ("files", ("b.txt", b"22"))]),
            Req("POST", "/multiple/", files=[("files", ("a.txt", b"1"))]),
            Req("POST", "/multiple-bytes/", files=[("files", ("a.txt", b"1")), ("files", ("b.txt", b"22"))]),
            Req("GET", "/form-page/"),
        ],
    )


def test_request_forms_and_files() -> None:
    compare(
        build,
        [
            Req(
                "POST",
                "/forms-and-files/",
                data={"token": "abc"},
                files={"file": ("a.txt", b"hello"), "fileb": ("b.csv", b"1,2", "text/csv")},
            ),
            Req("POST", "/forms-and-files/", data={"token": "abc"}),
            Req("POST", "/forms-and-files/", files={"file": ("a.txt", b"hello")}),
        ],
    )
