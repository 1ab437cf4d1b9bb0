"""``starlette.exceptions``: the same classes ``ketch.compat.fastapi`` raises."""

from ketch.exceptions import HTTPException, WebSocketException

__all__ = ["HTTPException", "WebSocketException"]
