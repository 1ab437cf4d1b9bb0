"""FastAPI's "Middleware", "CORS", "Advanced Middleware", "Static Files", "Templates" and "Including WSGI"."""

# The apps are written against an import surface passed in: their annotations are dynamic by design.
# mypy: disable-error-code="untyped-decorator, name-defined, valid-type, no-untyped-def"
# mypy: disable-error-code="attr-defined, misc, no-untyped-call, arg-type"

from pathlib import Path
from typing import Any

from ._diff import Req, compare

HERE = Path(__file__).parent


def flask_app() -> Any:
    from flask import Flask, request
    from markupsafe import escape

    flask = Flask(__name__)

    @flask.get("/")
    def flask_main() -> str:
        name = request.args.get("name", "World")
        return f"Hello, {escape(name)} from Flask!"

    @flask.post("/echo")
    def flask_echo() -> Any:
        return {"got": request.get_json(), "path": request.path, "script": request.script_root}

    return flask


def plain_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = f"{environ['REQUEST_METHOD']} {environ['SCRIPT_NAME']}|{environ['PATH_INFO']}?{environ['QUERY_STRING']}"
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-WSGI", "yes")])
    return [body.encode()]


def build(fastapi: Any, starlette: Any) -> Any:
    middleware = fastapi.middleware
    app = fastapi.FastAPI(
        middleware=[
            middleware.Middleware(
                middleware.cors.CORSMiddleware,
                allow_origins=["https://example.com", "http://localhost:8080"],
                allow_credentials=True,
                allow_methods=["*"],
                allow_headers=["*"],
                expose_headers=["X-Process"],
            )
        ]
    )
    app.add_middleware(middleware.gzip.GZipMiddleware, minimum_size=100, compresslevel=5)
    app.add_middleware(middleware.trustedhost.TrustedHostMiddleware, allowed_hosts=["testserver", "*.example.com"])

    @app.middleware("http")
    async def add_process_header(request: fastapi.Request, call_next: Any):
        response = await call_next(request)
        response.headers["X-Process"] = "done"
        return response

    class Tagger(starlette.middleware.base.BaseHTTPMiddleware):
        async def dispatch(self, request: Any, call_next: Any) -> Any:
            if request.url.path == "/short-circuit":
                return fastapi.responses.PlainTextResponse("from middleware", status_code=202)
            response = await call_next(request)
            response.headers["X-Tagged"] = "1"
            return response

    app.add_middleware(Tagger)

    @app.get("/")
    async def main():
        return {"message": "Hello World"}

    @app.get("/big")
    async def big():
        return {"data": "x" * 1000}

    templates = fastapi.templating.Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", fastapi.staticfiles.StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/items/{id}", response_class=fastapi.responses.HTMLResponse)
    async def read_item(request: fastapi.Request, id: str):
        return templates.TemplateResponse(request=request, name="item.html", context={"id": id, "note": "<b>"})

    app.mount("/v1", middleware.wsgi.WSGIMiddleware(flask_app()))
    app.mount("/plain", middleware.wsgi.WSGIMiddleware(plain_wsgi))
    return app


def test_custom_and_cors_middleware() -> None:
    origin = {"origin": "https://example.com"}
    compare(
        build,
        [
            Req("GET", "/"),
            Req("GET", "/", headers=origin),
            # Starlette also sends Allow-Credentials and Expose-Headers to a disallowed origin; without an
            # Allow-Origin they mean nothing, and ketch leaves them out.
            Req(
                "GET",
                "/",
                headers={"origin": "https://evil.com"},
                ignore_headers=["access-control-allow-credentials", "access-control-expose-headers"],
            ),
            Req(
                "OPTIONS",
                "/",
                headers={**origin, "access-control-request-method": "POST", "access-control-request-headers": "x-a"},
            ),
            Req(
                "OPTIONS",
                "/",
                headers={"origin": "https://evil.com", "access-control-request-method": "GET"},
                ignore_headers=["access-control-allow-credentials"],
            ),
            Req("GET", "/short-circuit"),
        ],
    )


def test_gzip_and_trusted_host() -> None:
    compare(
        build,
        [
            Req("GET", "/big", headers={"accept-encoding": "gzip"}),
            Req("GET", "/big", headers={"accept-encoding": "identity"}),
            Req("GET", "/", headers={"accept-encoding": "gzip"}),
            Req("GET", "/", headers={"host": "api.example.com"}),
            Req("GET", "/", headers={"host": "evil.com"}),
        ],
    )


def test_https_redirect() -> None:
    def build_https(fastapi: Any, starlette: Any) -> Any:
        app = fastapi.FastAPI()
        app.add_middleware(fastapi.middleware.httpsredirect.HTTPSRedirectMiddleware)

        @app.get("/")
        async def main():
            return {"message": "Hello World"}

        return app

    compare(
        build_https,
        [Req("GET", "/?a=1", follow_redirects=False), Req("GET", "https://testserver/", follow_redirects=False)],
    )


def test_static_files_and_templates() -> None:
    compare(
        build,
        [
            Req("GET", "/static/styles.css"),
            Req("GET", "/static/missing.css"),
            Req("GET", "/static/../_diff.py"),
            Req("GET", "/items/42"),
        ],
    )


def test_including_wsgi() -> None:
    compare(
        build,
        [
            Req("GET", "/v1/?name=<b>ketch</b>"),
            Req("POST", "/v1/echo", json={"a": 1}),
            Req("GET", "/v1/missing"),
            Req("GET", "/plain/some/path?x=%20y"),
            Req("DELETE", "/plain/"),
        ],
    )
