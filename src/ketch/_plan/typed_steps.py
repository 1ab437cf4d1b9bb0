"""The calls of a typed plan, grouped at start-up into the steps a request runs.

``group_steps`` groups the dependency graph's nodes for the general runner: consecutive sync callables share one
trip to the thread pool, every other node runs alone. The flat runner gets the same steps as ``FlatStep`` lists,
each call with its arguments resolved to keys in one dict of values (``flat_arguments``); the general runner
gathers a node's arguments with ``node_kwargs``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ketch._plan.dependencies import Graph, Node

__all__ = ["REQUEST_KEY", "FlatCall", "FlatStep", "flat_arguments", "group_steps", "node_kwargs"]

# The key of the connection among the flat runner's values (slot keys are strings, node results are ints).
REQUEST_KEY: Any = object()


class FlatCall(NamedTuple):
    """One callable of a flat plan: its arguments as (parameter name, key in the values), None for "the values
    themselves", and the node index its result is stored under."""

    call: Callable[..., Any]
    arguments: tuple[tuple[str, Any], ...] | None
    node: int


class FlatStep(NamedTuple):
    """Calls run together: consecutive sync callables (one thread hop), or one callable on the event loop
    (awaited, unless it is a sync one declared ``sync_to_thread=False``); ``renders`` when the step ends with the
    endpoint, whose result becomes the response."""

    sync: bool
    calls: list[FlatCall]
    renders: bool
    awaits: bool = True


def flat_arguments(node: Node, constants: dict[Any, Any]) -> tuple[tuple[str, Any], ...] | None:
    """(parameter name, key of its value in the flat runner's values) for each argument of ``node``; None if one
    is a connection object other than the request. Constant arguments go into ``constants`` under their key."""
    arguments: list[tuple[str, Any]] = []
    for name, kind, key in node.args:
        if kind == "special":
            if key not in ("request", "connection"):
                return None
            key = REQUEST_KEY
        elif kind == "const":
            constants[(node.index, name)] = key
            key = (node.index, name)
        arguments.append((name, key))  # "slot": the validated value's key; "node": the node's index
    return tuple(arguments)


def node_kwargs(node: Node, values: dict[str, Any], specials: dict[str, Any], results: list[Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for name, kind, key in node.args:
        if kind == "slot":
            kwargs[name] = values[key]
        elif kind == "node":
            kwargs[name] = results[key]
        elif kind == "special":
            kwargs[name] = specials.get(key)
        else:
            kwargs[name] = key
    return kwargs


def group_steps(graph: Graph) -> list[tuple[str, list[Node]]]:
    """Group the nodes into steps: consecutive sync callables together ("sync": one thread hop), every other
    node alone: "async" (on the loop: awaited, or called when ``on_loop``), "app" (an app-lifetime value),
    "limited" (behind a semaphore)."""
    steps: list[tuple[str, list[Node]]] = []
    for node in graph.nodes:
        if node is graph.endpoint and node.kind in ("gen", "asyncgen"):
            mode = "stream"
        elif node.scope == "app":
            mode = "app"
        elif node.max_concurrency is not None:
            mode = "limited"
        elif node.kind in ("async", "asyncgen") or node.on_loop:
            mode = "async"
        else:
            mode = "sync"
        if mode == "sync" and steps and steps[-1][0] == "sync":
            steps[-1][1].append(node)
        else:
            steps.append((mode, [node]))
    return steps
