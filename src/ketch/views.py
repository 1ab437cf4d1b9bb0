"""Class-based views for the classic face: :class:`View` and :class:`MethodView` (Flask's API).

``app.add_url_rule("/users/<int:id>", view_func=UserAPI.as_view("user"))`` registers a class; a
:class:`MethodView` answers each HTTP method with the method of the same name (``get``, ``post``...), sync or
``async def``, and its routes accept exactly the methods it defines.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, ClassVar

__all__ = ["MethodView", "View", "http_method_funcs"]

http_method_funcs = frozenset({"get", "post", "head", "options", "delete", "put", "trace", "patch"})


class View:
    """Subclass it and implement :meth:`dispatch_request`; register ``YourView.as_view("name")``.

    Class attributes: ``methods`` (the route's methods), ``decorators`` (applied to the view function, first
    innermost), ``init_every_request`` (a new instance per request, the default, or one shared instance),
    ``provide_automatic_options``.
    """

    methods: ClassVar[Collection[str] | None] = None
    provide_automatic_options: ClassVar[bool | None] = None
    decorators: ClassVar[list[Callable[..., Any]]] = []
    init_every_request: ClassVar[bool] = True
    # The classic planner reads this: False means one dispatch_request serves every method.
    dispatches_by_method: ClassVar[bool] = False

    def dispatch_request(self, **kwargs: Any) -> Any:
        """Handle the request (``kwargs`` are the URL's values); return what a view function would."""
        raise NotImplementedError()

    @classmethod
    def as_view(cls, name: str, *class_args: Any, **class_kwargs: Any) -> Callable[..., Any]:
        """The view function to register: ``name`` becomes its endpoint; ``class_args``/``class_kwargs`` are
        passed to the class when an instance is made."""
        if cls.init_every_request:

            def view(**kwargs: Any) -> Any:
                instance = view.view_class(*class_args, **class_kwargs)  # type: ignore[attr-defined]
                return instance.dispatch_request(**kwargs)

        else:
            shared = cls(*class_args, **class_kwargs)

            def view(**kwargs: Any) -> Any:
                return shared.dispatch_request(**kwargs)

        if cls.decorators:
            view.__name__ = name
            view.__module__ = cls.__module__
            for decorator in cls.decorators:
                view = decorator(view)
        view.view_class = cls  # type: ignore[attr-defined]
        view.__name__ = name
        view.__doc__ = cls.__doc__
        view.__module__ = cls.__module__
        view.methods = cls.methods  # type: ignore[attr-defined]
        view.provide_automatic_options = cls.provide_automatic_options  # type: ignore[attr-defined]
        return view


class MethodView(View):
    """A view that answers ``GET`` with ``get()``, ``POST`` with ``post()``, ... (``HEAD`` falls back to
    ``get``). ``methods`` is worked out from the methods the class (and its bases) define."""

    dispatches_by_method: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "methods" not in cls.__dict__:
            methods: set[str] = set()
            for base in cls.__bases__:
                if getattr(base, "methods", None):
                    methods.update(base.methods)  # type: ignore[attr-defined]
            for key in http_method_funcs:
                if hasattr(cls, key):
                    methods.add(key.upper())
            if methods:
                cls.methods = methods

    def dispatch_request(self, **kwargs: Any) -> Any:
        # NOTE: imported here, when a request runs: views.py sits below the classic globals (STYLE.md 5.2).
        from ketch.ctx import current_request_context

        method = current_request_context().request.method
        handler = getattr(self, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(self, "get", None)
        assert handler is not None, f"Unimplemented method {method!r}"
        return handler(**kwargs)
