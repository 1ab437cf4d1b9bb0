"""Signals: Flask's named events (``request_started``, ``template_rendered``, ...) without blinker.

A :class:`Signal` keeps its receivers (weakly by default, as blinker does) and calls them on ``send``. Sending
with no receivers connected costs one empty-dict check, so a signal nobody listens to is free.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = [
    "ANY",
    "Namespace",
    "Signal",
    "appcontext_popped",
    "appcontext_pushed",
    "appcontext_tearing_down",
    "before_render_template",
    "got_request_exception",
    "message_flashed",
    "request_finished",
    "request_started",
    "request_tearing_down",
    "template_rendered",
]

_F = TypeVar("_F", bound=Callable[..., Any])


class _Any:
    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()


class Signal:
    """A named event. ``connect(receiver, sender=ANY)``, then ``send(sender, **kwargs)`` calls
    ``receiver(sender, **kwargs)`` for every receiver connected for that sender (or for ``ANY``).
    """

    def __init__(self, name: str | None = None, doc: str | None = None) -> None:
        self.name = name
        self.__doc__ = doc
        # {(id(receiver), id(sender) or ANY): (receiver ref, sender)}
        self._receivers: dict[tuple[int, Any], tuple[Callable[[], Any], Any]] = {}

    @property
    def receivers(self) -> dict[tuple[int, Any], tuple[Callable[[], Any], Any]]:
        return self._receivers

    def connect(self, receiver: _F, sender: Any = ANY, weak: bool = True) -> _F:
        """Call ``receiver`` whenever this signal is sent by ``sender`` (any sender by default).

        With ``weak=True`` the signal holds a weak reference: the receiver is dropped once nothing else
        refers to it (connect a lambda with ``weak=False``).
        """
        key = (id(receiver), ANY if sender is ANY else id(sender))
        self._receivers[key] = (_reference(receiver, weak, lambda: self._receivers.pop(key, None)), sender)
        return receiver

    def connect_via(self, sender: Any, weak: bool = False) -> Callable[[_F], _F]:
        """Decorator form of :meth:`connect` for one sender."""

        def decorator(func: _F) -> _F:
            return self.connect(func, sender, weak)

        return decorator

    def disconnect(self, receiver: Callable[..., Any], sender: Any = ANY) -> None:
        """Stop calling ``receiver`` (for ``sender``, or for every sender with ``ANY``)."""
        if sender is ANY:
            for key in [k for k in self._receivers if k[0] == id(receiver)]:
                del self._receivers[key]
        else:
            self._receivers.pop((id(receiver), id(sender)), None)

    @contextmanager
    def connected_to(self, receiver: Callable[..., Any], sender: Any = ANY) -> Iterator[None]:
        """Connect ``receiver`` for the duration of a ``with`` block (tests use this)."""
        self.connect(receiver, sender, weak=False)
        try:
            yield
        finally:
            self.disconnect(receiver, sender)

    def has_receivers_for(self, sender: Any) -> bool:
        return any(s is ANY or s is sender for _, s in self._receivers.values())

    def send(
        self,
        sender: Any = None,
        /,
        *,
        _async_wrapper: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None,
        **kwargs: Any,
    ) -> list[tuple[Callable[..., Any], Any]]:
        """Call every receiver for ``sender`` with ``(sender, **kwargs)``; return ``[(receiver, result)]``.

        An ``async def`` receiver needs ``_async_wrapper`` (the app passes one that runs it to completion).
        """
        if not self._receivers:
            return []
        results = []
        for ref, target in list(self._receivers.values()):
            if target is not ANY and target is not sender:
                continue
            receiver = ref()
            if receiver is None:
                continue
            call = receiver
            if inspect.iscoroutinefunction(receiver):
                if _async_wrapper is None:
                    raise RuntimeError(f"Cannot send to the coroutine function {receiver!r} without _async_wrapper")
                call = _async_wrapper(receiver)
            results.append((receiver, call(sender, **kwargs)))
        return results

    def __repr__(self) -> str:
        return f"<Signal {self.name!r}>"


def _reference(receiver: Callable[..., Any], weak: bool, on_dead: Callable[[], Any]) -> Callable[[], Any]:
    if weak:
        try:
            if inspect.ismethod(receiver):
                return weakref.WeakMethod(receiver, lambda _: on_dead())
            return weakref.ref(receiver, lambda _: on_dead())
        except TypeError:
            pass  # not weakly referenceable (a builtin): held strongly
    return lambda: receiver


class Namespace(dict[str, Signal]):
    """A registry of named signals: ``signal(name)`` returns the same :class:`Signal` every time."""

    def signal(self, name: str, doc: str | None = None) -> Signal:
        if name not in self:
            self[name] = Signal(name, doc)
        return self[name]


_signals = Namespace()

template_rendered = _signals.signal("template-rendered")
before_render_template = _signals.signal("before-render-template")
request_started = _signals.signal("request-started")
request_finished = _signals.signal("request-finished")
request_tearing_down = _signals.signal("request-tearing-down")
got_request_exception = _signals.signal("got-request-exception")
appcontext_tearing_down = _signals.signal("appcontext-tearing-down")
appcontext_pushed = _signals.signal("appcontext-pushed")
appcontext_popped = _signals.signal("appcontext-popped")
message_flashed = _signals.signal("message-flashed")
