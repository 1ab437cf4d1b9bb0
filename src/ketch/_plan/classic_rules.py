"""Flask-style URL rules: ``app.url_map``, its rules and converters, and routing by host and subdomain.

A :class:`Rule` is what ``app.route()`` records (Werkzeug's ``Rule``: the rule string, endpoint, methods,
defaults, ``subdomain=`` and ``host=``); the app also registers a core route for it, so the core router matches
paths as it does for every route. Host and subdomain only come into play when some rule names one (or
``host_matching`` is on): then :class:`HostDispatch` serves the app's classic routes, matching host, path and
method over the rules in registration order, so a rule whose host does not fit behaves as not matching.
Everything here is pure and I/O-free except :meth:`HostDispatch.__call__`.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote, urlencode

from ketch.exceptions import HTTPException
from ketch.requests import Request
from ketch.routing.convertors import CONVERTORS, Convertor, compile_path, register_convertor
from ketch.routing.route import Route
from ketch.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "BuildError",
    "ConverterMap",
    "HostDispatch",
    "Rule",
    "UrlMap",
    "normalize_host",
    "request_domain",
    "translate_rule",
]


class BuildError(LookupError):
    """``url_for`` could not build a URL: no such endpoint, or the values do not fit any of its rules."""

    def __init__(self, endpoint: str, values: dict[str, Any], method: str | None) -> None:
        self.endpoint = endpoint
        self.values = values
        self.method = method
        message = f"Could not build url for endpoint {endpoint!r}"
        if values:
            message += f" with values {sorted(values)!r}. Did you forget to specify values?"
        super().__init__(message)


_PATH_SAFE = "!$&'()*+,/:;=@"
_STRING = type(CONVERTORS["str"])
_QUERY_SAFE = "!$'()*,/:;?@"
_Compiled = tuple[re.Pattern[str] | None, str, dict[str, Convertor]]


class Rule:
    """A classic URL rule: the rule string, its endpoint, methods and defaults (``request.url_rule``).

    As in Werkzeug, a rule with ``GET`` also answers ``HEAD``; ``subdomain`` and ``host`` may hold variables
    (``subdomain="<user>"``), passed to the view like path variables.
    """

    def __init__(
        self,
        rule: str,
        endpoint: str,
        methods: Iterable[str],
        defaults: dict[str, Any] | None = None,
        strict_slashes: bool | None = None,
        subdomain: str | None = None,
        host: str | None = None,
        redirect_to: Rule | None = None,
    ) -> None:
        self.rule = rule
        self.endpoint = endpoint
        self.methods = set(methods)
        if "GET" in self.methods:
            self.methods.add("HEAD")
        self.defaults = defaults
        self.strict_slashes = strict_slashes
        self.subdomain = subdomain
        self.host = host
        self.redirect_to = redirect_to
        self.provide_automatic_options = False
        # False: the route's whole request sequence (hooks and a sync view) runs on the event loop, no thread hop.
        self.sync_to_thread = True
        self.path = translate_rule(rule)
        self._regex, self._format, self._convertors = compile_path(self.path)
        self._subdomain = compile_path(translate_rule(subdomain)) if subdomain else None
        self._host = compile_path(translate_rule(host)) if host else None
        self.domain_arguments = {name for part in (self._subdomain, self._host) if part for name in part[2]}
        self.arguments = set(self._convertors) | self.domain_arguments

    def match(self, path: str) -> dict[str, Any] | None:
        """The converted values (with the rule's defaults) if ``path`` matches this rule, else None."""
        if self._regex is None:
            return dict(self.defaults or {}) if path == self.path else None
        values = _match(self._regex, self._convertors, path)
        return None if values is None else {**(self.defaults or {}), **values}

    def match_domain(
        self, domain: str | None, host_matching: bool, default_subdomain: str = ""
    ) -> dict[str, Any] | None:
        """The host's values if ``domain`` (the request's host with ``host_matching``, else its subdomain; None
        for a host outside ``SERVER_NAME``) fits this rule, else None. No ``host=`` matches any host."""
        if domain is None:
            return None
        if host_matching:
            if self._host is None:
                return {}
            regex, fmt, convertors = self._host
        elif self._subdomain is None:
            return {} if domain == default_subdomain else None
        else:
            regex, fmt, convertors = self._subdomain
        if regex is None:
            return {} if domain == fmt.lower() else None
        return _match(regex, convertors, domain)

    def suitable_for(self, values: dict[str, Any], method: str | None = None) -> bool:
        """Whether this rule can build a URL from ``values`` (for ``method``, if given)."""
        if method is not None and method not in self.methods:
            return False
        defaults = self.defaults or {}
        if any(key not in defaults and key not in values for key in self.arguments):
            return False
        return all(key not in values or values[key] == value for key, value in defaults.items())

    def build(self, values: dict[str, Any]) -> str | None:
        """The path and query string for ``values`` (unknown values go in the query), or None."""
        path = _fill(self._format, self._convertors, values, self.defaults or {}, _PATH_SAFE)
        if path is None:
            return None
        query: list[tuple[str, str]] = []
        skip = {*self._convertors, *self.domain_arguments, *(self.defaults or {})}
        for key, value in values.items():
            if key in skip or value is None:
                continue
            for item in value if isinstance(value, list | tuple) else [value]:
                query.append((key, str(item)))
        return f"{path}?{urlencode(query, safe=_QUERY_SAFE)}" if query else path

    def build_domain(self, values: dict[str, Any], host_matching: bool) -> str | None:
        """The host (``host_matching``) or subdomain this rule names, filled with ``values``; None if it names
        none (or a value does not fit)."""
        part = self._host if host_matching else self._subdomain
        if part is None:
            return None
        return _fill(part[1], part[2], values, self.defaults or {}, "")

    def _build_order(self) -> tuple[int, int]:
        return -len(self.arguments), -len(self.defaults or {})

    def __repr__(self) -> str:
        return f"<Rule {self.rule!r} ({', '.join(sorted(self.methods))}) -> {self.endpoint}>"


def _match(regex: re.Pattern[str], convertors: dict[str, Convertor], text: str) -> dict[str, Any] | None:
    found = regex.match(text)
    if found is None:
        return None
    try:
        return {key: convertors[key].convert(value) for key, value in found.groupdict().items()}
    except ValueError:
        return None


def _fill(
    fmt: str, convertors: dict[str, Convertor], values: dict[str, Any], defaults: dict[str, Any], safe: str
) -> str | None:
    for key, convertor in convertors.items():
        value = values[key] if key in values else defaults[key]
        try:
            # Werkzeug builds any string for a plain parameter (a "/" is kept, not refused).
            text = str(value) if isinstance(convertor, _STRING) else convertor.to_string(value)
        except (ValueError, TypeError):
            return None
        fmt = fmt.replace("{" + key + "}", quote(text, safe=safe) if safe else text)
    return fmt


class _ForeignConvertor(Convertor):
    """A Werkzeug-style converter (``regex``, ``to_python``, ``to_url``) used as a ketch convertor."""

    def __init__(self, converter: Any) -> None:
        self.converter = converter
        self.regex = converter.regex  # type: ignore[misc]

    def convert(self, value: str) -> Any:
        return self.converter.to_python(value)

    def to_string(self, value: Any) -> str:
        return str(self.converter.to_url(value))


class ConverterMap(dict[str, Any]):
    """``app.url_map.converters``: assigning a converter class makes ``<name:var>`` usable in rules.

    NOTE: ketch's convertor table is process-wide, so two apps registering different converters under one name
    share the last one.
    """

    def __init__(self, url_map: UrlMap) -> None:
        super().__init__({name: type(conv) for name, conv in CONVERTORS.items()})
        self.url_map = url_map

    def __setitem__(self, name: str, converter: Any) -> None:
        super().__setitem__(name, converter)
        if isinstance(converter, Convertor):
            register_convertor(name, converter)
        elif isinstance(converter, type) and issubclass(converter, Convertor):
            register_convertor(name, converter())
        else:
            register_convertor(name, _ForeignConvertor(converter(self.url_map)))


class UrlMap:
    """``app.url_map``: every classic rule, by endpoint, and the converters rules may use.

    Attributes:
        host_matching: rules match on ``host=`` instead of ``subdomain=`` (Flask's ``host_matching=True``).
        subdomain_matching: check every rule's subdomain against ``SERVER_NAME`` even when no rule names one
            (a request for another host is then a 404); a rule with ``subdomain=`` turns this on by itself.
        default_subdomain: the subdomain of rules that name none.
    """

    def __init__(self) -> None:
        self._rules: list[Rule] = []
        self._by_endpoint: dict[str, list[Rule]] = {}
        self.converters = ConverterMap(self)
        self.strict_slashes = True
        self.host_matching = False
        self.subdomain_matching = False
        self.default_subdomain = ""
        self.names_subdomains = False

    @property
    def routes_by_host(self) -> bool:
        """Whether requests are matched on their host as well as their path."""
        return self.host_matching or self.subdomain_matching or self.names_subdomains

    def add(self, rule: Rule) -> None:
        self._rules.append(rule)
        rules = self._by_endpoint.setdefault(rule.endpoint, [])
        rules.append(rule)
        rules.sort(key=Rule._build_order)
        if rule.subdomain is not None:
            self.names_subdomains = True

    def iter_rules(self, endpoint: str | None = None) -> Iterator[Rule]:
        if endpoint is not None:
            return iter(self._by_endpoint.get(endpoint, []))
        return iter(self._rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules)

    def domain_of(self, host: str, server_name: str | None) -> str | None:
        """What a request's rules match their domain against (see :func:`request_domain`)."""
        return request_domain(host, server_name, self.host_matching, self.default_subdomain)

    def match(self, path: str, method: str = "GET", domain: str | None = "") -> tuple[Rule, dict[str, Any]] | None:
        """The rule that serves ``path`` and its values (defaults included), or None. ``domain`` is checked
        only when the map routes by host."""
        for rule in self._rules:
            if method not in rule.methods:
                continue
            found = self._match_rule(rule, path, domain)
            if found is not None:
                return rule, found
        return None

    def allowed_methods(self, path: str, domain: str | None = "") -> set[str]:
        """Every method some rule answers for ``path`` (the ``Allow`` of an automatic OPTIONS answer)."""
        methods: set[str] = set()
        for rule in self._rules:
            if self._match_rule(rule, path, domain) is not None:
                methods |= rule.redirect_to.methods if rule.redirect_to is not None else rule.methods
        return methods

    def _match_rule(self, rule: Rule, path: str, domain: str | None) -> dict[str, Any] | None:
        found = rule.match(path)
        if found is None or not self.routes_by_host:
            return found
        host_values = rule.match_domain(domain, self.host_matching, self.default_subdomain)
        return None if host_values is None else {**found, **host_values}

    def build(self, endpoint: str, values: dict[str, Any], method: str | None = None) -> str:
        """The path (and query) for ``endpoint``; ``BuildError`` if no rule fits."""
        return self.build_rule(endpoint, values, method)[1]

    def build_rule(self, endpoint: str, values: dict[str, Any], method: str | None = None) -> tuple[Rule, str]:
        """The rule chosen for ``endpoint`` and ``values``, and the path (and query) it builds."""
        for rule in self._by_endpoint.get(endpoint, ()):
            if rule.suitable_for(values, method):
                built = rule.build(values)
                if built is not None:
                    return rule, built
        raise BuildError(endpoint, values, method)

    def __repr__(self) -> str:
        return f"UrlMap({self._rules!r})"


# -- hosts -------------------------------------------------------------------------------------------------


def normalize_host(host: str, scheme: str) -> str:
    """``host`` lower-cased, without the scheme's default port (``example.com:80`` -> ``example.com``)."""
    host = host.lower()
    if scheme in ("http", "ws") and host.endswith(":80"):
        return host[:-3]
    if scheme in ("https", "wss") and host.endswith(":443"):
        return host[:-4]
    return host


def request_domain(host: str, server_name: str | None, host_matching: bool, default_subdomain: str = "") -> str | None:
    """What rules match against: the host itself with ``host_matching``; else the subdomain of ``host`` under
    ``server_name`` (``"api"`` for ``api.example.com``, ``""`` for ``example.com``), ``default_subdomain``
    without a ``server_name``, and None for a host outside it (no rule matches: a 404, as in Werkzeug)."""
    if host_matching:
        return host
    if not server_name:
        return default_subdomain
    current, wanted = host.split("."), server_name.split(".")
    if current[-len(wanted) :] != wanted:
        return None
    return ".".join(part for part in current[: -len(wanted)] if part)


def _routed_path(scope: Scope) -> str:
    path: str = scope["path"]
    root = scope.get("root_path")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        path = path[len(root) :]
    return path


def _drop_body(app: ASGIApp) -> ASGIApp:
    async def head(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await app(scope, receive, send_headers_only)

    return head


_Candidate = tuple[Route, Rule, dict[str, ASGIApp]]


class HostDispatch:
    """Serves an app's classic routes when it routes by host: the core router finds a classic route by path and
    calls this, which matches host, path and method over every classic rule, in registration order.

    A rule whose host does not fit is skipped (the next one may serve the request); when none fits, the answer is
    405 (the path and host fit, the method does not) or 404, through the app's handlers. Plans are made on the
    first request after each (re)start, by ``plan_for(route, method)``.
    """

    def __init__(
        self,
        app: Any,
        is_classic: Callable[[Any], bool],
        plan_for: Callable[[Route, str], ASGIApp],
        handlers: Any,
    ) -> None:
        self.app = app
        self.is_classic = is_classic
        self.plan_for = plan_for
        self.handlers = handlers
        self.table: list[_Candidate] | None = None

    def reset(self, handlers: Any) -> None:
        """Forget the plans (the app is being planned again); they are made again on the next request."""
        self.handlers = handlers
        self.table = None

    def _build(self) -> list[_Candidate]:
        table: list[_Candidate] = []
        for route in self.app.routes:
            if not isinstance(route, Route) or not self.is_classic(route):
                continue
            handlers: dict[str, ASGIApp] = {}
            for method in sorted(route.methods - {"HEAD"}):
                handlers[method] = self.plan_for(route, method)
            if "HEAD" in route.methods:
                handlers["HEAD"] = _drop_body(handlers.get("GET") or self.plan_for(route, "GET"))
            table.append((route, route.options["rule"], handlers))
        self.table = table
        return table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        table = self.table if self.table is not None else self._build()
        url_map = self.app.url_map
        host = normalize_host(Request(scope).host, scope.get("scheme", "http"))
        server_name = self.app.config.get("SERVER_NAME")
        if server_name:
            server_name = normalize_host(server_name, scope.get("scheme", "http"))
        domain = url_map.domain_of(host, server_name)
        path = _routed_path(scope)
        method = scope["method"]
        allowed: set[str] = set()
        for route, rule, handlers in table:
            host_values = rule.match_domain(domain, url_map.host_matching, url_map.default_subdomain)
            if host_values is None:
                continue
            if route.regex is None:
                params: dict[str, Any] | None = {} if path == route.path else None
            else:
                params = _match(route.regex, route.param_convertors, path)
            if params is None:
                continue
            handler = handlers.get(method)
            if handler is None:
                allowed.update(handlers)
                continue
            scope["path_params"] = {**host_values, **params}
            scope["route"] = route
            await handler(scope, receive, send)
            return
        await self._refuse(scope, receive, send, allowed)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, allowed: set[str]) -> None:
        exc = HTTPException(405, headers={"Allow": ", ".join(sorted(allowed))}) if allowed else HTTPException(404)
        response: ASGIApp = await self.handlers.response_for(Request(scope, receive), exc)
        if scope["method"] == "HEAD":
            response = _drop_body(response)
        await response(scope, receive, send)


# -- Werkzeug's converter arguments ------------------------------------------------------------------------

_WERKZEUG_PARAM = re.compile(r"<(?:([a-zA-Z_][a-zA-Z0-9_]*)(?:\((.*?)\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")


def translate_rule(rule: str) -> str:
    """A Flask rule with converter arguments (``<any(a, b):x>``, ``<int(min=1):n>``) rewritten to use convertors
    registered for those arguments; other rules are returned unchanged."""

    def replace(match: re.Match[str]) -> str:
        name, args, variable = match.groups()
        if name == "default":
            name = "str"
        if args is None:
            return f"<{name}:{variable}>" if name else match.group(0)
        key = f"_{name}_{hashlib.sha1(args.encode()).hexdigest()[:12]}"
        if key not in CONVERTORS:
            register_convertor(key, _convertor_with_args(name, args))
        return f"<{key}:{variable}>"

    return _WERKZEUG_PARAM.sub(replace, rule)


def _convertor_with_args(name: str, args: str) -> Convertor:
    call = ast.parse(f"f({args})", mode="eval").body
    assert isinstance(call, ast.Call)
    positional = [_literal(arg) for arg in call.args]
    keywords = {kw.arg: _literal(kw.value) for kw in call.keywords if kw.arg}
    base = CONVERTORS.get(name)
    if name == "any":
        return _AnyConvertor([str(item) for item in positional])
    if base is None:
        raise ValueError(f"Unknown path convertor {name!r}")
    return _BoundedConvertor(base, **keywords)


def _literal(node: ast.expr) -> Any:
    """A converter argument: a Python literal, or a bare word (``any(red, green)``) as a string."""
    if isinstance(node, ast.Name):
        return {"True": True, "False": False, "None": None}.get(node.id, node.id)
    return ast.literal_eval(node)


class _AnyConvertor(Convertor):
    def __init__(self, items: list[str]) -> None:
        self.items = set(items)
        self.regex = "(?:" + "|".join(re.escape(item) for item in sorted(items, key=len, reverse=True)) + ")"  # type: ignore[misc]

    def to_string(self, value: Any) -> str:
        if value not in self.items:
            raise ValueError(f"{value!r} is not one of {sorted(self.items)}")
        return str(value)


class _BoundedConvertor(Convertor):
    """``int``/``float``/``string`` with Werkzeug's arguments: ``min``, ``max``, ``signed``, ``length``,
    ``minlength``, ``maxlength``, ``fixed_digits``."""

    def __init__(self, base: Convertor, **options: Any) -> None:
        self.base = base
        self.options = options
        regex = base.regex
        if options.get("signed"):
            regex = "-?" + regex
        if "length" in options:
            regex = f"[^/\\x00]{{{int(options['length'])}}}"
        elif "minlength" in options or "maxlength" in options:
            regex = f"[^/\\x00]{{{int(options.get('minlength', 1))},{options.get('maxlength', '')}}}"
        self.regex = regex  # type: ignore[misc]

    def convert(self, value: str) -> Any:
        fixed = self.options.get("fixed_digits")
        if fixed and len(value) != fixed:
            raise ValueError("wrong number of digits")
        result = self.base.convert(value.lstrip("-")) if value.startswith("-") else self.base.convert(value)
        if value.startswith("-"):
            result = -result
        low, high = self.options.get("min"), self.options.get("max")
        if (low is not None and result < low) or (high is not None and result > high):
            raise ValueError("out of range")
        return result

    def to_string(self, value: Any) -> str:
        if self.options.get("signed") and isinstance(value, int | float) and value < 0:
            return "-" + self.base.to_string(-value)
        text = self.base.to_string(value)
        fixed = self.options.get("fixed_digits")
        return text.zfill(fixed) if fixed else text
