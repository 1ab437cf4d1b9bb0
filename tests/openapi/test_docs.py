"""The docs routes: the document, Swagger UI, ReDoc, Scalar and their assets, served by the app, offline."""

import re
from typing import Any

import pytest

from ketch import Ketch, Request, Router
from ketch.openapi.docs import get_redoc_html, get_scalar_html, get_swagger_ui_html
from ketch.routing import NoMatchFound
from ketch.testclient import TestClient

EXTERNAL = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""")


def make_app(**options: Any) -> Ketch:
    app = Ketch(**options)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    return app


def test_every_docs_page_loads_only_from_the_app() -> None:
    with TestClient(make_app(title="Shop")) as client:
        pages = {url: client.get(url) for url in ("/docs", "/redoc", "/scalar")}
        for url, page in pages.items():
            assert page.status_code == 200, url
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            assert EXTERNAL.search(page.text) is None, url
            assert "fonts.googleapis" not in page.text
            for asset in re.findall(r"""(?:src|href)="(/docs-assets/[^"]+)\"""", page.text):
                loaded = client.get(asset)
                assert loaded.status_code == 200, asset
                assert len(loaded.content) > 100_000, asset
        assert "<title>Shop - Swagger UI</title>" in pages["/docs"].text
        assert all('<link rel="icon" href="data:,">' in page.text for page in pages.values())
        assert all("default-src 'self'" in page.headers["content-security-policy"] for page in pages.values())
        assert 'url: "/openapi.json"' in pages["/docs"].text
        assert 'oauth2RedirectUrl: window.location.origin + "/docs/oauth2-redirect"' in pages["/docs"].text
        assert '<redoc spec-url="/openapi.json">' in pages["/redoc"].text
        assert 'type="module" src="/docs-assets/redoc.standalone.mjs"' in pages["/redoc"].text
        assert 'data-url="/openapi.json"' in pages["/scalar"].text
        assert "withDefaultFonts&quot;: false" in pages["/scalar"].text
        assert "Swagger UI: OAuth2 Redirect" in client.get("/docs/oauth2-redirect").text


def test_assets_are_cached_and_unknown_ones_are_404() -> None:
    with TestClient(make_app()) as client:
        css = client.get("/docs-assets/swagger-ui.css")
        assert css.headers["content-type"] == "text/css; charset=utf-8"
        assert css.headers["cache-control"] == "public, max-age=604800"
        again = client.get("/docs-assets/swagger-ui.css", headers={"If-None-Match": css.headers["etag"]})
        assert (again.status_code, again.content) == (304, b"")
        js = client.get("/docs-assets/scalar-api-reference.js")
        assert js.headers["content-type"] == "text/javascript; charset=utf-8"
        assert client.get("/docs-assets/../app.py").status_code == 404
        assert client.get("/docs-assets/nothing.js").status_code == 404


def test_urls_titles_and_switches() -> None:
    app = make_app(
        title="Custom",
        openapi_url="/api/schema.json",
        docs_url="/swagger",
        redoc_url=None,
        scalar_url="/reference",
        swagger_ui_oauth2_redirect_url=None,
        docs_assets_url="/static-docs",
        swagger_ui_parameters={"syntaxHighlight": False, "deepLinking": False},
        swagger_ui_init_oauth={"clientId": "my-client", "usePkceWithAuthorizationCodeGrant": True},
        scalar_configuration={"theme": "moon"},
    )
    app.docs_favicon_url = "/static/favicon.png"
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/api/schema.json").json()["info"]["title"] == "Custom"
        assert '<link rel="icon" href="/static/favicon.png">' in client.get("/reference").text
        swagger = client.get("/swagger").text
        assert 'url: "/api/schema.json"' in swagger
        assert '"syntaxHighlight": false' in swagger and '"deepLinking": false' in swagger
        assert 'ui.initOAuth({"clientId": "my-client", "usePkceWithAuthorizationCodeGrant": true})' in swagger
        assert "oauth2RedirectUrl" not in swagger
        assert 'src="/static-docs/swagger-ui-bundle.js"' in swagger
        assert client.get("/static-docs/swagger-ui-bundle.js").status_code == 200
        assert client.get("/redoc").status_code == 404
        assert client.get("/docs").status_code == 404
        assert "theme&quot;: &quot;moon" in client.get("/reference").text


def test_openapi_url_none_switches_everything_off() -> None:
    with TestClient(make_app(openapi_url=None)) as client:
        for url in (
            "/openapi.json",
            "/docs",
            "/redoc",
            "/scalar",
            "/docs/oauth2-redirect",
            "/docs-assets/swagger-ui.css",
        ):
            assert client.get(url).status_code == 404, url


def test_docs_routes_are_not_in_the_document_and_come_first() -> None:
    app = make_app()

    @app.get("/{anything:path}")
    async def catch_all(anything: str) -> dict[str, str]:
        return {"caught": anything}

    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
        assert set(document["paths"]) == {"/items/{item_id}", "/{anything}"}
        assert client.get("/docs").headers["content-type"].startswith("text/html")
        assert client.get("/elsewhere").json() == {"caught": "elsewhere"}


def test_docs_routes_are_reachable_by_name() -> None:
    app = Ketch(docs_url="/api/docs", redoc_url=None)

    @app.get("/links")
    async def links(request: Request) -> dict[str, str]:
        return {"docs": str(request.url_for("swagger_ui_html")), "document": str(request.url_for("openapi"))}

    assert app.url_path_for("swagger_ui_html") == "/api/docs"
    assert app.url_path_for("scalar_html") == "/scalar"
    assert TestClient(app).get("/links").json() == {
        "docs": "http://testserver/api/docs",
        "document": "http://testserver/openapi.json",
    }
    with pytest.raises(NoMatchFound):
        app.url_path_for("redoc_html")  # switched off
    assert all(getattr(route, "name", None) != "swagger_ui_html" for route in app.routes)


def test_root_path_reaches_urls_and_servers() -> None:
    app = make_app(root_path="/api/v1")
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
        assert document["servers"] == [{"url": "/api/v1"}]
        page = client.get("/docs").text
        assert 'url: "/api/v1/openapi.json"' in page
        assert 'src="/api/v1/docs-assets/swagger-ui-bundle.js"' in page
        assert "/api/v1/docs/oauth2-redirect" in page
        assert 'spec-url="/api/v1/openapi.json"' in client.get("/redoc").text


def test_mounted_app_serves_its_own_docs() -> None:
    parent = Ketch()
    child = make_app(title="Child")
    parent.mount("/sub", child)
    with TestClient(parent) as client:
        assert client.get("/sub/openapi.json").json()["servers"] == [{"url": "/sub"}]
        assert 'url: "/sub/openapi.json"' in client.get("/sub/docs").text
        assert client.get("/sub/docs-assets/swagger-ui.css").status_code == 200


def test_the_document_is_cached_and_rebuilt_for_new_routes() -> None:
    app = make_app()
    first = app.openapi()
    assert app.openapi() is first
    router = Router()

    @router.get("/later")
    async def later() -> dict[str, str]:
        return {}

    app.include_router(router)
    second = app.openapi()
    assert second is not first and "/later" in second["paths"]


def test_a_custom_openapi_method_is_served() -> None:
    app = make_app()

    def custom() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        from ketch.openapi import get_openapi

        schema = get_openapi(title="Custom title", version="2.5.0", routes=app)
        schema["info"]["x-logo"] = {"url": "/logo.png"}
        app.openapi_schema = schema
        return schema

    app.openapi = custom  # type: ignore[method-assign]
    with TestClient(app) as client:
        assert client.get("/openapi.json").json()["info"] == {
            "title": "Custom title",
            "version": "2.5.0",
            "x-logo": {"url": "/logo.png"},
        }


@pytest.mark.parametrize(
    ("render", "marker"),
    [
        (lambda: get_swagger_ui_html(openapi_url="/o.json", title="T</title><script>"), "T&lt;/title&gt;"),
        (lambda: get_redoc_html(openapi_url='/o.json"><script>', title="T"), "/o.json&quot;&gt;&lt;script&gt;"),
        (lambda: get_scalar_html(openapi_url="/o.json", title="<b>"), "<title>&lt;b&gt;</title>"),
    ],
)
def test_pages_escape_what_they_are_given(render: Any, marker: str) -> None:
    assert marker in render().body.decode()


def test_cdn_and_google_fonts_only_on_request() -> None:
    page = get_redoc_html(
        openapi_url="/o.json",
        title="T",
        redoc_js_url="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js",
        with_google_fonts=True,
    ).body.decode()
    assert '<script src="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js">' in page
    assert "fonts.googleapis.com" in page
    swagger = get_swagger_ui_html(
        openapi_url="/o.json", title="T", swagger_js_url="https://cdn/x.js", swagger_favicon_url="/favicon.png"
    ).body.decode()
    assert 'src="https://cdn/x.js"' in swagger and 'href="/favicon.png"' in swagger
