"""Reverse routing: from a route name and parameters back to a path."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ketch.routing.convertors import Convertor, compile_path
from ketch.routing.route import Mount

if TYPE_CHECKING:
    from ketch.routing.router import WalkedRoute

__all__ = ["NoMatchFound", "url_path_for"]


class NoMatchFound(Exception):
    """No route has that name, or the parameters given do not fit its path."""

    def __init__(self, name: str, path_params: dict[str, Any]) -> None:
        params = ", ".join(path_params)
        super().__init__(f'No route exists for name "{name}" and params "{params}".')


def url_path_for(walked: Iterable[WalkedRoute], name: str, path_params: dict[str, Any]) -> str:
    """Find the route called ``name`` (``mount:child`` reaches into mounted apps) and fill in its path."""
    for item in walked:
        route = item.route
        if isinstance(route, Mount):
            found = _through_mount(item.path, route, name, path_params)
            if found is not None:
                return found
            continue
        if route.name != name:
            continue
        try:
            return fill_path(item.path, path_params, name)
        except NoMatchFound:
            continue
    raise NoMatchFound(name, path_params)


def _through_mount(path: str, mount: Mount, name: str, path_params: dict[str, Any]) -> str | None:
    """The URL of the mount itself or of a route inside it, or None. A mount's own parameters
    (``/users/{uid}``) fill its prefix; the others go to the mounted app."""
    own = _compiled(path)[1]
    mine = {key: value for key, value in path_params.items() if key in own}
    rest = {key: value for key, value in path_params.items() if key not in own}
    try:
        prefix = fill_path(path, mine, name) if own else path
    except NoMatchFound:
        return None
    if name == mount.name and set(rest) == {"path"}:
        # The mount itself: url_path_for("static", path="css/site.css").
        return prefix + "/" + str(rest["path"]).lstrip("/")
    if mount.name is not None and not name.startswith(mount.name + ":"):
        return None
    child = getattr(mount.app, "url_path_for", None)
    if child is None:
        return None
    try:
        # A named mount's children are "mount:child"; an unnamed mount's are reached by their own names.
        inner = child(name if mount.name is None else name[len(mount.name) + 1 :], **rest)
    except NoMatchFound:
        return None
    return prefix + "/" + str(inner).lstrip("/")


@functools.lru_cache(maxsize=4096)
def _compiled(path: str) -> tuple[str, dict[str, Convertor]]:
    _, path_format, convertors = compile_path(path)
    return path_format, convertors


def fill_path(path: str, params: dict[str, Any], name: str) -> str:
    """``path`` with each ``{param}`` replaced by its value; NoMatchFound if the params do not fit."""
    path_format, full_convertors = _compiled(path)
    if set(params) != set(full_convertors):
        raise NoMatchFound(name, params)
    filled = path_format
    for key, value in params.items():
        try:
            text = full_convertors[key].to_string(value)
        except (ValueError, TypeError):
            raise NoMatchFound(name, params) from None
        filled = filled.replace("{" + key + "}", text)
    return filled
