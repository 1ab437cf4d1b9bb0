"""The interactive docs pages: Swagger UI, ReDoc and Scalar, plus Swagger UI's OAuth2 redirect page.

Each page is a small HTML document that loads its UI from the app's own docs assets (``openapi/assets.py``) and
points it at the app's OpenAPI document. Nothing is fetched from elsewhere unless asked: no CDN, no web font, no
favicon from another site. The functions keep FastAPI's names and arguments (``get_swagger_ui_html``,
``get_redoc_html``, ``get_swagger_ui_oauth2_redirect_html``), with ketch's offline defaults; pass CDN URLs to use a
CDN.
"""

from __future__ import annotations

import html
import json
from typing import Any

from ketch.encoders import jsonable_encoder
from ketch.responses import HTMLResponse

__all__ = [
    "DEFAULT_ASSETS_URL",
    "NO_FAVICON",
    "get_redoc_html",
    "get_scalar_html",
    "get_swagger_ui_html",
    "get_swagger_ui_oauth2_redirect_html",
    "scalar_default_configuration",
    "swagger_ui_default_parameters",
]

DEFAULT_ASSETS_URL = "/docs-assets"
# An empty icon: the browser asks no server (not even this one) for a favicon.
NO_FAVICON = "data:,"

swagger_ui_default_parameters: dict[str, Any] = {
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
}

scalar_default_configuration: dict[str, Any] = {
    # Scalar loads Inter and JetBrains Mono from its own font server unless told not to.
    "withDefaultFonts": False,
    "telemetry": False,
}


def _html_safe_json(value: Any) -> str:
    """JSON that cannot close a ``<script>`` element or open a comment inside one."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def get_swagger_ui_html(
    *,
    openapi_url: str,
    title: str,
    swagger_js_url: str = DEFAULT_ASSETS_URL + "/swagger-ui-bundle.js",
    swagger_css_url: str = DEFAULT_ASSETS_URL + "/swagger-ui.css",
    swagger_favicon_url: str = NO_FAVICON,
    oauth2_redirect_url: str | None = None,
    init_oauth: dict[str, Any] | None = None,
    swagger_ui_parameters: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The Swagger UI page for the document at ``openapi_url``.

    Args:
        openapi_url: where the page fetches the OpenAPI document.
        title: the page title.
        swagger_js_url: Swagger UI's script (default: the app's own copy).
        swagger_css_url: Swagger UI's stylesheet (default: the app's own copy).
        swagger_favicon_url: the page icon (default: none).
        oauth2_redirect_url: the OAuth2 redirect page, for "Authorize" with the authorization-code flow.
        init_oauth: settings passed to ``ui.initOAuth`` (client id, app name, PKCE...).
        swagger_ui_parameters: Swagger UI settings, merged over ``swagger_ui_default_parameters``.
    """
    parameters = {**swagger_ui_default_parameters, **(swagger_ui_parameters or {})}
    settings = "".join(
        f"{_html_safe_json(key)}: {_html_safe_json(jsonable_encoder(value))},\n" for key, value in parameters.items()
    )
    if oauth2_redirect_url:
        settings += f"oauth2RedirectUrl: window.location.origin + {_html_safe_json(oauth2_redirect_url)},"
    oauth = f"\n    ui.initOAuth({_html_safe_json(jsonable_encoder(init_oauth))})\n" if init_oauth else ""
    page = f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link type="text/css" rel="stylesheet" href="{_attr(swagger_css_url)}">
<link rel="icon" href="{_attr(swagger_favicon_url)}">
<title>{html.escape(title)}</title>
</head>
<body>
<div id="swagger-ui">
</div>
<script src="{_attr(swagger_js_url)}"></script>
<!-- `SwaggerUIBundle` is now available on the page -->
<script>
const ui = SwaggerUIBundle({{
    url: {_html_safe_json(openapi_url)},
{settings}
    presets: [
        SwaggerUIBundle.presets.apis,
        SwaggerUIBundle.SwaggerUIStandalonePreset
    ],
}})
{oauth}</script>
</body>
</html>
"""
    return HTMLResponse(page)


def get_redoc_html(
    *,
    openapi_url: str,
    title: str,
    redoc_js_url: str = DEFAULT_ASSETS_URL + "/redoc.standalone.mjs",
    redoc_favicon_url: str = NO_FAVICON,
    with_google_fonts: bool = False,
) -> HTMLResponse:
    """The ReDoc page for the document at ``openapi_url``.

    Args:
        openapi_url: where the page fetches the OpenAPI document.
        title: the page title.
        redoc_js_url: ReDoc's script (default: the app's own copy of ReDoc 3). A URL ending in ``.mjs`` is loaded
            as an ES module (ReDoc 3); any other as a classic script (ReDoc 2, as FastAPI's tutorials use).
        redoc_favicon_url: the page icon (default: none).
        with_google_fonts: load Montserrat and Roboto from Google Fonts (off by default: it needs the network).
    """
    fonts = ""
    if with_google_fonts:
        fonts = (
            '<link href="https://fonts.googleapis.com/css?family=Montserrat:300,400,700|Roboto:300,400,700" '
            'rel="stylesheet">\n'
        )
    script_type = ' type="module"' if redoc_js_url.split("?")[0].endswith(".mjs") else ""
    page = f"""<!DOCTYPE html>
<html>
<head>
<title>{html.escape(title)}</title>
<!-- needed for adaptive design -->
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1">
{fonts}<link rel="icon" href="{_attr(redoc_favicon_url)}">
<!--
ReDoc doesn't change outer page styles
-->
<style>
  body {{
    margin: 0;
    padding: 0;
  }}
</style>
</head>
<body>
<noscript>
    ReDoc requires Javascript to function. Please enable it to browse the documentation.
</noscript>
<redoc spec-url="{_attr(openapi_url)}"></redoc>
<script{script_type} src="{_attr(redoc_js_url)}"> </script>
</body>
</html>
"""
    return HTMLResponse(page)


def get_scalar_html(
    *,
    openapi_url: str,
    title: str,
    scalar_js_url: str = DEFAULT_ASSETS_URL + "/scalar-api-reference.js",
    scalar_favicon_url: str = NO_FAVICON,
    configuration: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The Scalar API reference page for the document at ``openapi_url``.

    Args:
        openapi_url: where the page fetches the OpenAPI document.
        title: the page title.
        scalar_js_url: Scalar's standalone script (default: the app's own copy).
        scalar_favicon_url: the page icon (default: none).
        configuration: Scalar settings, merged over ``scalar_default_configuration`` (which turns off Scalar's
            web fonts and telemetry).
    """
    settings = {**scalar_default_configuration, **(configuration or {})}
    page = f"""<!doctype html>
<html>
<head>
<title>{html.escape(title)}</title>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<link rel="icon" href="{_attr(scalar_favicon_url)}">
<style>
  body {{
    margin: 0;
  }}
</style>
</head>
<body>
<script id="api-reference" data-url="{_attr(openapi_url)}"
        data-configuration="{_attr(json.dumps(jsonable_encoder(settings)))}"></script>
<script src="{_attr(scalar_js_url)}"></script>
</body>
</html>
"""
    return HTMLResponse(page)


def get_swagger_ui_oauth2_redirect_html() -> HTMLResponse:
    """Swagger UI's OAuth2 redirect page (from swagger-ui's ``dist/oauth2-redirect.html``)."""
    return HTMLResponse(_OAUTH2_REDIRECT_HTML)


# Copied from swagger-ui v4.14.0 dist/oauth2-redirect.html, as FastAPI serves it.
_OAUTH2_REDIRECT_HTML = """
<!doctype html>
<html lang="en-US">
<head>
    <title>Swagger UI: OAuth2 Redirect</title>
</head>
<body>
<script>
    'use strict';
    function run () {
        var oauth2 = window.opener.swaggerUIRedirectOauth2;
        var sentState = oauth2.state;
        var redirectUrl = oauth2.redirectUrl;
        var isValid, qp, arr;

        if (/code|token|error/.test(window.location.hash)) {
            qp = window.location.hash.substring(1).replace('?', '&');
        } else {
            qp = location.search.substring(1);
        }

        arr = qp.split("&");
        arr.forEach(function (v,i,_arr) { _arr[i] = '"' + v.replace('=', '":"') + '"';});
        qp = qp ? JSON.parse('{' + arr.join() + '}',
                function (key, value) {
                    return key === "" ? value : decodeURIComponent(value);
                }
        ) : {};

        isValid = qp.state === sentState;

        if ((
          oauth2.auth.schema.get("flow") === "accessCode" ||
          oauth2.auth.schema.get("flow") === "authorizationCode" ||
          oauth2.auth.schema.get("flow") === "authorization_code"
        ) && !oauth2.auth.code) {
            if (!isValid) {
                oauth2.errCb({
                    authId: oauth2.auth.name,
                    source: "auth",
                    level: "warning",
                    message: "Authorization may be unsafe, passed state was changed in server. The passed state wasn't returned from auth server."
                });
            }

            if (qp.code) {
                delete oauth2.state;
                oauth2.auth.code = qp.code;
                oauth2.callback({auth: oauth2.auth, redirectUrl: redirectUrl});
            } else {
                let oauthErrorMsg;
                if (qp.error) {
                    oauthErrorMsg = "["+qp.error+"]: " +
                        (qp.error_description ? qp.error_description+ ". " : "no accessCode received from the server. ") +
                        (qp.error_uri ? "More info: "+qp.error_uri : "");
                }

                oauth2.errCb({
                    authId: oauth2.auth.name,
                    source: "auth",
                    level: "error",
                    message: oauthErrorMsg || "[Authorization failed]: no accessCode received from the server."
                });
            }
        } else {
            oauth2.callback({auth: oauth2.auth, token: qp, isValid: isValid, redirectUrl: redirectUrl});
        }
        window.close();
    }

    if (document.readyState !== 'loading') {
        run();
    } else {
        document.addEventListener('DOMContentLoaded', function () {
            run();
        });
    }
</script>
</body>
</html>
"""  # noqa: E501
