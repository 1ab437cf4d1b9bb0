"""StaticFiles: an ASGI app that serves the files under a directory (or a package's directory), and nothing else.

Mount it: ``app.mount("/static", StaticFiles(directory="static"), name="static")``.

Every URL path is checked before it touches the file system: a NUL, a backslash, a ``..`` segment, a drive letter
or a Windows device name is refused outright; the rest is joined to the root, resolved with ``realpath`` (symlinks
followed), and served only if the result still lies inside an allowed root. Whatever the reason a path is not
served (missing, outside the root, a directory, unreadable, a symlink loop), the answer is the same 404, so a
client cannot learn what exists.
"""

from __future__ import annotations

import importlib.util
import os
import stat
from collections.abc import Sequence
from typing import TypeAlias
from urllib.parse import quote

from ketch._files import FileResponse
from ketch.concurrency import run_in_threadpool
from ketch.requests import Request
from ketch.responses import JSONResponse, RedirectResponse, Response
from ketch.types import Message, Receive, Scope, Send

__all__ = ["StaticFiles", "clean_path", "route_path"]

PathLike: TypeAlias = "str | os.PathLike[str]"

_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"}
    | {f"{name}{n}" for name in ("COM", "LPT") for n in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³")}
)


def route_path(scope: Scope) -> str:
    """The request path below the mount: ``scope["path"]`` without ``scope["root_path"]``."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path) and (len(path) == len(root_path) or path[len(root_path)] == "/"):
        return path[len(root_path) :]
    return path


def clean_path(path: str) -> str | None:
    """``path`` (a URL path, ``/`` separated) as a relative OS path, or None if it could escape or misbehave.

    Refused on every OS, so a URL means the same thing everywhere: NUL, backslash, ``..``, a ``:`` (drive letters
    and NTFS streams) and Windows device names (``CON``, ``NUL.txt``, ``COM1``...). Empty and ``.`` segments are
    dropped; ``""`` means the root itself.
    """
    if "\x00" in path or "\\" in path:
        return None
    parts = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == ".." or ":" in segment:
            return None
        if segment.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
            return None
        parts.append(segment)
    return os.path.join(*parts) if parts else ""


def _inside(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([root, path]) == root
    except ValueError:  # different drives, or a mix of absolute and relative paths
        return False


class StaticFiles:
    """Serve files from ``directory`` and/or packages' directories; GET and HEAD only.

    Args:
        directory: the folder to serve.
        packages: packages whose folder to serve, as ``"pkg"`` (its ``statics`` folder) or ``("pkg", "folder")``.
        html: HTML mode: a directory serves its ``index.html`` (``/dir`` redirects to ``/dir/``) and a miss
            serves the root's ``404.html`` with status 404, when those files exist.
        check_dir: raise ``RuntimeError`` at construction if ``directory`` does not exist (else at the first
            request).
        follow_symlink: a symlink may lead into any of the served roots, not only the one it sits in. A target
            outside every root is never served.

    Files are sent by :class:`~ketch.responses.FileResponse`, so ETags, conditional requests and ranges work.
    """

    def __init__(
        self,
        *,
        directory: PathLike | None = None,
        packages: Sequence[str | tuple[str, str]] | None = None,
        html: bool = False,
        check_dir: bool = True,
        follow_symlink: bool = False,
    ) -> None:
        self.directory = directory
        self.packages = packages
        self.all_directories = self.get_directories(directory, packages)
        self.html = html
        self.follow_symlink = follow_symlink
        self.config_checked = False
        self._roots: list[str] = []
        if check_dir and directory is not None and not os.path.isdir(directory):
            raise RuntimeError(f"Directory '{directory}' does not exist")

    def get_directories(
        self, directory: PathLike | None = None, packages: Sequence[str | tuple[str, str]] | None = None
    ) -> list[PathLike]:
        """Every directory to serve from: ``directory``, then each package's folder."""
        directories: list[PathLike] = [] if directory is None else [directory]
        for package in packages or []:
            name, folder = package if isinstance(package, tuple) else (package, "statics")
            spec = importlib.util.find_spec(name)
            if spec is None or (spec.origin is None and not spec.submodule_search_locations):
                raise RuntimeError(f"Package {name!r} could not be found.")
            base = os.path.dirname(spec.origin) if spec.origin else list(spec.submodule_search_locations or [])[0]
            path = os.path.normpath(os.path.join(base, folder))
            if not os.path.isdir(path):
                raise RuntimeError(f"Directory {folder!r} in package {name!r} could not be found.")
            directories.append(path)
        return directories

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1000, "reason": ""})
            return
        if not self.config_checked:
            await run_in_threadpool(self.check_config)
        if scope["method"] not in ("GET", "HEAD"):
            response: Response = JSONResponse(
                {"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": "GET, HEAD"}
            )
        else:
            response = await self.get_response(route_path(scope), scope)
        if scope["method"] == "HEAD" and not isinstance(response, FileResponse):
            send = _without_body(send)
        await response(scope, receive, send)

    def check_config(self) -> None:
        """Check once that ``directory`` is a directory (loud error, not silent 404s) and resolve the roots."""
        if self.directory is not None and not os.path.isdir(self.directory):
            raise RuntimeError(f"StaticFiles directory '{self.directory}' does not exist or is not a directory.")
        self._roots = [os.path.realpath(directory) for directory in self.all_directories]
        self.config_checked = True

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The response for ``path`` (the URL path below the mount) on a GET or HEAD."""
        relative = clean_path(path)
        if relative is not None:
            full_path, stat_result = await run_in_threadpool(self.lookup_path, relative)
            if stat_result is not None and stat.S_ISREG(stat_result.st_mode):
                return self.file_response(full_path, stat_result, scope)
            if stat_result is not None and self.html:  # a directory
                index_path, index_stat = await run_in_threadpool(self.lookup_path, os.path.join(relative, "index.html"))
                if index_stat is not None and stat.S_ISREG(index_stat.st_mode):
                    if not scope["path"].endswith("/"):
                        return self._redirect_to_directory(scope)
                    return self.file_response(index_path, index_stat, scope)
        if self.html:
            full_path, stat_result = await run_in_threadpool(self.lookup_path, "404.html")
            if stat_result is not None and stat.S_ISREG(stat_result.st_mode):
                return FileResponse(full_path, status_code=404, stat_result=stat_result)
        return _not_found()

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        """The resolved file or directory for a relative ``path`` (from :func:`clean_path`) inside a root.

        Returns ``("", None)`` when nothing servable is there: missing, outside every allowed root, unreadable,
        a symlink loop, a name too long, or neither a regular file nor a directory.
        """
        for root in self._roots:
            try:
                full_path = os.path.realpath(os.path.join(root, path))
                allowed = self._roots if self.follow_symlink else [root]
                if not any(_inside(full_path, allowed_root) for allowed_root in allowed):
                    continue
                stat_result = os.stat(full_path)
            except (OSError, ValueError):  # ELOOP, ENAMETOOLONG, EACCES, ENOTDIR...; ValueError: unencodable
                continue
            mode = stat_result.st_mode
            if stat.S_ISDIR(mode) or (stat.S_ISREG(mode) and os.access(full_path, os.R_OK)):
                return full_path, stat_result
        return "", None

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        """The response for a file that was found; override to add headers such as ``Cache-Control``."""
        return FileResponse(full_path, status_code=status_code, stat_result=stat_result)

    def _redirect_to_directory(self, scope: Scope) -> Response:
        request = Request(scope)
        # Absolute, on our own host: a path like "//evil.com" can never become a protocol-relative Location.
        location = f"{scope.get('scheme', 'http')}://{request.host}"
        location += quote(scope["path"] + "/", safe="/:@!$&'()*+,;=-._~")
        query = scope.get("query_string", b"")
        if query:
            location += "?" + query.decode("latin-1")
        return RedirectResponse(location, status_code=307)


def _not_found() -> Response:
    """The one 404 StaticFiles sends for every path it does not serve, whatever the reason."""
    return JSONResponse({"detail": "Not Found"}, status_code=404)


def _without_body(send: Send) -> Send:
    async def send_headers_only(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_headers_only
