"""Blueprints: groups of classic routes, hooks, error handlers, templates and static files, registered on an app.

A blueprint records what is registered on it and replays it when ``app.register_blueprint(bp, url_prefix=...)``
runs (Flask's deferred registration): routes become app routes whose endpoints carry the blueprint's name
(``"admin.index"``), and hooks are kept under that name, so they apply only to the blueprint's routes. Blueprints
nest (``"parent.child.view"``) and may be registered twice under different names.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from types import EllipsisType
from typing import IO, Any, TypeVar

from ketch.ctx import _cv_app
from ketch.helpers import send_from_directory
from ketch.wrappers import Response

__all__ = ["Blueprint", "BlueprintSetupState", "Scaffold", "find_package_path", "get_root_path"]

_F = TypeVar("_F", bound=Callable[..., Any])
DeferredSetupFunction = Callable[["BlueprintSetupState"], None]


# -- the shared scaffold -----------------------------------------------------------------------------------


def get_root_path(import_name: str) -> str:
    """The folder of the module or package ``import_name`` (the current directory if it has none)."""
    filename: str | None = getattr(sys.modules.get(import_name), "__file__", None)
    if filename:
        return os.path.dirname(os.path.abspath(filename))
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin in (None, "namespace", "built-in"):
        return os.getcwd()
    return os.path.dirname(os.path.abspath(spec.origin))


def find_package_path(import_name: str) -> str:
    """The folder that holds the top-level package or module of ``import_name`` (where ``instance/`` goes)."""
    root = import_name.partition(".")[0]
    try:
        spec = importlib.util.find_spec(root)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin in (None, "namespace"):
        filename: str | None = getattr(sys.modules.get(root), "__file__", None)
        return os.path.dirname(os.path.abspath(filename)) if filename else os.getcwd()
    if spec.submodule_search_locations:
        return os.path.dirname(os.path.dirname(spec.origin))
    return os.path.dirname(spec.origin)


def _exc_class_and_code(key: int | type[BaseException]) -> tuple[type[BaseException], int | None]:
    """An ``errorhandler`` key as (class, status code). A bare code matches any exception with that status."""
    if isinstance(key, int):
        if not 400 <= key <= 599:
            raise ValueError(
                f"'{key}' is not a recognized HTTP error code. Use a subclass of HTTPException with that code instead."
            )
        return Exception, key
    if isinstance(key, BaseException):
        raise TypeError(
            f"{key!r} is an instance, not a class. Handlers can only be registered for Exception classes or HTTP "
            "error codes."
        )
    if not issubclass(key, Exception):
        raise ValueError(
            f"'{key.__name__}' is not a subclass of Exception. Handlers can only be registered for Exception classes "
            "or HTTP error codes."
        )
    code = getattr(key, "code", None)
    return key, code if isinstance(code, int) and hasattr(key, "get_response") else None


class Scaffold:
    """What an app and a blueprint share: routes, request hooks, error handlers, folders.

    Hooks are kept by blueprint name (``None`` for the app's own), as Flask keeps them.
    """

    import_name: str
    name: str
    root_path: str
    template_folder: str | None
    view_functions: dict[str, Callable[..., Any]]
    error_handler_spec: dict[str | None, dict[int | None, dict[type[BaseException], Callable[..., Any]]]]
    before_request_funcs: dict[str | None, list[Callable[..., Any]]]
    after_request_funcs: dict[str | None, list[Callable[..., Any]]]
    teardown_request_funcs: dict[str | None, list[Callable[..., Any]]]
    template_context_processors: dict[str | None, list[Callable[..., Any]]]
    url_value_preprocessors: dict[str | None, list[Callable[..., Any]]]
    url_default_functions: dict[str | None, list[Callable[..., Any]]]

    def _init_scaffold(
        self,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        root_path: str | None = None,
    ) -> None:
        self.import_name = import_name
        self.root_path = root_path if root_path is not None else get_root_path(import_name)
        self._static_folder = os.fspath(static_folder) if static_folder is not None else None
        self._static_url_path = static_url_path
        self.template_folder = os.fspath(template_folder) if template_folder is not None else None
        self.view_functions = {}
        self.error_handler_spec = defaultdict(lambda: defaultdict(dict))
        self.before_request_funcs = defaultdict(list)
        self.after_request_funcs = defaultdict(list)
        self.teardown_request_funcs = defaultdict(list)
        self.template_context_processors = defaultdict(list)
        self.url_value_preprocessors = defaultdict(list)
        self.url_default_functions = defaultdict(list)
        self._jinja_loader: Any = None

    def _setup_changed(self) -> None:
        """Called after every registration (the app re-plans its routes on the next request)."""

    @property
    def jinja_loader(self) -> Any:
        """The loader for this app's or blueprint's ``template_folder`` (None without one)."""
        if self._jinja_loader is None and self.template_folder is not None:
            from ketch.templating import file_loader

            self._jinja_loader = file_loader(self.root_path, self.template_folder)
        return self._jinja_loader

    # -- folders ---------------------------------------------------------------------------------------------

    @property
    def static_folder(self) -> str | None:
        """The absolute path of the static folder, if there is one."""
        if self._static_folder is None:
            return None
        return os.path.join(self.root_path, self._static_folder)

    @static_folder.setter
    def static_folder(self, value: str | os.PathLike[str] | None) -> None:
        self._static_folder = os.fspath(value).rstrip("/\\") if value is not None else None

    @property
    def has_static_folder(self) -> bool:
        return self._static_folder is not None

    @property
    def static_url_path(self) -> str | None:
        """The URL prefix static files are served under (``/static`` by default)."""
        if self._static_url_path is not None:
            return self._static_url_path
        if self._static_folder is not None:
            return ("/" + os.path.basename(self._static_folder)).rstrip("/")
        return None

    @static_url_path.setter
    def static_url_path(self, value: str | None) -> None:
        self._static_url_path = value.rstrip("/") if value is not None else None

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """How long browsers may cache static files (``SEND_FILE_MAX_AGE_DEFAULT``; None: revalidate)."""
        value = _cv_app.get().app.config["SEND_FILE_MAX_AGE_DEFAULT"] if _cv_app.get(None) else None
        if isinstance(value, timedelta):
            return int(value.total_seconds())
        return value

    def send_static_file(self, filename: str) -> Response:
        """Serve ``filename`` from the static folder (the view behind ``/static/<path:filename>``)."""
        if self.static_folder is None:
            raise RuntimeError("'static_folder' must be set to serve static_files.")
        return send_from_directory(  # type: ignore[return-value]
            self.static_folder, filename, max_age=self.get_send_file_max_age(filename)
        )

    def open_resource(self, resource: str, mode: str = "rb", encoding: str | None = None) -> IO[Any]:
        """Open a file relative to the app's (or blueprint's) package folder for reading."""
        if mode not in {"r", "rt", "rb"}:
            raise ValueError("Resources can only be opened for reading.")
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    # -- routes ----------------------------------------------------------------------------------------------

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        raise NotImplementedError

    def route(self, rule: str, **options: Any) -> Callable[[_F], _F]:
        """Register the decorated function as the view for ``rule`` (Flask's ``@app.route``).

        Options: ``methods`` (default ``["GET"]``), ``endpoint`` (default: the function name), ``defaults``,
        ``strict_slashes``, ``host``, ``subdomain``.
        """

        def decorator(func: _F) -> _F:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, func, **options)
            return func

        return decorator

    def _method_route(self, method: str, rule: str, options: dict[str, Any]) -> Callable[[_F], _F]:
        if "methods" in options:
            raise TypeError("Use the 'route' decorator to use the 'methods' argument.")
        return self.route(rule, methods=[method], **options)

    def endpoint(self, endpoint: str) -> Callable[[_F], _F]:
        """Use the decorated function as the view of a rule added with ``add_url_rule(rule, endpoint)``."""

        def decorator(func: _F) -> _F:
            self.view_functions[endpoint] = func
            self._setup_changed()
            return func

        return decorator

    # -- hooks -----------------------------------------------------------------------------------------------

    def _hook(self, table: dict[str | None, list[Callable[..., Any]]], func: _F) -> _F:
        table[None].append(func)
        self._setup_changed()
        return func

    def before_request(self, func: _F) -> _F:
        """Run ``func()`` before each request; a non-None return value is sent instead of calling the view."""
        return self._hook(self.before_request_funcs, func)

    def after_request(self, func: _F) -> _F:
        """Run ``func(response)`` after each request; it returns the response (the same or a new one)."""
        return self._hook(self.after_request_funcs, func)

    def teardown_request(self, func: _F) -> _F:
        """Run ``func(error)`` when the request context is popped, even after an unhandled error."""
        return self._hook(self.teardown_request_funcs, func)

    def context_processor(self, func: _F) -> _F:
        """Add the dict ``func()`` returns to every template's context."""
        return self._hook(self.template_context_processors, func)

    def url_value_preprocessor(self, func: _F) -> _F:
        """Run ``func(endpoint, view_args)`` before the before_request functions (to pop shared URL values)."""
        return self._hook(self.url_value_preprocessors, func)

    def url_defaults(self, func: _F) -> _F:
        """Run ``func(endpoint, values)`` when building URLs, to fill in values the caller left out."""
        return self._hook(self.url_default_functions, func)

    def errorhandler(self, code_or_exception: int | type[BaseException]) -> Callable[[_F], _F]:
        """Handle an HTTP status code or an exception class (and its subclasses) with ``func(error)``."""

        def decorator(func: _F) -> _F:
            self.register_error_handler(code_or_exception, func)
            return func

        return decorator

    def register_error_handler(self, code_or_exception: int | type[BaseException], func: Callable[..., Any]) -> None:
        """Non-decorator form of :meth:`errorhandler`."""
        exc_class, code = _exc_class_and_code(code_or_exception)
        self.error_handler_spec[None][code][exc_class] = func
        self._setup_changed()


class BlueprintSetupState:
    """Where a blueprint is being registered: the app, the URL prefix, the name, the default URL values."""

    def __init__(self, blueprint: Blueprint, app: Any, options: dict[str, Any], first_registration: bool) -> None:
        self.app = app
        self.blueprint = blueprint
        self.options = options
        self.first_registration = first_registration
        subdomain = options.get("subdomain")
        self.subdomain = blueprint.subdomain if subdomain is None else subdomain
        url_prefix = options.get("url_prefix")
        self.url_prefix: str | None = blueprint.url_prefix if url_prefix is None else url_prefix
        self.name: str = options.get("name", blueprint.name)
        self.name_prefix: str = options.get("name_prefix", "")
        self.url_defaults = dict(blueprint.url_values_defaults)
        self.url_defaults.update(options.get("url_defaults", ()))

    def add_url_rule(
        self, rule: str, endpoint: str | None = None, view_func: Callable[..., Any] | None = None, **options: Any
    ) -> None:
        """Register a blueprint route on the app: prefix applied, endpoint named ``"blueprint.endpoint"``."""
        if self.url_prefix is not None:
            rule = "/".join((self.url_prefix.rstrip("/"), rule.lstrip("/"))) if rule else self.url_prefix
        options.setdefault("subdomain", self.subdomain)
        if endpoint is None:
            if view_func is None:
                raise TypeError("expected view func if endpoint is not provided.")
            endpoint = view_func.__name__
        defaults = self.url_defaults
        if "defaults" in options:
            defaults = dict(defaults, **options.pop("defaults"))
        self.app.add_url_rule(
            rule, f"{self.name_prefix}.{self.name}.{endpoint}".lstrip("."), view_func, defaults=defaults, **options
        )


class Blueprint(Scaffold):
    """A group of classic routes and hooks to register on an app (Flask's ``Blueprint``).

    Args:
        name: the blueprint's name; endpoints become ``"name.endpoint"``. No dots.
        import_name: the blueprint's module (``__name__``): its folders are found from there.
        static_folder: a folder of static files served under ``url_prefix + static_url_path``.
        static_url_path: the URL path of the static files (default: the folder's name).
        template_folder: a folder of templates, searched after the app's own.
        url_prefix: prepended to every route of the blueprint.
        subdomain: the subdomain of every route of the blueprint (under the app's ``SERVER_NAME``).
        url_defaults: default values for the view arguments of every route.
        root_path: the folder the other folders are relative to (default: found from ``import_name``).
        cli_group: the command group ``bp.cli`` commands join on the app (default: the blueprint's name;
            ``None`` adds them to ``app.cli`` itself).
    """

    def __init__(
        self,
        name: str,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, Any] | None = None,
        root_path: str | None = None,
        cli_group: str | EllipsisType | None = ...,
    ) -> None:
        if not name:
            raise ValueError("'name' may not be empty.")
        if "." in name:
            raise ValueError("'name' may not contain a dot '.' character.")
        self._init_scaffold(import_name, static_folder, static_url_path, template_folder, root_path)
        self.name = name
        self.url_prefix = url_prefix
        self.subdomain = subdomain
        self.url_values_defaults = url_defaults or {}
        self.cli_group = cli_group
        self.deferred_functions: list[DeferredSetupFunction] = []
        self._blueprints: list[tuple[Blueprint, dict[str, Any]]] = []
        self._got_registered_once = False

    def _setup_changed(self) -> None:
        if self._got_registered_once:
            raise AssertionError(
                f"The setup method can no longer be called on the blueprint {self.name!r}. It has already been "
                "registered at least once, any changes will not be applied consistently. Make sure all imports, "
                "decorators, functions, etc. needed to set up the blueprint are done before registering it."
            )

    # -- deferred registration -------------------------------------------------------------------------------

    def record(self, func: DeferredSetupFunction) -> None:
        """Call ``func(state)`` when the blueprint is registered on an app."""
        self._setup_changed()
        self.deferred_functions.append(func)

    def record_once(self, func: DeferredSetupFunction) -> None:
        """Like :meth:`record`, but only on the blueprint's first registration."""

        def wrapper(state: BlueprintSetupState) -> None:
            if state.first_registration:
                func(state)

        self.record(wrapper)

    def make_setup_state(self, app: Any, options: dict[str, Any], first_registration: bool) -> BlueprintSetupState:
        return BlueprintSetupState(self, app, options, first_registration)

    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Nest ``blueprint`` in this one (its endpoints become ``"this.that.view"``)."""
        if blueprint is self:
            raise ValueError("Cannot register a blueprint on itself")
        self._blueprints.append((blueprint, options))

    def register(self, app: Any, options: dict[str, Any]) -> None:
        """Replay everything recorded onto ``app`` (``app.register_blueprint`` calls this)."""
        name = f"{options.get('name_prefix', '')}.{options.get('name', self.name)}".lstrip(".")
        if name in app.blueprints:
            bp_desc = "this" if app.blueprints[name] is self else "a different"
            existing_at = f" '{name}'" if name != self.name else ""
            raise ValueError(
                f"The name '{self.name}' is already registered for {bp_desc} blueprint{existing_at}. Use 'name=' to "
                "provide a unique name."
            )
        first_bp_registration = not any(bp is self for bp in app.blueprints.values())
        app.blueprints[name] = self
        self._got_registered_once = True
        state = self.make_setup_state(app, options, first_bp_registration)
        if self.has_static_folder:
            state.add_url_rule(
                f"{self.static_url_path}/<path:filename>", view_func=self.send_static_file, endpoint="static"
            )
        self._merge_into(app, name)
        self._register_commands(app, options.get("cli_group", self.cli_group), options.get("name", self.name))
        for deferred in self.deferred_functions:
            deferred(state)
        for blueprint, bp_options in self._blueprints:
            blueprint.register(app, _nested_options(state, blueprint, bp_options, name))

    @property
    def cli(self) -> Any:
        """The blueprint's click group: its commands join ``app.cli`` under ``cli_group`` when it is registered."""
        group = self.__dict__.get("_cli")
        if group is None:
            from ketch.cli import AppGroup

            group = self.__dict__["_cli"] = AppGroup(self.name)
        return group

    def _register_commands(self, app: Any, cli_group: str | EllipsisType | None, name: str) -> None:
        group = self.__dict__.get("_cli")
        if group is None or not group.commands:
            return
        if cli_group is None:
            app.cli.commands.update(group.commands)
            return
        group.name = name if cli_group is ... else cli_group
        app.cli.add_command(group)

    def _merge_into(self, app: Any, name: str) -> None:
        def extend(own: dict[str | None, list[Any]], target: dict[str | None, list[Any]]) -> None:
            for key, values in own.items():
                target[name if key is None else f"{name}.{key}"].extend(values)

        for key, spec in self.error_handler_spec.items():
            app.error_handler_spec[name if key is None else f"{name}.{key}"] = defaultdict(
                dict, {code: dict(handlers) for code, handlers in spec.items()}
            )
        for endpoint, func in self.view_functions.items():
            app.view_functions[endpoint] = func
        extend(self.before_request_funcs, app.before_request_funcs)
        extend(self.after_request_funcs, app.after_request_funcs)
        extend(self.teardown_request_funcs, app.teardown_request_funcs)
        extend(self.url_default_functions, app.url_default_functions)
        extend(self.url_value_preprocessors, app.url_value_preprocessors)
        extend(self.template_context_processors, app.template_context_processors)
        app._setup_changed()

    # -- routes ----------------------------------------------------------------------------------------------

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Record a route; it is added to the app, prefixed and named, when the blueprint is registered."""
        if endpoint and "." in endpoint:
            raise ValueError("'endpoint' may not contain a dot '.' character.")
        if view_func is not None and "." in getattr(view_func, "__name__", ""):
            raise ValueError("'view_func' name may not contain a dot '.' character.")
        if provide_automatic_options is not None:
            options["provide_automatic_options"] = provide_automatic_options
        self.record(lambda state: state.add_url_rule(rule, endpoint, view_func, **options))

    def get(self, rule: str, **options: Any) -> Callable[[_F], _F]:
        """``route(rule, methods=["GET"])``."""
        return self._method_route("GET", rule, options)

    def post(self, rule: str, **options: Any) -> Callable[[_F], _F]:
        """``route(rule, methods=["POST"])``."""
        return self._method_route("POST", rule, options)

    def put(self, rule: str, **options: Any) -> Callable[[_F], _F]:
        """``route(rule, methods=["PUT"])``."""
        return self._method_route("PUT", rule, options)

    def delete(self, rule: str, **options: Any) -> Callable[[_F], _F]:
        """``route(rule, methods=["DELETE"])``."""
        return self._method_route("DELETE", rule, options)

    def patch(self, rule: str, **options: Any) -> Callable[[_F], _F]:
        """``route(rule, methods=["PATCH"])``."""
        return self._method_route("PATCH", rule, options)

    # -- app-wide hooks registered from a blueprint ----------------------------------------------------------

    def _app_hook(self, table: str, func: _F) -> _F:
        self.record_once(lambda state: getattr(state.app, table)[None].append(func))
        return func

    def before_app_request(self, func: _F) -> _F:
        """Run ``func()`` before every request of the app, not only this blueprint's."""
        return self._app_hook("before_request_funcs", func)

    def after_app_request(self, func: _F) -> _F:
        """Run ``func(response)`` after every request of the app."""
        return self._app_hook("after_request_funcs", func)

    def teardown_app_request(self, func: _F) -> _F:
        """Run ``func(error)`` when every request of the app ends."""
        return self._app_hook("teardown_request_funcs", func)

    def app_context_processor(self, func: _F) -> _F:
        """Add the dict ``func()`` returns to every template of the app."""
        return self._app_hook("template_context_processors", func)

    def app_url_value_preprocessor(self, func: _F) -> _F:
        return self._app_hook("url_value_preprocessors", func)

    def app_url_defaults(self, func: _F) -> _F:
        return self._app_hook("url_default_functions", func)

    def app_errorhandler(self, code: int | type[BaseException]) -> Callable[[_F], _F]:
        """Handle an error for every route of the app, not only this blueprint's."""

        def decorator(func: _F) -> _F:
            self.record_once(lambda state: state.app.register_error_handler(code, func))
            return func

        return decorator

    def app_template_filter(self, name: str | None = None) -> Callable[[_F], _F]:
        def decorator(func: _F) -> _F:
            self.add_app_template_filter(func, name)
            return func

        return decorator

    def add_app_template_filter(self, func: Callable[..., Any], name: str | None = None) -> None:
        self.record_once(lambda state: state.app.add_template_filter(func, name))

    def app_template_test(self, name: str | None = None) -> Callable[[_F], _F]:
        def decorator(func: _F) -> _F:
            self.add_app_template_test(func, name)
            return func

        return decorator

    def add_app_template_test(self, func: Callable[..., Any], name: str | None = None) -> None:
        self.record_once(lambda state: state.app.add_template_test(func, name))

    def app_template_global(self, name: str | None = None) -> Callable[[_F], _F]:
        def decorator(func: _F) -> _F:
            self.add_app_template_global(func, name)
            return func

        return decorator

    def add_app_template_global(self, func: Callable[..., Any], name: str | None = None) -> None:
        self.record_once(lambda state: state.app.add_template_global(func, name))

    def __repr__(self) -> str:
        return f"<Blueprint {self.name!r}>"


def _nested_options(
    state: BlueprintSetupState, blueprint: Blueprint, options: dict[str, Any], name: str
) -> dict[str, Any]:
    """A nested blueprint's registration options: prefixes and subdomains joined to its parent's."""
    options = dict(options)
    url_prefix = options.get("url_prefix")
    subdomain = options.get("subdomain")
    if subdomain is None:
        subdomain = blueprint.subdomain
    if state.subdomain is not None and subdomain is not None:
        options["subdomain"] = subdomain + "." + state.subdomain
    elif subdomain is not None:
        options["subdomain"] = subdomain
    elif state.subdomain is not None:
        options["subdomain"] = state.subdomain
    if url_prefix is None:
        url_prefix = blueprint.url_prefix
    if state.url_prefix is not None and url_prefix is not None:
        options["url_prefix"] = state.url_prefix.rstrip("/") + "/" + url_prefix.lstrip("/")
    elif url_prefix is not None:
        options["url_prefix"] = url_prefix
    elif state.url_prefix is not None:
        options["url_prefix"] = state.url_prefix
    options["name_prefix"] = name
    return options
