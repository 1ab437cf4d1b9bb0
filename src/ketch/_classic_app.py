"""The classic face of the app: what ``Ketch`` adds for Flask-style apps.

:class:`ClassicApp` builds on :class:`~ketch.blueprints.Scaffold` (routes, hooks, error handlers, folders, shared
with blueprints): ``config``, contexts, ``url_for``, ``make_response``, sessions, templates, blueprints and the
Flask-style routing errors.

``app.route()`` records a core :class:`~ketch.routing.route.Route` whose options name the :class:`ClassicPlanner`;
nothing here runs for a typed route, and a typed-only app never pushes a context (STYLE.md rule 6).
"""

from __future__ import annotations

import http
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from ketch import signals as _signals
from ketch._plan.classic import ClassicPlan, ClassicPlanner, convert_return_value, http_status_of, run_sync
from ketch._plan.classic_rules import BuildError, Rule, UrlMap, normalize_host
from ketch.blueprints import Scaffold, find_package_path
from ketch.config import Config, ConfigAttribute
from ketch.ctx import AppContext, AppGlobals, RequestContext, _cv_app, _cv_request
from ketch.exception_handlers import http_exception_handler
from ketch.exceptions import HTTPException, ImproperlyConfigured
from ketch.helpers import DefaultJSONProvider, redirect_response
from ketch.middleware.errors import is_loopback
from ketch.routing.route import Route
from ketch.routing.urls import NoMatchFound
from ketch.sessions import SecureCookieSessionInterface, SessionMixin
from ketch.signals import Signal
from ketch.wrappers import Request, Response

if TYPE_CHECKING:
    from ketch.limits import Limits

__all__ = ["BuildError", "ClassicApp", "Rule", "UrlMap"]

_F = TypeVar("_F", bound=Callable[..., Any])


# -- the app side ------------------------------------------------------------------------------------------

_SIGNALS: dict[str, Signal] = {
    name: getattr(_signals, name)
    for name in (
        "request_started",
        "request_finished",
        "request_tearing_down",
        "got_request_exception",
        "appcontext_tearing_down",
    )
}


def _make_timedelta(value: timedelta | int | None) -> timedelta:
    if value is None or isinstance(value, timedelta):
        return value or timedelta(days=31)
    return timedelta(seconds=value)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record (test runners swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


default_handler = _StderrHandler()
default_handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s"))


def _has_level_handler(logger: logging.Logger) -> bool:
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            break
        current = current.parent
    return False


def _missing_view(endpoint: str) -> Callable[..., Any]:
    def missing(**kwargs: Any) -> Any:
        raise LookupError(f"No view function registered for endpoint {endpoint!r}")

    missing.__name__ = endpoint
    return missing


class ClassicApp(Scaffold):
    """The classic face of :class:`~ketch.Ketch` (a mixin: ``Ketch`` calls :meth:`_init_classic`)."""

    default_config: dict[str, Any] = {
        "DEBUG": None,
        "TESTING": False,
        "PROPAGATE_EXCEPTIONS": None,
        "SECRET_KEY": None,
        "SECRET_KEY_FALLBACKS": None,
        "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
        "SERVER_NAME": None,
        "APPLICATION_ROOT": "/",
        "PREFERRED_URL_SCHEME": "http",
        "SESSION_COOKIE_NAME": "session",
        "SESSION_COOKIE_DOMAIN": None,
        "SESSION_COOKIE_PATH": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_PARTITIONED": False,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_REFRESH_EACH_REQUEST": True,
        "MAX_CONTENT_LENGTH": None,
        "MAX_FORM_MEMORY_SIZE": None,
        "MAX_FORM_PARTS": None,
        "MAX_COOKIE_SIZE": 4093,
        "SEND_FILE_MAX_AGE_DEFAULT": None,
        "TRAP_BAD_REQUEST_ERRORS": None,
        "TRAP_HTTP_EXCEPTIONS": False,
        "EXPLAIN_TEMPLATE_LOADING": False,
        "TEMPLATES_AUTO_RELOAD": None,
        "PROVIDE_AUTOMATIC_OPTIONS": True,
        "CSRF_ENABLED": True,
        "CSRF_FIELD_NAME": "csrf_token",
        "CSRF_HEADERS": ["X-CSRFToken", "X-CSRF-Token"],
        "CSRF_TIME_LIMIT": 3600,
        "CSRF_TRUSTED_ORIGINS": [],
    }
    config_prefix = "KETCH"
    request_class: type[Any] = Request
    response_class: type[Any] = Response
    app_ctx_globals_class: type[AppGlobals] = AppGlobals
    config_class: type[Config] = Config
    json_provider_class: type[Any] = DefaultJSONProvider
    session_interface: Any = SecureCookieSessionInterface()
    url_rule_class: type[Rule] = Rule
    # Set to a callable to raise other exception classes from abort() (compat.flask raises Werkzeug's).
    aborter: Callable[..., Any] | None = None

    testing = ConfigAttribute[bool]("TESTING")
    secret_key = ConfigAttribute[Any]("SECRET_KEY")
    permanent_session_lifetime = ConfigAttribute[timedelta]("PERMANENT_SESSION_LIFETIME", _make_timedelta)

    # Provided by Router / Ketch.
    exception_handlers: dict[Any, Callable[..., Any]]
    route_defaults: dict[str, Any]
    redirect_slashes: bool
    limits: Limits
    routes: list[Any]

    if TYPE_CHECKING:  # provided by Router

        def _changed(self) -> None: ...

        def _append(self, entry: Any) -> None: ...

        def url_path_for(self, name: str, /, **path_params: Any) -> str: ...

    def _init_classic(self, import_name: str | None) -> None:
        """Set up the classic face. Flask's keyword arguments (``static_folder``, ``template_folder``,
        ``instance_path``...) arrive among the route defaults and are taken out of them here."""
        options = self.route_defaults
        static_folder = options.pop("static_folder", "static")
        static_url_path = options.pop("static_url_path", None)
        template_folder = options.pop("template_folder", "templates")
        instance_path = options.pop("instance_path", None)
        instance_relative_config = options.pop("instance_relative_config", False)
        root_path = options.pop("root_folder", None)
        static_host = options.pop("static_host", None)
        host_matching = bool(options.pop("host_matching", False))
        subdomain_matching = bool(options.pop("subdomain_matching", False))
        self._classic_style = import_name is not None
        name = import_name or "ketch"
        self._init_scaffold(name, static_folder, static_url_path, template_folder, root_path)
        if instance_path is not None and not os.path.isabs(instance_path):
            raise ValueError("If an instance path is provided it must be absolute. A relative path was given instead.")
        self.instance_path = instance_path or self.auto_find_instance_path()
        early_debug = self.__dict__.pop("_early_debug", None)
        self.config = self.make_config(instance_relative_config)
        if early_debug is not None:
            self.config["DEBUG"] = early_debug
        self.json = self.json_provider_class(self)
        self.url_map = UrlMap()
        self.url_map.host_matching = host_matching
        self.url_map.subdomain_matching = subdomain_matching
        self.subdomain_matching = subdomain_matching
        self.blueprints: dict[str, Any] = {}
        self.extensions: dict[str, Any] = {}
        self.teardown_appcontext_funcs: list[Callable[..., Any]] = []
        self.shell_context_processors: list[Callable[..., Any]] = []
        self.url_build_error_handlers: list[Callable[..., Any]] = []
        self._classic_planner = ClassicPlanner(self)
        self._routing_error_plan: ClassicPlan | None = None
        self._logger: logging.Logger | None = None
        if self._classic_style:
            # Flask's routing: "/about/" for "/about" is a 404, not a redirect (strict slashes do the reverse).
            self.redirect_slashes = False
            self._install_routing_errors()
            if self.has_static_folder:
                self.add_url_rule(
                    f"{self.static_url_path}/<path:filename>",
                    endpoint="static",
                    view_func=self.send_static_file,
                    host=static_host if host_matching else None,
                )

    def _setup_changed(self) -> None:
        self._routing_error_plan = None
        self._changed()

    def make_config(self, instance_relative: bool = False) -> Config:
        root = self.instance_path if instance_relative else self.root_path
        defaults = dict(self.default_config)
        defaults["DEBUG"] = bool(os.environ.get("KETCH_DEBUG")) or None
        return self.config_class(root, defaults)

    def auto_find_instance_path(self) -> str:
        return os.path.join(find_package_path(self.import_name), "instance")

    def open_instance_resource(self, resource: str, mode: str = "rb", encoding: str | None = "utf-8") -> IO[Any]:
        """Open a file in the instance folder."""
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    # -- settings backed by config ---------------------------------------------------------------------------

    @property
    def name(self) -> str:  # type: ignore[override]
        if self.import_name == "__main__":
            main = getattr(sys.modules["__main__"], "__file__", None)
            return os.path.splitext(os.path.basename(main))[0] if main else "__main__"
        return self.import_name

    @property
    def debug(self) -> bool:
        config = self.__dict__.get("config")
        if config is None:
            return bool(self.__dict__.get("_early_debug"))
        return bool(config.get("DEBUG"))

    @debug.setter
    def debug(self, value: bool) -> None:
        config = self.__dict__.get("config")
        if config is None:
            self.__dict__["_early_debug"] = value
        else:
            config["DEBUG"] = value

    @property
    def logger(self) -> logging.Logger:
        """The app's logger (named after the app); errors in classic views are logged here."""
        if self._logger is None:
            logger = logging.getLogger(self.name)
            if self.debug and not logger.level:
                logger.setLevel(logging.DEBUG)
            if not _has_level_handler(logger):
                logger.addHandler(default_handler)
            self._logger = logger
        return self._logger

    # -- templates -------------------------------------------------------------------------------------------

    jinja_options: dict[str, Any] = {}

    @property
    def jinja_env(self) -> Any:
        """The app's Jinja environment, created on first use (see :meth:`create_jinja_environment`)."""
        env = self.__dict__.get("_jinja_env")
        if env is None:
            env = self.__dict__["_jinja_env"] = self.create_jinja_environment()
        return env

    def create_jinja_environment(self) -> Any:
        """The Jinja environment: app and blueprint template folders, autoescape for HTML/XML, and the
        template globals ``url_for``, ``get_flashed_messages``, ``config``, ``request``, ``session``, ``g`` and
        ``csrf_token``."""
        from ketch import globals as context_locals
        from ketch.csrf import generate_csrf
        from ketch.helpers import get_flashed_messages
        from ketch.templating import DispatchingJinjaLoader, Environment, select_autoescape

        options = dict(self.jinja_options)
        if type(self).select_jinja_autoescape is ClassicApp.select_jinja_autoescape:
            # PERF: Jinja asks on every render; the function itself answers without a method call and an import.
            options.setdefault("autoescape", select_autoescape)
        else:
            options.setdefault("autoescape", self.select_jinja_autoescape)
        if "auto_reload" not in options:
            auto_reload = self.config["TEMPLATES_AUTO_RELOAD"]
            options["auto_reload"] = self.debug if auto_reload is None else auto_reload
        options.setdefault("loader", DispatchingJinjaLoader(self._template_loaders))
        env = Environment(self, **options)
        env.globals.update(
            url_for=self.url_for,
            get_flashed_messages=get_flashed_messages,
            config=self.config,
            request=context_locals.request,
            session=context_locals.session,
            g=context_locals.g,
            csrf_token=generate_csrf,
        )
        env.policies["json.dumps_function"] = self.json.dumps
        return env

    def _template_loaders(self) -> Iterator[Any]:
        yield self.jinja_loader
        for blueprint in self.blueprints.values():
            yield blueprint.jinja_loader

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Whether a template is autoescaped: template strings and ``.html``/``.htm``/``.xml``/``.xhtml``/``.svg``."""
        from ketch.templating import select_autoescape

        return select_autoescape(filename)

    def update_template_context(self, context: dict[str, Any]) -> None:
        """Add what the context processors return (app, then the current blueprints'); values passed to
        ``render_template`` win."""
        ctx = _cv_request.get(None)
        app_ctx = _cv_app.get(None)
        processors = self.template_context_processors
        # PERF: the request's blueprints are worked out only when a blueprint has processors of its own.
        if ctx is not None and len(processors) > (None in processors):
            funcs = self.hooks_for("context_processor", ctx.request.blueprints)
        else:
            funcs = processors.get(None) or []
        original = dict(context) if funcs else context  # PERF: nothing to run, nothing to restore
        if app_ctx is not None and (funcs or "g" not in context):
            context["g"] = app_ctx.g
        if ctx is not None and (funcs or "request" not in context):
            # Not the session: touching it marks it accessed (Vary: Cookie); the global proxy stays in its place.
            context["request"] = ctx.request
        for func in funcs:
            context.update(func())
        if funcs:
            context.update(original)

    def template_filter(self, name: str | None = None) -> Callable[[_F], _F]:
        """Register the decorated function as a Jinja filter (``{{ value|name }}``)."""

        def decorator(func: _F) -> _F:
            self.add_template_filter(func, name)
            return func

        return decorator

    def add_template_filter(self, func: Callable[..., Any], name: str | None = None) -> None:
        self.jinja_env.filters[name or func.__name__] = func

    def template_test(self, name: str | None = None) -> Callable[[_F], _F]:
        """Register the decorated function as a Jinja test (``{% if value is name %}``)."""

        def decorator(func: _F) -> _F:
            self.add_template_test(func, name)
            return func

        return decorator

    def add_template_test(self, func: Callable[..., Any], name: str | None = None) -> None:
        self.jinja_env.tests[name or func.__name__] = func

    def template_global(self, name: str | None = None) -> Callable[[_F], _F]:
        """Make the decorated function available in every template under ``name``."""

        def decorator(func: _F) -> _F:
            self.add_template_global(func, name)
            return func

        return decorator

    def add_template_global(self, func: Callable[..., Any], name: str | None = None) -> None:
        self.jinja_env.globals[name or func.__name__] = func

    # -- registration ----------------------------------------------------------------------------------------

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Register ``view_func`` for ``rule`` under ``endpoint`` (Flask's ``add_url_rule``)."""
        if endpoint is None:
            if view_func is None:
                raise TypeError("expected view func if endpoint is not provided.")
            endpoint = view_func.__name__
        methods = options.pop("methods", None)
        if methods is None:
            methods = getattr(view_func, "methods", None) or ("GET",)
        if isinstance(methods, str):
            raise TypeError('Allowed methods must be a list of strings, for example: @app.route(..., methods=["POST"])')
        method_set = {item.upper() for item in methods} | set(getattr(view_func, "required_methods", ()))
        if provide_automatic_options is None:
            provide_automatic_options = getattr(view_func, "provide_automatic_options", None)
        if provide_automatic_options is None:
            # As in Flask: OPTIONS is answered for every rule that does not handle it, through the usual hooks.
            provide_automatic_options = "OPTIONS" not in method_set and bool(self.config["PROVIDE_AUTOMATIC_OPTIONS"])
            if provide_automatic_options:
                method_set.add("OPTIONS")
        defaults = options.pop("defaults", None)
        strict = options.pop("strict_slashes", None)
        subdomain = options.pop("subdomain", None)
        host = options.pop("host", None)
        options.pop("merge_slashes", None)
        sync_to_thread = options.pop("sync_to_thread", True)
        if options:
            raise TypeError(f"Unexpected route options: {sorted(options)}")
        rule_obj = self.url_rule_class(rule, endpoint, method_set, defaults, strict, subdomain, host)
        rule_obj.provide_automatic_options = provide_automatic_options
        rule_obj.sync_to_thread = bool(sync_to_thread)
        self.url_map.add(rule_obj)
        if view_func is not None:
            old = self.view_functions.get(endpoint)
            if old is not None and old != view_func:
                raise AssertionError(f"View function mapping is overwriting an existing endpoint function: {endpoint}")
            self.view_functions[endpoint] = view_func
        self._add_core_route(rule_obj.path, rule_obj, view_func)
        if rule_obj.path.endswith("/") and len(rule_obj.path) > 1:
            strict_slashes = self.url_map.strict_slashes if strict is None else strict
            if strict_slashes:
                redirect = self.url_rule_class(rule[:-1], "", method_set, None, None, subdomain, host, rule_obj)
                self._add_core_route(rule_obj.path[:-1], redirect, view_func)
            else:
                self._add_core_route(rule_obj.path[:-1], rule_obj, view_func)

    def _add_core_route(self, path: str, rule: Rule, view_func: Callable[..., Any] | None) -> None:
        route = Route(
            path,
            view_func or _missing_view(rule.endpoint),
            methods=rule.methods | {"OPTIONS"},  # answered by the classic plan, even when the rule refuses it
            name=rule.endpoint or None,
            include_in_schema=False,
            # A refused OPTIONS (provide_automatic_options=False) is answered (405) but not listed in Allow.
            options={"planner": self._classic_planner, "rule": rule, "unlisted_methods": {"OPTIONS"} - rule.methods},
        )
        self._append(route)

    def register_blueprint(self, blueprint: Any, **options: Any) -> None:
        """Register a :class:`~ketch.blueprints.Blueprint` (options: ``url_prefix``, ``name``, ``subdomain``,
        ``url_defaults``)."""
        blueprint.register(self, options)

    def iter_blueprints(self) -> Iterator[Any]:
        """The registered blueprints, in registration order."""
        return iter(self.blueprints.values())

    def teardown_appcontext(self, func: _F) -> _F:
        """Run ``func(error)`` when the app context is popped (after each request, and after ``app_context()``)."""
        self.teardown_appcontext_funcs.append(func)
        self._setup_changed()
        return func

    def shell_context_processor(self, func: _F) -> _F:
        """Add the dict ``func()`` returns to ``ketch shell``'s namespace."""
        self.shell_context_processors.append(func)
        return func

    def register_error_handler(self, code_or_exception: int | type[BaseException], func: Callable[..., Any]) -> None:
        super().register_error_handler(code_or_exception, func)
        self._install_routing_errors()

    def _install_routing_errors(self) -> None:
        """Route-level 404/405 (and errors raised before a route matched) go through the classic hooks and
        error handlers, as in Flask."""
        if not getattr(self.exception_handlers.get(HTTPException), "classic_adapter", False):
            self.exception_handlers.setdefault(HTTPException, self._handle_routing_error)

    async def _handle_routing_error(self, request: Any, exc: Exception) -> Any:
        route = request.scope.get("route")
        if route is not None and not isinstance(route.options.get("planner"), ClassicPlanner):
            return http_exception_handler(request, exc)  # type: ignore[arg-type]  # a typed route's error: JSON
        if not self._classic_style and self.find_error_handler(self.map_http_exception(exc), []) is None:
            return http_exception_handler(request, exc)  # type: ignore[arg-type]
        plan = self._routing_error_plan
        if plan is None:
            plan = self._routing_error_plan = ClassicPlan.for_errors(self, self.limits)
        return await plan.respond(request.scope, request.receive, exc)  # type: ignore[arg-type]

    _handle_routing_error.classic_adapter = True  # type: ignore[attr-defined]

    # -- what a classic plan asks of the app (see ClassicFace in _plan/classic.py) ---------------------------

    def hooks_for(self, kind: str, blueprints: list[str]) -> list[Callable[..., Any]]:
        """The functions of one hook kind that apply to a request in ``blueprints``, in the order Flask calls them."""
        if kind == "teardown_appcontext":
            return list(reversed(self.teardown_appcontext_funcs))
        tables = {
            "before_request": self.before_request_funcs,
            "url_value_preprocessor": self.url_value_preprocessors,
            "context_processor": self.template_context_processors,
            "url_defaults": self.url_default_functions,
            "after_request": self.after_request_funcs,
            "teardown_request": self.teardown_request_funcs,
        }
        table = tables[kind]
        if kind in ("after_request", "teardown_request"):
            return [func for name in (*blueprints, None) for func in reversed(table.get(name, []))]
        return [func for name in (None, *reversed(blueprints)) for func in table.get(name, [])]

    def find_error_handler(self, exc: BaseException, blueprints: list[str]) -> Callable[..., Any] | None:
        """Flask's lookup: handlers for the status code (blueprints, then the app) before handlers by class."""
        code = http_status_of(exc)
        mro = type(exc).__mro__
        for c in (code, None) if code is not None else (None,):
            for name in (*blueprints, None):
                handlers = self.error_handler_spec.get(name, {}).get(c)
                if not handlers:
                    continue
                for cls in mro:
                    handler = handlers.get(cls)
                    if handler is not None:
                        return handler
        return None

    # Set to {status: exception class} to hand error handlers other HTTP exception classes for the errors ketch
    # raises itself (the router's 404/405, a 413...): ketch.compat.flask gives Werkzeug's.
    http_exception_classes: Mapping[int, type[Exception]] | None = None
    bad_request_key_error_class: type[Exception] | None = None

    def map_http_exception(self, exc: Exception) -> Exception:
        """The exception error handlers see for ``exc``: ketch's own HTTP errors become the app's
        ``http_exception_classes`` (so ``errorhandler(NotFound)`` catches the router's 404); others are kept."""
        classes = self.http_exception_classes
        # ketch's own classes only (a module under "ketch"; ketch/__init__ renames public ones to plain "ketch").
        if classes is None or not isinstance(exc, HTTPException) or type(exc).__module__.split(".")[0] != "ketch":
            return exc
        if getattr(exc, "response", None) is not None:
            return exc  # abort(response) and routing redirects carry their own response
        if isinstance(exc, KeyError) and self.bad_request_key_error_class is not None:
            return self.bad_request_key_error_class(getattr(exc, "key", None))
        cls = classes.get(exc.status_code)
        if cls is None:
            return exc
        default = isinstance(exc.detail, str) and exc.detail == http.HTTPStatus(exc.status_code).phrase
        mapped = cls(description=None if default else str(exc.detail))  # type: ignore[call-arg]
        allow = (exc.headers or {}).get("Allow")
        if allow is not None and hasattr(mapped, "valid_methods"):
            mapped.valid_methods = [method.strip() for method in allow.split(",") if method.strip()]
        return mapped

    def trap_http_exception(self, exc: BaseException) -> bool:
        """Whether an HTTP error should propagate like any other exception (``TRAP_*`` settings)."""
        if self.config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = self.config["TRAP_BAD_REQUEST_ERRORS"]
        status = http_status_of(exc)
        if trap_bad_request is None and self.debug and isinstance(exc, KeyError) and status == 400:
            return True
        return bool(trap_bad_request) and status == 400

    def csrf_check(self, endpoint: str, view: Callable[..., Any]) -> Callable[[Any], None] | None:
        if not endpoint or not self.config.get("CSRF_ENABLED") or getattr(view, "csrf_exempt", False):
            return None
        if not self.secret_key:
            raise ImproperlyConfigured(
                f"CSRF protection for {endpoint!r} needs a SECRET_KEY: set app.config['SECRET_KEY'], or set "
                "app.config['CSRF_ENABLED'] = False (or mark the view with ketch.csrf.csrf_exempt)."
            )
        from ketch.csrf import protect

        return protect

    def send_signal(self, name: str, **kwargs: Any) -> None:
        signal = _SIGNALS[name]
        # PERF: a signal with no receivers is skipped without building anything.
        if signal._receivers:
            signal.send(self, _async_wrapper=_sync_wrapper, **kwargs)

    def log_exception(self, request: Any, exc: BaseException) -> None:
        self.logger.error(f"Exception on {request.path} [{request.method}]", exc_info=exc)

    def request_context(self, request: Any) -> RequestContext:
        return RequestContext(self, request)

    def open_request_session(self, request: Any) -> SessionMixin:
        interface = self.session_interface
        session = interface.open_session(self, request)
        return session if session is not None else interface.make_null_session(self)  # type: ignore[no-any-return]

    def save_request_session(self, ctx: Any, response: Any) -> None:
        interface = self.session_interface
        session = ctx.session_opened
        if session is None:
            # Untouched, but a permanent session's expiry still slides on every request (as in Flask): open it
            # now, only when the request carries a session cookie.
            name = interface.get_cookie_name(self)
            if not self.config["SESSION_REFRESH_EACH_REQUEST"] or name not in ctx.request.cookies:
                return
            session = ctx.open_session_quietly()
        if not interface.is_null_session(session):
            interface.save_session(self, session, response)

    def make_response(self, rv: Any) -> Any:
        """Turn a view's return value into a response (Flask's return conventions)."""
        if type(rv) is str:  # PERF: the usual return value (a rendered template), without the checks
            return self.response_class(rv, status=None, headers=None)
        ctx = _cv_request.get(None)
        endpoint = ctx.request.endpoint if ctx is not None else None
        return convert_return_value(rv, self.response_class, self.json.response, endpoint)

    def redirect(self, location: str, code: int = 302) -> Any:
        """A redirect response (``helpers.redirect`` calls this inside an app context)."""
        return redirect_response(location, code, self.response_class)

    def do_teardown_request(self, exc: BaseException | None, blueprints: list[str] | None = None) -> None:
        """Run the teardown_request functions (a hand-pushed request context calls this when popped)."""
        for func in self.hooks_for("teardown_request", blueprints or []):
            run_sync(func, exc)
        self.send_signal("request_tearing_down", exc=exc)

    def do_teardown_appcontext(self, exc: BaseException | None) -> None:
        """Run the teardown_appcontext functions."""
        for func in self.hooks_for("teardown_appcontext", []):
            run_sync(func, exc)
        self.send_signal("appcontext_tearing_down", exc=exc)

    # -- command line ----------------------------------------------------------------------------------------

    @property
    def cli(self) -> Any:
        """The app's click command group (:class:`ketch.cli.AppGroup`): ``@app.cli.command("init-db")`` adds
        ``ketch --app module init-db``, run inside an app context."""
        group = self.__dict__.get("_cli")
        if group is None:
            from ketch.cli import AppGroup

            group = self.__dict__["_cli"] = AppGroup(self.name)
        return group

    def make_shell_context(self) -> dict[str, Any]:
        """The names ``ketch shell`` starts with: ``app``, ``g``, then what the shell context processors return."""
        from ketch.globals import g

        context: dict[str, Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            context.update(processor())
        return context

    def run(self, host: str | None = None, port: int | None = None, debug: bool | None = None, **options: Any) -> None:
        """Serve the app with uvicorn on ``host:port`` (127.0.0.1:5000 by default), as Flask's ``app.run``.

        For development only; ``ketch run`` has the full set of options (reload, workers, proxies).
        """
        from ketch.cli import _log_config, _run_server

        if debug is not None:
            self.debug = bool(debug)
        for unused in ("load_dotenv", "use_reloader", "use_debugger", "threaded", "processes"):
            options.pop(unused, None)
        _run_server(
            self,
            host=host or "127.0.0.1",
            port=5000 if port is None else int(port),
            log_config=_log_config(self.debug, None),
            lifespan="on",
            **options,
        )

    test_cli_runner_class: Any = None

    def test_cli_runner(self, **kwargs: Any) -> Any:
        """A click test runner (:class:`ketch.cli.AppCliRunner`): ``invoke(args=["init-db"])`` runs the app's
        command in an app context."""
        cls = self.test_cli_runner_class
        if cls is None:
            from ketch.cli import AppCliRunner

            cls = AppCliRunner
        return cls(self, **kwargs)

    # -- testing ---------------------------------------------------------------------------------------------

    test_client_class: type[Any] | None = None

    def test_client(self, use_cookies: bool = True, **kwargs: Any) -> Any:
        """A Flask-shaped test client (:class:`ketch.testing.FlaskClient`) for this app."""
        cls = self.test_client_class
        if cls is None:
            from ketch.testing import FlaskClient

            cls = FlaskClient
        return cls(self, use_cookies=use_cookies, **kwargs)

    # -- contexts --------------------------------------------------------------------------------------------

    def app_context(self) -> AppContext:
        """An app context for code outside a request: ``with app.app_context(): init_db()``."""
        return AppContext(self)

    def test_request_context(
        self,
        path: str = "/",
        base_url: str | None = None,
        method: str = "GET",
        headers: Any = None,
        query_string: str | bytes | dict[str, Any] | None = None,
        data: str | bytes | dict[str, Any] | None = None,
        json: Any = None,
        content_type: str | None = None,
    ) -> RequestContext:
        """A request context for a request that is never sent, to call request-using code in tests."""
        from ketch.testing import build_request

        request = build_request(self, path, base_url, method, headers, query_string, data, json, content_type)
        return RequestContext(self, request)

    # -- URLs ------------------------------------------------------------------------------------------------

    def url_for(
        self,
        endpoint: str,
        /,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        """The URL of ``endpoint`` with ``values`` (see :func:`ketch.helpers.url_for`)."""
        ctx = _cv_request.get(None)
        if ctx is not None:
            request = ctx.request
            blueprint = request.blueprint
            if endpoint[:1] == ".":
                endpoint = f"{blueprint}{endpoint}" if blueprint is not None else endpoint[1:]
            if _external is None:
                _external = _scheme is not None
            root, scheme, host = request.script_root, request.scheme, request.host
        else:
            server_name = self.config["SERVER_NAME"]
            if not server_name:
                raise RuntimeError(
                    "Unable to build URLs outside an active request without 'SERVER_NAME' configured. Also configure "
                    "'APPLICATION_ROOT' and 'PREFERRED_URL_SCHEME' as needed."
                )
            root = str(self.config["APPLICATION_ROOT"]).rstrip("/")
            scheme, host = self.config["PREFERRED_URL_SCHEME"], server_name
            if _external is None:
                _external = True
        if _scheme is not None and not _external:
            raise ValueError("When specifying '_scheme', '_external' must be True.")
        self.inject_url_defaults(endpoint, values)
        try:
            rule, path = self._build_path(endpoint, values, _method)
        except BuildError as error:
            values.update(_anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external)
            return self.handle_url_build_error(error, endpoint, values)
        if rule is not None and self.url_map.routes_by_host:
            # A rule on another host or subdomain than the current one gets an absolute URL (Werkzeug's rule).
            target = self._host_of(rule, values, scheme)
            if target is not None and target != normalize_host(host, scheme):
                host, _external = target, True
        url = quote(root, safe="/%") + path
        if _external:
            url = f"{_scheme or scheme}://{host}{url}"
        if _anchor is not None:
            url += "#" + quote(_anchor, safe="%!#$&'()*+,/:;=?@")
        return url

    def _build_path(self, endpoint: str, values: dict[str, Any], method: str | None) -> tuple[Rule | None, str]:
        if endpoint in self.url_map._by_endpoint:
            return self.url_map.build_rule(endpoint, values, method)
        try:  # a typed or core route: its name, its exact path parameters
            return None, self.url_path_for(endpoint, **values)
        except NoMatchFound:
            raise BuildError(endpoint, values, method) from None

    def _host_of(self, rule: Rule, values: dict[str, Any], scheme: str) -> str | None:
        """The host ``rule`` serves for ``values``, or None when any host will do."""
        url_map = self.url_map
        built = rule.build_domain(values, url_map.host_matching)
        if url_map.host_matching:
            return normalize_host(built, scheme) if built is not None else None
        server_name = self.config["SERVER_NAME"]
        if not server_name:
            return None
        subdomain = url_map.default_subdomain if rule.subdomain is None else built
        if subdomain is None:
            return None
        server_name = normalize_host(server_name, scheme)
        return f"{subdomain}.{server_name}" if subdomain else server_name

    def routes_by_host(self) -> bool:
        """Whether classic routes are matched on the request's host too (see :class:`~ketch._plan.classic_rules.
        UrlMap`); a rule with ``subdomain=`` needs ``SERVER_NAME``."""
        url_map = self.url_map
        if url_map.names_subdomains and not url_map.host_matching and not self.config["SERVER_NAME"]:
            names = sorted({rule.rule for rule in url_map if rule.subdomain is not None})
            raise ImproperlyConfigured(
                f"Routes with a subdomain ({', '.join(names)}) need app.config['SERVER_NAME'] (the domain the "
                "subdomains are under, such as 'example.com')."
            )
        return bool(url_map.routes_by_host)

    def make_default_options_response(self) -> Any:
        """The answer to an automatic ``OPTIONS``: empty, with ``Allow`` listing every method the URL answers."""
        response = self.response_class()
        response.headers["Allow"] = self._allow()
        return response

    def refuse_options(self) -> Any:
        """``OPTIONS`` for a rule without automatic OPTIONS (``provide_automatic_options=False``): 405."""
        raise HTTPException(405, headers={"Allow": self._allow()})

    def _allow(self) -> str:
        request = _cv_request.get().request
        url_map = self.url_map
        domain: str | None = ""
        if url_map.routes_by_host:
            server_name = self.config["SERVER_NAME"]
            scheme = request.scheme
            host = normalize_host(request.host, scheme)
            domain = url_map.domain_of(host, normalize_host(server_name, scheme) if server_name else None)
        return ", ".join(sorted(url_map.allowed_methods(request.path, domain)))

    def shows_tracebacks_to(self, request: Any) -> bool:
        """Whether an error in ``request`` may show its traceback: debug is on and the client is on loopback."""
        client = request.scope.get("client")
        return self.debug and is_loopback(client[0] if client else None)

    def inject_url_defaults(self, endpoint: str, values: dict[str, Any]) -> None:
        """Let the url_defaults functions of the app and the endpoint's blueprints fill in ``values``."""
        names = endpoint.split(".")[:-1]
        blueprints = [".".join(names[:i]) for i in range(len(names), 0, -1)]
        for func in self.hooks_for("url_defaults", blueprints):
            func(endpoint, values)

    def handle_url_build_error(self, error: BuildError, endpoint: str, values: dict[str, Any]) -> str:
        """Try the ``url_build_error_handlers``; re-raise ``error`` if none returns a URL."""
        for handler in self.url_build_error_handlers:
            try:
                result = handler(error, endpoint, values)
            except BuildError as exc:
                error = exc
                continue
            if result is not None:
                return str(result)
        raise error


def _sync_wrapper(func: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *args, **kwargs: run_sync(func, *args, **kwargs)
