"""The dependency graph of an endpoint, flattened at start-up into the order its nodes run in.

``build_graph`` walks ``Depends`` markers depth first (route-level ``dependencies=`` first, then the endpoint's
parameters) and lists every callable once per cache key, sub-dependencies before the callables that need them,
the endpoint last: the order FastAPI calls them in. Each node records how its arguments are found (a validated
value, another node's result, or a connection object), whether it is sync (thread pool), async or a generator
(cleanup after ``yield`` on an exit stack), and which nodes it needs, so a request only walks a list.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from ketch._plan.signature import CallSignature, DependsSpec, read_signature
from ketch.concurrency import run_in_threadpool
from ketch.exceptions import ImproperlyConfigured
from ketch.params import Depends

__all__ = [
    "Graph",
    "Node",
    "build_graph",
    "call_kind",
    "enter_generator",
    "exit_async_generator",
    "exit_sync_generator",
    "push_generator",
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

    def _visit(self, spec: DependsSpec, parent_scopes: list[str], parent_scope: str | None) -> int:
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
            child = self._visit(dep, scopes, parent_scope)
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


def push_generator(stack: AsyncExitStack, generator: Any, is_async: bool) -> None:
    """Register a started generator's cleanup on ``stack`` (sync generators finish on the thread pool)."""

    async def cleanup(exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if is_async:
            return await exit_async_generator(generator, exc)
        return await run_in_threadpool(exit_sync_generator, generator, exc)

    stack.push_async_exit(cleanup)
