"""The dependency graph of an endpoint, flattened at start-up into the order its nodes run in.

``build_graph`` walks ``Depends`` markers depth first (route-level ``dependencies=`` first, then the endpoint's
parameters) and lists every callable once per cache key, sub-dependencies before the callables that need them,
the endpoint last: the order FastAPI calls them in. Each node records how its arguments are found (a validated
value, another node's result, or a connection object), whether it is sync (thread pool), async or a generator
(cleanup after ``yield`` on an exit stack), and which nodes it needs, so a request only walks a list.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import weakref
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from ketch._plan.signature import CallSignature, DependsSpec, read_signature
from ketch.concurrency import run_in_threadpool
from ketch.exceptions import ImproperlyConfigured
from ketch.params import Depends

__all__ = [
    "AppDependencies",
    "ExitStacks",
    "OverrideVariants",
    "app_dependencies_of",
    "Graph",
    "Node",
    "build_graph",
    "call_kind",
    "enter_generator",
    "exit_async_generator",
    "exit_sync_generator",
    "push_generator",
    "push_sync_generators",
    "runs_on_loop",
]


def _unwrap(call: Any) -> Any:
    while isinstance(call, functools.partial):
        call = call.func
    return inspect.unwrap(call)


def _check(call: Any, test: Callable[[Any], bool]) -> bool:
    if test(_unwrap(call)) or test(call):
        return True
    if inspect.isclass(_unwrap(call)):
        return False
    dunder = getattr(call, "__call__", None)  # noqa: B004 - instances with an async or generator __call__
    return dunder is not None and (test(dunder) or test(_unwrap(dunder)))


def call_kind(call: Callable[..., Any]) -> str:
    """ "asyncgen", "gen", "async" or "sync": how a callable is run (classes are sync: they are instantiated)."""
    if _check(call, inspect.isasyncgenfunction):
        return "asyncgen"
    if _check(call, inspect.isgeneratorfunction):
        return "gen"
    if _check(call, inspect.iscoroutinefunction):
        return "async"
    return "sync"


@dataclass(eq=False)
class Node:
    """One callable to run per request (or once per app, for ``scope="app"``).

    Attributes:
        index: position in ``Graph.nodes``; the endpoint is last.
        call: what is called (the override, when one applies).
        signature: what its parameters read.
        kind: "async", "sync", "asyncgen" or "gen".
        scope: "function" or "request" for generators (when cleanup runs), "app" for app-lifetime values.
        oauth_scopes: the scopes of every ``Security`` on the way here (for a ``SecurityScopes`` parameter).
        children: the nodes it needs, directly.
        args: (parameter name, "slot" | "node" | "special", slot key / node index / special kind).
        uses_scopes: whether it (or a node it needs) depends on OAuth scopes; part of the cache key.
        max_concurrency: how many calls may run at once, or None.
        on_loop: a sync callable declared ``sync_to_thread=False``: called on the event loop, not the pool.
    """

    index: int
    call: Callable[..., Any]
    signature: CallSignature
    kind: str
    scope: str | None = None
    oauth_scopes: list[str] = field(default_factory=list)
    children: list[int] = field(default_factory=list)
    args: list[tuple[str, str, Any]] = field(default_factory=list)
    uses_scopes: bool = False
    max_concurrency: int | None = None
    on_loop: bool = False


@dataclass(eq=False)
class Graph:
    """The flattened graph: ``nodes`` in run order, the endpoint last."""

    nodes: list[Node]

    @property
    def endpoint(self) -> Node:
        return self.nodes[-1]

    @property
    def dependencies(self) -> list[Node]:
        return self.nodes[:-1]


class _Builder:
    def __init__(self, path_params: Sequence[str], overrides: Mapping[Any, Any] | None) -> None:
        self.path_params = path_params
        self.overrides = overrides or {}
        self.nodes: list[Node] = []
        self.seen: dict[tuple[Any, ...], int] = {}

    def endpoint(self, call: Callable[..., Any], route_dependencies: Sequence[Depends]) -> Graph:
        signature = read_signature(call, self.path_params)
        # Route-level dependencies run first and pass nothing in.
        for depends in route_dependencies:
            if depends.dependency is None:
                raise ImproperlyConfigured("A dependency in dependencies=[...] must name its callable")
        signature.dependencies[:0] = [DependsSpec(None, d, _scopes_of(d)) for d in route_dependencies]
        node = self._node(call, signature, None, [], None)
        self.nodes.append(node)
        node.index = len(self.nodes) - 1
        return Graph(self.nodes)

    def visit(self, spec: DependsSpec, parent_scopes: list[str], parent_scope: str | None) -> int:
        original = spec.depends.dependency
        assert original is not None
        call = self.overrides.get(original, original)
        signature = read_signature(call, self.path_params)
        own = list(spec.scopes)
        scopes = list(parent_scopes)
        for oauth_scope in own:
            if oauth_scope not in scopes:
                scopes.append(oauth_scope)
        kind = call_kind(call)
        scope: str | None = spec.depends.scope or ("request" if kind in ("gen", "asyncgen") else None)
        if parent_scope == "request" and spec.depends.scope == "function":
            raise ImproperlyConfigured(
                f'The dependency "{getattr(call, "__name__", call)}" has a scope of "request", '
                'it cannot depend on dependencies with scope "function".'
            )
        node = self._node(call, signature, scope, scopes, spec.depends.max_concurrency)
        if not spec.depends.sync_to_thread:
            node.on_loop = runs_on_loop(node, "dependency")
        node.uses_scopes = node.uses_scopes or bool(own) or "security_scopes" in signature.kinds
        key = (original, tuple(sorted(set(scopes))) if node.uses_scopes else (), scope or "")
        if spec.depends.use_cache and key in self.seen:
            return self.seen[key]
        node.index = len(self.nodes)
        self.nodes.append(node)
        if spec.depends.use_cache:
            self.seen.setdefault(key, node.index)
        return node.index

    def _node(
        self,
        call: Callable[..., Any],
        signature: CallSignature,
        scope: str | None,
        scopes: list[str],
        max_concurrency: int | None,
    ) -> Node:
        kind = call_kind(call)
        node = Node(-1, call, signature, kind, scope, scopes, max_concurrency=max_concurrency)
        parent_scope = scope if kind in ("gen", "asyncgen") else None
        for dep in signature.dependencies:
            child = self.visit(dep, scopes, parent_scope)
            node.children.append(child)
            node.uses_scopes = node.uses_scopes or self.nodes[child].uses_scopes
            if dep.name is not None:
                node.args.append((dep.name, "node", child))
        if scope == "app":
            if signature.fields or signature.body or signature.specials:
                raise ImproperlyConfigured(
                    f"The app-lifetime dependency {getattr(call, '__name__', call)!r} cannot read the request"
                )
            if any(self.nodes[c].scope != "app" for c in node.children):
                raise ImproperlyConfigured(
                    f"The app-lifetime dependency {getattr(call, '__name__', call)!r} can only depend on "
                    "other app-lifetime dependencies"
                )
        return node


_NOT_ON_LOOP = {
    "endpoint": "The streaming endpoint {!r} cannot use sync_to_thread=False: a sync generator streams from the "
    "thread pool; write it as an async generator to stream on the loop",
    "dependency": "The yield dependency {!r} cannot use sync_to_thread=False: its setup and cleanup run on the "
    "thread pool; write it as an async generator to run it on the loop",
}


def runs_on_loop(node: Node, role: str) -> bool:
    """Whether a node declared ``sync_to_thread=False`` (an endpoint, or a dependency) runs on the event loop:
    a sync callable does; an async one runs there anyway; a sync generator cannot (refused at start-up)."""
    if node.kind == "gen":
        raise ImproperlyConfigured(_NOT_ON_LOOP[role].format(getattr(node.call, "__name__", node.call)))
    return node.kind == "sync"


def _scopes_of(depends: Depends) -> tuple[str, ...]:
    scopes = getattr(depends, "scopes", None)
    return tuple(scopes or ())


def build_graph(
    endpoint: Callable[..., Any],
    route_dependencies: Sequence[Depends],
    path_params: Sequence[str],
    overrides: Mapping[Any, Any] | None = None,
) -> Graph:
    """Flatten the endpoint's dependencies (with ``overrides`` applied) into run order."""
    return _Builder(path_params, overrides).endpoint(endpoint, route_dependencies)


# -- generators --------------------------------------------------------------------------------------------------


def _next_or_raise(generator: Any) -> Any:
    try:
        return next(generator)
    except StopIteration:
        raise RuntimeError("generator didn't yield") from None


def enter_generator(generator: Any) -> Any:
    """Run a sync generator dependency up to its ``yield`` (on the calling thread) and return the value."""
    return _next_or_raise(generator)


def exit_sync_generator(generator: Any, exc: BaseException | None) -> bool:
    """Finish a sync generator: resume it after ``yield``, or throw ``exc`` in. True if it swallowed ``exc``."""
    if exc is None:
        try:
            next(generator)
        except StopIteration:
            return False
        raise RuntimeError("generator didn't stop")
    try:
        generator.throw(exc)
    except StopIteration:
        return True
    except BaseException as raised:
        if raised is exc:
            return False
        raise
    raise RuntimeError("generator didn't stop after throw()")


async def exit_async_generator(generator: Any, exc: BaseException | None) -> bool:
    """Finish an async generator dependency like ``exit_sync_generator``."""
    if exc is None:
        try:
            await generator.__anext__()
        except StopAsyncIteration:
            return False
        raise RuntimeError("generator didn't stop")
    try:
        await generator.athrow(exc)
    except StopAsyncIteration:
        return True
    except BaseException as raised:
        if raised is exc:
            return False
        raise
    raise RuntimeError("generator didn't stop after athrow()")


def _exit_sync_generators(generators: list[Any], exc: BaseException | None) -> bool:
    # ExitStack's unwinding, for several sync generators in one thread hop: last entered first, each seeing the
    # exception the previous one left (or None once one swallowed it).
    pending = exc
    for generator in reversed(generators):
        try:
            if exit_sync_generator(generator, pending):
                pending = None
        except BaseException as raised:
            pending = raised
    if pending is None:
        return exc is not None
    if pending is exc:
        return False
    raise pending


def push_sync_generators(stack: AsyncExitStack, generators: list[Any]) -> None:
    """Register the cleanup of sync generators started together: they finish together, in one thread hop."""

    async def cleanup(exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        return await run_in_threadpool(_exit_sync_generators, generators, exc)

    stack.push_async_exit(cleanup)


def push_generator(stack: AsyncExitStack, generator: Any, is_async: bool) -> None:
    """Register a started generator's cleanup on ``stack`` (sync generators finish on the thread pool)."""

    async def cleanup(exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if is_async:
            return await exit_async_generator(generator, exc)
        return await run_in_threadpool(exit_sync_generator, generator, exc)

    stack.push_async_exit(cleanup)


class ExitStacks:
    """The exit stacks of one request: ``request`` closes after the response is sent, ``function`` right after
    the endpoint returns."""

    __slots__ = ("request", "function")

    def __init__(self, request: AsyncExitStack, function: AsyncExitStack) -> None:
        self.request = request
        self.function = function

    def for_scope(self, scope: str | None) -> AsyncExitStack:
        return self.function if scope == "function" else self.request


class OverrideVariants:
    """The plan made at start-up, and plans made for ``app.dependency_overrides`` (cached per override set).

    ``build(overrides)`` makes a plan; ``current()`` is read per request and costs a length check for a route
    without dependencies, a dict truthiness check when no override is set.
    """

    __slots__ = ("build", "plan", "app", "cache")

    def __init__(self, build: Callable[[Mapping[Any, Any] | None], Any], app: Any) -> None:
        self.build = build
        self.plan = build(None)
        self.app = app
        self.cache: dict[Any, Any] = {}

    def current(self) -> Any:
        if len(self.plan.nodes) == 1:
            return self.plan  # PERF: no dependencies, nothing to override
        overrides = getattr(self.app, "dependency_overrides", None)
        if not overrides:
            return self.plan
        try:
            key: Any = frozenset(overrides.items())
        except TypeError:
            return self.build(dict(overrides))
        plan = self.cache.get(key)
        if plan is None:
            if len(self.cache) >= 64:
                self.cache.clear()
            plan = self.cache[key] = self.build(dict(overrides))
        return plan


_FALLBACK_REGISTRIES: weakref.WeakKeyDictionary[Any, AppDependencies] = weakref.WeakKeyDictionary()


def app_dependencies_of(app: Any) -> AppDependencies:
    """The app's registry of app-lifetime dependency values (``Ketch.app_dependencies``)."""
    registry = getattr(app, "app_dependencies", None)
    if isinstance(registry, AppDependencies):
        return registry
    if app is None:
        return AppDependencies()
    registry = _FALLBACK_REGISTRIES.get(app)
    if registry is None:
        registry = _FALLBACK_REGISTRIES[app] = AppDependencies()
    return registry


# -- app-lifetime dependencies ---------------------------------------------------------------------------------------


class AppDependencies:
    """The values of ``scope="app"`` dependencies: created once (at start-up, or on first use when the server
    sends no lifespan), shared by every request, WebSocket and background task, torn down at shutdown.

    Keyed by the callable actually called, so an entry in ``app.dependency_overrides`` gets a value of its own.
    """

    def __init__(self) -> None:
        self.known: dict[Any, tuple[Node, list[Node]]] = {}
        self.values: dict[Any, Any] = {}
        self.stack = AsyncExitStack()
        self._lock: asyncio.Lock | None = None

    def register(self, node: Node, nodes: list[Node]) -> None:
        """Remember an app-lifetime node found while planning (its sub-dependencies are in ``nodes``)."""
        self.known.setdefault(node.call, (node, nodes))

    async def start(self) -> None:
        """Create every registered value (called at start-up)."""
        for node, nodes in list(self.known.values()):
            await self.resolve(node, nodes)

    async def stop(self) -> None:
        """Tear every value down, last created first (called at shutdown)."""
        stack, self.stack = self.stack, AsyncExitStack()
        self.values.clear()
        await stack.aclose()

    async def get(self, call: Callable[..., Any]) -> Any:
        """The value of the app-lifetime dependency ``call`` (created now if it does not exist yet)."""
        if call in self.values:
            return self.values[call]
        found = self.known.get(call)
        if found is None:
            builder = _Builder((), None)
            index = builder.visit(DependsSpec("value", Depends(call, scope="app")), [], None)
            found = self.known[call] = (builder.nodes[index], builder.nodes)
        return await self.resolve(*found)

    async def resolve(self, node: Node, nodes: list[Node]) -> Any:
        """The node's value, creating it (and the app-lifetime values it needs) once."""
        if node.call in self.values:
            return self.values[node.call]
        kwargs: dict[str, Any] = {}
        for name, kind, key in node.args:
            if kind == "node":
                kwargs[name] = await self.resolve(nodes[key], nodes)
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if node.call not in self.values:
                self.values[node.call] = await self._create(node, kwargs)
        return self.values[node.call]

    async def _create(self, node: Node, kwargs: dict[str, Any]) -> Any:
        if node.kind == "asyncgen":
            generator = node.call(**kwargs)
            value = await generator.__anext__()
            push_generator(self.stack, generator, True)
            return value
        if node.kind == "gen":
            generator = node.call(**kwargs)
            value = await run_in_threadpool(enter_generator, generator)
            push_generator(self.stack, generator, False)
            return value
        if node.kind == "async":
            return await node.call(**kwargs)
        if node.on_loop:
            return node.call(**kwargs)
        return await run_in_threadpool(node.call, **kwargs)
