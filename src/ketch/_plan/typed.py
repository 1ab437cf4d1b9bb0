"""The typed planner: FastAPI-style endpoints, planned once per route and run per request.

Planning (start-up) reads the endpoint's signature and its dependencies into a flat graph, builds one pydantic
validator for every path/query/header/cookie value and one for the body, picks the response renderer, and groups
the calls into steps: consecutive sync callables share one trip to the thread pool. A request then does only what
its route needs: extract, validate (one call into pydantic-core per source group), run the dependency steps, call
the endpoint, render. A route without dependencies never touches the dependency machinery.

How a request runs is chosen once per plan, at start-up, from three shapes: ``BareHTTPPlan`` when the endpoint
takes nothing and has no dependencies (call it, render, send); the flat runner when the plan needs no exit stacks,
``Response``/``BackgroundTasks`` parameters, forms, streaming, app-lifetime or rate-limited dependencies (most
plans: validate, then a precomputed list of calls); and the general ``run`` for everything else, which also
reports validation errors for the flat runner.

The typed planner is a superset of the core planner: a parameter annotated ``Request`` or ``WebSocket``, or an
unannotated one named ``request``, ``websocket`` or ``ws``, gets the connection.

This module holds the planner and ``route_options``; the per-route plan and its runners are in
``typed_endpoint.py``, the grouping of its calls into steps in ``typed_steps.py``, the ASGI callables in
``typed_http.py``. Their names are importable from here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import Any

from ketch._plan import WebSocketPlan
from ketch._plan.dependencies import ExitStacks, OverrideVariants, app_dependencies_of, build_graph, runs_on_loop
from ketch._plan.typed_endpoint import EndpointPlan
from ketch._plan.typed_http import BareHTTPPlan, TypedHTTPPlan
from ketch._plan.typed_steps import FlatCall, FlatStep
from ketch.params import Depends
from ketch.routing.convertors import compile_path
from ketch.routing.matcher import PlanContext
from ketch.routing.route import Route, WebSocketRoute
from ketch.types import ASGIApp
from ketch.websockets import WebSocket

__all__ = ["BareHTTPPlan", "EndpointPlan", "FlatCall", "FlatStep", "TypedHTTPPlan", "TypedPlanner", "route_options"]


def route_options(route: Route | WebSocketRoute, context: PlanContext) -> dict[str, Any]:
    """A route's options with the defaults of its routers and ``include_router`` calls applied.

    The innermost setting wins; ``dependencies`` add up, outermost first (app, include, router, ..., route), as
    FastAPI orders them. ``default_response_class`` is the ``response_class`` of routes that set none.
    """
    levels: list[Mapping[str, Any]] = []
    for index, router in enumerate(context.routers):
        levels.append(getattr(router, "route_defaults", {}))
        if index < len(context.includes):
            levels.append(context.includes[index])
    levels.append(route.options)
    merged: dict[str, Any] = {}
    dependencies: list[Depends] = []
    for level in levels:
        dependencies.extend(level.get("dependencies") or ())
        if "default_response_class" in level:
            merged["response_class"] = level["default_response_class"]
        merged.update({k: v for k, v in level.items() if k not in ("dependencies", "default_response_class")})
    merged["dependencies"] = dependencies
    return merged


class TypedPlanner:
    """Plans FastAPI-style endpoints: typed parameters, ``Depends``, response models.

    Args:
        strict_content_type: a JSON body needs a JSON ``Content-Type`` (FastAPI >= 0.132); False also parses a
            body sent without any ``Content-Type``. A route, router or app option of the same name overrides it.
    """

    def __init__(self, *, strict_content_type: bool = True) -> None:
        self.strict_content_type = strict_content_type

    def plan_http(self, route: Route, method: str, context: PlanContext) -> ASGIApp:
        options = route_options(route, context)
        path_params = list(compile_path(context.path)[2])
        app_dependencies = app_dependencies_of(context.app)

        def build(overrides: Mapping[Any, Any] | None) -> EndpointPlan:
            graph = build_graph(route.endpoint, options["dependencies"], path_params, overrides)
            if options.get("sync_to_thread") is False:
                graph.endpoint.on_loop = runs_on_loop(graph.endpoint, "endpoint")
            return EndpointPlan(graph, options, context, self.strict_content_type, app_dependencies)

        variants = OverrideVariants(build, context.app)
        if variants.plan.bare:
            return BareHTTPPlan(variants.plan, context, method)
        return TypedHTTPPlan(variants, context, method)

    def plan_websocket(self, route: WebSocketRoute, context: PlanContext) -> ASGIApp:
        options = route_options(route, context)
        path_params = list(compile_path(context.path)[2])
        app_dependencies = app_dependencies_of(context.app)

        def build(overrides: Mapping[Any, Any] | None) -> EndpointPlan:
            graph = build_graph(route.endpoint, options["dependencies"], path_params, overrides)
            return EndpointPlan(graph, options, context, self.strict_content_type, app_dependencies, websocket=True)

        variants = OverrideVariants(build, context.app)

        async def call(websocket: WebSocket) -> None:
            plan = variants.current()
            if not plan.has_generators:
                await plan.run_websocket(websocket, None)
                return
            async with AsyncExitStack() as request_stack, AsyncExitStack() as function_stack:
                await plan.run_websocket(websocket, ExitStacks(request_stack, function_stack))

        return WebSocketPlan(call, context, getattr(route.endpoint, "__qualname__", repr(route.endpoint)))
