"""The docs UIs' JavaScript and CSS, served by the app itself: no CDN, no external font, no network.

The files come from the ``offapi`` package (a dependency of ketch), which pins and ships Swagger UI, ReDoc and
Scalar builds inside its wheel. Each file is read on its first request and kept in memory; responses carry a long
cache lifetime, since a file only changes when ``offapi`` is upgraded (and its version is part of the ETag).
"""

from __future__ import annotations

from importlib import metadata, resources

from ketch.responses import Response

__all__ = ["ASSETS", "AssetNotFound", "asset_response", "read_asset"]

# Served name -> (file in the offapi package, media type). ReDoc 3 is an ES module: its name ends in ``.mjs``
# so the page loads it with ``type="module"``.
ASSETS: dict[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": ("swagger_bundle.js", "text/javascript"),
    "swagger-ui-standalone-preset.js": ("swagger_preset.js", "text/javascript"),
    "swagger-ui.css": ("swagger_style.css", "text/css"),
    "redoc.standalone.mjs": ("redoc.js", "text/javascript"),
    "scalar-api-reference.js": ("scalar.js", "text/javascript"),
}

_cache: dict[str, bytes] = {}


class AssetNotFound(LookupError):
    """The name is not a docs asset, or the ``offapi`` package that ships the assets is not installed."""


def read_asset(name: str) -> bytes:
    """The bytes of the docs asset ``name`` (one of ``ASSETS``)."""
    found = _cache.get(name)
    if found is not None:
        return found
    if name not in ASSETS:
        raise AssetNotFound(name)
    try:
        data = (resources.files("offapi") / ASSETS[name][0]).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise AssetNotFound(f"{name}: the docs assets come with the 'offapi' package: pip install offapi") from exc
    _cache[name] = data
    return data


def _version() -> str:
    try:
        return metadata.version("offapi")
    except metadata.PackageNotFoundError:
        return "0"


def asset_response(name: str, if_none_match: str | None = None) -> Response:
    """The response for ``GET <docs_assets_url>/<name>``: the file, a 304, or a 404."""
    try:
        data = read_asset(name)
    except AssetNotFound:
        return Response(b"Not Found", status_code=404, media_type="text/plain")
    etag = f'"offapi-{_version()}-{name}"'
    headers = {"Cache-Control": "public, max-age=604800", "ETag": etag}
    if if_none_match == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=ASSETS[name][1], headers=headers)
