"""FastAPI tutorial, "Path Parameters" and "Path Parameters and Numeric Validations", on both surfaces."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

from enum import Enum
from typing import Annotated, Any

from ._diff import Req, compare


class ModelName(str, Enum):  # noqa: UP042 - written as the FastAPI docs write it
    alexnet = "alexnet"
    resnet = "resnet"
    lenet = "lenet"


def build(fastapi: Any, starlette: Any) -> Any:
    app = fastapi.FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int):
        return {"item_id": item_id}

    @app.get("/users/me")
    async def read_user_me():
        return {"user_id": "the current user"}

    @app.get("/users/{user_id}")
    async def read_user(user_id: str):
        return {"user_id": user_id}

    @app.get("/models/{model_name}")
    async def get_model(model_name: ModelName):
        if model_name is ModelName.alexnet:
            return {"model_name": model_name, "message": "Deep Learning FTW!"}
        if model_name.value == "lenet":
            return {"model_name": model_name, "message": "LeCNN all the images"}
        return {"model_name": model_name, "message": "Have some residuals"}

    @app.get("/files/{file_path:path}")
    async def read_file(file_path: str):
        return {"file_path": file_path}

    @app.get("/floats/{value}")
    async def read_float(value: float):
        return {"value": value}

    @app.get("/bools/{flag}")
    async def read_bool(flag: bool):
        return {"flag": flag}

    @app.get("/numeric/{item_id}")
    async def read_numeric(
        item_id: Annotated[int, fastapi.Path(title="The ID of the item to get", ge=0, le=1000)],
        q: str,
        size: Annotated[float, fastapi.Query(gt=0, lt=10.5)],
    ):
        return {"item_id": item_id, "q": q, "size": size}

    @app.get("/star/{item_id}")
    async def read_star(*, item_id: int = fastapi.Path(title="The ID", gt=0), q: str):
        return {"item_id": item_id, "q": q}

    return app


def test_path_parameters_with_types() -> None:
    compare(
        build,
        [
            Req("GET", "/items/3"),
            Req("GET", "/items/foo"),
            Req("GET", "/items/4.2"),
            Req("GET", "/items/-7"),
            Req("GET", "/items/99999999999999999999999"),
            Req("GET", "/floats/4.5"),
            Req("GET", "/bools/yes"),
            Req("GET", "/bools/0"),
            Req("GET", "/bools/maybe"),
        ],
    )


def test_non_finite_float_result_is_a_server_error() -> None:
    # pydantic accepts "1e309" (inf) and "nan"; neither can be sent as JSON: a 500, never invalid JSON.
    compare(build, [Req("GET", "/floats/1e309"), Req("GET", "/floats/nan")], raise_server_exceptions=False)


def test_order_matters_and_enums() -> None:
    compare(
        build,
        [
            Req("GET", "/users/me"),
            Req("GET", "/users/alice"),
            Req("GET", "/models/alexnet"),
            Req("GET", "/models/lenet"),
            Req("GET", "/models/resnet"),
            Req("GET", "/models/vgg"),
        ],
    )


def test_path_convertor() -> None:
    compare(
        build,
        [
            Req("GET", "/files/home/johndoe/myfile.txt"),
            Req("GET", "/files//home/johndoe/myfile.txt"),
            Req("GET", "/files/a%20b/c%2Fd"),
        ],
    )


def test_numeric_validations() -> None:
    compare(
        build,
        [
            Req("GET", "/numeric/42?q=x&size=1.5"),
            Req("GET", "/numeric/-1?q=x&size=1.5"),
            Req("GET", "/numeric/1001?q=x&size=10.5"),
            Req("GET", "/numeric/5?size=0"),
            Req("GET", "/numeric/5"),
            Req("GET", "/star/3?q=a"),
            Req("GET", "/star/0?q=a"),
            Req("GET", "/star/3"),
        ],
    )


def test_unknown_paths_and_methods() -> None:
    compare(
        build,
        [
            Req("GET", "/nothing/here"),
            Req("POST", "/items/3"),
            Req("PROPFIND", "/items/3"),
            Req("OPTIONS", "/items/3"),
            Req("HEAD", "/items/3"),
            Req("GET", "/items/3/", follow_redirects=False),
            Req("GET", "/items/3/"),
        ],
    )
