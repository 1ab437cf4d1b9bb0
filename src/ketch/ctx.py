"""Application and request contexts: what ``current_app``, ``g``, ``request`` and ``session`` point at.

A classic route's plan pushes a :class:`RequestContext` (which pushes an :class:`AppContext` when the app's is not
already active) around the request, and pops it afterwards. ``with app.app_context():`` and
``with app.test_request_context():`` push them by hand. Contexts live in context variables, so each asyncio task
and each thread-pool call sees its own. Typed routes never push them.
"""

from __future__ import annotations

import contextvars
import functools
import sys
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from ketch._plan.classic import run_sync
from ketch.signals import appcontext_popped, appcontext_pushed

if TYPE_CHECKING:
    from ketch.sessions import SessionMixin
    from ketch.wrappers import Request

__all__ = [
    "AppContext",
    "current_app_context",
    "current_request_context",
    "AppGlobals",
    "RequestContext",
    "after_this_request",
    "copy_current_request_context",
    "has_app_context",
    "has_request_context",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_SENTINEL: Any = object()

_NO_APP = (
    "Working outside of application context.\n\nThis typically means that you attempted to use functionality "
    "that needed the current application. To solve this, set up an application context with app.app_context()."
)
_NO_REQUEST = (
    "Working outside of request context.\n\nThis typically means that you attempted to use functionality that "
    "needed an active HTTP request. Use app.test_request_context() in tests."
)

# The active contexts. ``globals.py`` builds ``request``, ``g``... over these; everything else in ketch reads them
# here (importing ``ketch.globals`` inside ketch would shadow the ``globals`` builtin in the package namespace).
_cv_app: contextvars.ContextVar[AppContext] = contextvars.ContextVar("ketch.app_ctx")
_cv_request: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("ketch.request_ctx")


def current_app_context() -> AppContext:
    """The active app context; ``RuntimeError`` outside one."""
    try:
        return _cv_app.get()
    except LookupError:
        raise RuntimeError(_NO_APP) from None


def current_request_context() -> RequestContext:
    """The active request context; ``RuntimeError`` outside one."""
    try:
        return _cv_request.get()
    except LookupError:
        raise RuntimeError(_NO_REQUEST) from None


class AppGlobals:
    """``g``: a namespace for data that lives as long as the app context (one request, usually)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: Any = _SENTINEL) -> Any:
        if default is _SENTINEL:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: Any = None) -> Any:
        return self.__dict__.setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        ctx = _cv_app.get(None)
        if ctx is not None:
            return f"<ketch.g of {ctx.app.name!r}>"
        return object.__repr__(self)


class AppContext:
    """Makes ``current_app`` and ``g`` available; popping the last push runs the app's teardown_appcontext."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.g: AppGlobals = app.app_ctx_globals_class()
        self._tokens: list[contextvars.Token[AppContext]] = []

    def push(self) -> None:
        self._tokens.append(_cv_app.set(self))
        if appcontext_pushed._receivers:  # PERF: the dict itself, not the property
            appcontext_pushed.send(self.app, _async_wrapper=_sync_wrapper)

    def pop(self, exc: BaseException | None = _SENTINEL, *, teardown: bool = True) -> None:
        """Pop the context; on the last pop, run the teardown functions with ``exc`` (unless ``teardown=False``)."""
        try:
            if teardown and len(self._tokens) == 1:
                if exc is _SENTINEL:
                    exc = sys.exc_info()[1]
                self.app.do_teardown_appcontext(exc)
        finally:
            current = _cv_app.get(None)
            _cv_app.reset(self._tokens.pop())
        if current is not self:
            raise AssertionError(f"Popped wrong app context. ({current!r} instead of {self!r})")
        if appcontext_popped._receivers:
            appcontext_popped.send(self.app, _async_wrapper=_sync_wrapper)

    def __enter__(self) -> AppContext:
        self.push()
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.pop(exc)

    def __repr__(self) -> str:
        return f"<AppContext of {self.app.name!r}>"


class RequestContext:
    """Makes ``request`` and ``session`` available (and pushes the app context if it is not active).

    The session is opened on first use, so a request that never touches it never parses its cookie.
    """

    def __init__(self, app: Any, request: Request, session: SessionMixin | None = None) -> None:
        self.app = app
        self.request = request
        self._session = session
        self.flashes: list[tuple[str, str]] | None = None
        self._after_request_functions: list[Callable[..., Any]] = []
        self._tokens: list[tuple[contextvars.Token[RequestContext], AppContext | None]] = []
        # The app context active while this one is (pushed by it, or found already active).
        self.app_ctx: AppContext | None = None
        # How many stream_with_context generators still need this context: teardown waits for the last one.
        self.streams = 0

    @property
    def session(self) -> SessionMixin:
        session = self._session
        if session is None:
            session = self._session = self.app.open_request_session(self.request)
        session.accessed = True
        return session

    def open_session_quietly(self) -> SessionMixin:
        """Open the session without marking it accessed (no ``Vary: Cookie`` for that alone)."""
        if self._session is None:
            self._session = self.app.open_request_session(self.request)
        return self._session

    @property
    def session_opened(self) -> SessionMixin | None:
        """The session if anything opened it during the request, else None (without opening it)."""
        return self._session

    def copy(self) -> RequestContext:
        """A new context for the same request and session (see ``copy_current_request_context``)."""
        return type(self)(self.app, self.request, self.open_session_quietly())  # opened, so both share it

    def push(self) -> None:
        app_ctx = _cv_app.get(None)
        if app_ctx is None or app_ctx.app is not self.app:
            app_ctx = self.app.app_context()
            app_ctx.push()
            self.app_ctx = app_ctx
            self._tokens.append((_cv_request.set(self), app_ctx))
        else:
            self.app_ctx = app_ctx
            self._tokens.append((_cv_request.set(self), None))

    @property
    def owns_app_context(self) -> bool:
        """True if the last push also pushed the app context (so popping pops it, with its teardown)."""
        return bool(self._tokens) and self._tokens[-1][1] is not None

    def pop(self, exc: BaseException | None = _SENTINEL, *, teardown: bool = True) -> None:
        """Pop the context; on the last pop, run teardown_request then teardown_appcontext functions with
        ``exc`` (unless ``teardown=False``: a classic plan has already run them)."""
        last = len(self._tokens) == 1
        try:
            if teardown and last:
                if exc is _SENTINEL:
                    exc = sys.exc_info()[1]
                self.app.do_teardown_request(exc, self.request.blueprints)
        finally:
            current = _cv_request.get(None)
            token, app_ctx = self._tokens.pop()
            _cv_request.reset(token)
            if app_ctx is not None:
                app_ctx.pop(None if exc is _SENTINEL else exc, teardown=teardown)
        if current is not self:
            raise AssertionError(f"Popped wrong request context. ({current!r} instead of {self!r})")

    def __enter__(self) -> RequestContext:
        self.push()
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.pop(exc)

    def __repr__(self) -> str:
        return f"<RequestContext {self.request.url!r} [{self.request.method}] of {self.app.name!r}>"


def _sync_wrapper(func: Callable[..., Any]) -> Callable[..., Any]:
    return functools.partial(run_sync, func)


def after_this_request(func: _F) -> _F:
    """Run ``func(response)`` after this request's view, before the after_request functions."""
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'after_this_request' can only be used when a request context is active, such as in a view function."
        )
    ctx._after_request_functions.append(func)
    return func


def copy_current_request_context(func: _F) -> _F:
    """Let ``func`` see this request's context when it runs later, in another thread or task."""
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'copy_current_request_context' can only be used when a request context is active, such as in a "
            "view function."
        )
    ctx = ctx.copy()

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with ctx:
            return run_sync(func, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def has_request_context() -> bool:
    """True inside a request context (a classic view, or ``app.test_request_context()``)."""
    return _cv_request.get(None) is not None


def has_app_context() -> bool:
    """True inside an app context."""
    return _cv_app.get(None) is not None
