"""The classic face's context-locals: ``request``, ``session``, ``g`` and ``current_app``.

Each is a proxy over a context variable that ``ctx.py`` sets while a classic route runs (or inside
``app.app_context()`` / ``app.test_request_context()``). Context variables follow asyncio tasks and are copied into
the thread pool, so two concurrent requests never see each other's objects. Core modules never read these, and a
typed route never sets them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ketch.ctx import _cv_request
from ketch.ctx import current_app_context as _app_ctx
from ketch.ctx import current_request_context as _request_ctx

if TYPE_CHECKING:
    from ketch.ctx import AppContext, AppGlobals, RequestContext
    from ketch.sessions import SessionMixin
    from ketch.wrappers import Request

__all__ = [
    "ContextProxy",
    "app_ctx",
    "current_app",
    "g",
    "request",
    "request_ctx",
    "session",
]


class ContextProxy:
    """Forwards every operation to the object ``lookup()`` returns now; ``RuntimeError`` when there is none."""

    __slots__ = ("_lookup", "__wrapped__")

    def __init__(self, lookup: Callable[[], Any]) -> None:
        object.__setattr__(self, "_lookup", lookup)

    def _get_current_object(self) -> Any:
        """The object the proxy points at right now (pass this to another thread, not the proxy)."""
        return self._lookup()

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        try:
            return type(self._lookup())
        except RuntimeError:
            return ContextProxy

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lookup(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._lookup(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._lookup(), name)

    def __getitem__(self, key: Any) -> Any:
        return self._lookup()[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._lookup()[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._lookup()[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._lookup()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._lookup())

    def __len__(self) -> int:
        return len(self._lookup())

    def __bool__(self) -> bool:
        try:
            return bool(self._lookup())
        except RuntimeError:
            return False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._lookup()(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return bool(self._lookup() == other)

    def __ne__(self, other: object) -> bool:
        return bool(self._lookup() != other)

    def __hash__(self) -> int:
        return hash(self._lookup())

    def __str__(self) -> str:
        try:
            return str(self._lookup())
        except RuntimeError:
            return "<ContextProxy unbound>"

    def __repr__(self) -> str:
        try:
            return repr(self._lookup())
        except RuntimeError:
            return "<ContextProxy unbound>"

    def __dir__(self) -> list[str]:
        try:
            return dir(self._lookup())
        except RuntimeError:
            return []


class _RequestContextProxy(ContextProxy):
    """A proxy to an attribute of the active request context (``request``, ``session``).

    PERF: attribute reads (``request.args``, ``session.get``) reach the object with no lookup function calls.
    """

    __slots__ = ("_attribute",)

    def __init__(self, attribute: str) -> None:
        super().__init__(lambda: getattr(_request_ctx(), attribute))
        object.__setattr__(self, "_attribute", attribute)

    def __getattr__(self, name: str) -> Any:
        ctx = _cv_request.get(None)
        if ctx is None:
            _request_ctx()  # raises the usual RuntimeError
        return getattr(getattr(ctx, self._attribute), name)


app_ctx: AppContext = ContextProxy(_app_ctx)  # type: ignore[assignment]
current_app: Any = ContextProxy(lambda: _app_ctx().app)
g: AppGlobals = ContextProxy(lambda: _app_ctx().g)  # type: ignore[assignment]
request_ctx: RequestContext = ContextProxy(_request_ctx)  # type: ignore[assignment]
request: Request = _RequestContextProxy("request")  # type: ignore[assignment]
session: SessionMixin = _RequestContextProxy("session")  # type: ignore[assignment]
