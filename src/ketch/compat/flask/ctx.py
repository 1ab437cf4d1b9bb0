"""``flask.ctx``."""

from ketch.ctx import (
    AppContext,
    RequestContext,
    after_this_request,
    copy_current_request_context,
    has_app_context,
    has_request_context,
)
from ketch.ctx import AppGlobals as _AppCtxGlobals

__all__ = [
    "AppContext",
    "RequestContext",
    "_AppCtxGlobals",
    "after_this_request",
    "copy_current_request_context",
    "has_app_context",
    "has_request_context",
]
