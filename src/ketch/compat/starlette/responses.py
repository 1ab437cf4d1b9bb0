"""``starlette.responses``: ketch's responses with Starlette's defaults (``set_cookie`` adds ``HttpOnly`` only
when asked). Each class is also a subclass of this module's ``Response``, as in Starlette."""

from ketch import responses as _ketch
from ketch._files import FileResponse as _FileResponse

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]


class Response(_ketch.Response):
    cookie_httponly = False


class HTMLResponse(_ketch.HTMLResponse, Response):
    pass


class PlainTextResponse(_ketch.PlainTextResponse, Response):
    pass


class JSONResponse(_ketch.JSONResponse, Response):
    pass


class RedirectResponse(_ketch.RedirectResponse, Response):
    pass


class StreamingResponse(_ketch.StreamingResponse, Response):
    pass


class FileResponse(_FileResponse, Response):
    pass
