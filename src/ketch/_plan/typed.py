"""The typed planner: FastAPI-style endpoints, planned once per route and run per request.

Planning (start-up) reads the endpoint's signature and its dependencies into a flat graph, builds one pydantic
validator for every path/query/header/cookie value and one for the body, picks the response renderer, and groups
the calls into steps: consecutive sync callables share one trip to the thread pool. A request then does only what
its route needs: extract, validate (one call into pydantic-core per source group), run the dependency steps, call
the endpoint, render. A route without dependencies never touches the dependency machinery.

The typed planner is a superset of the core planner: a parameter annotated ``Request`` or ``WebSocket``, or an
unannotated one named ``request``, ``websocket`` or ``ws``, gets the connection.
"""

from __future__ import annotations

import inspect
import json
import keyword
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from typing import Any

from pydantic import BaseModel

from ketch._plan import check_declared_length
from ketch._plan.dependencies import (
    Graph,
    Node,
    build_graph,
    enter_generator,
    push_generator,
)
from ketch._plan.extract import ParamsExtractor, read_body, read_form
from ketch._plan.render import TypedRenderer, sub_response
from ketch._plan.signature import return_annotation
from ketch._plan.validate import UNSET, BodyValidator, ErrorList, FormValidator, ParamsValidator, Slot
from ketch.background import BackgroundTasks
from ketch.concurrency import run_in_threadpool
from ketch.exceptions import ClientDisconnect, ImproperlyConfigured, RequestValidationError
from ketch.params import Depends, SecurityScopes
from ketch.requests import Request
from ketch.responses import Response
from ketch.routing.convertors import compile_path
from ketch.routing.matcher import PlanContext
from ketch.routing.route import Route, WebSocketRoute
from ketch.types import ASGIApp, Receive, Scope, Send

__all__ = ["EndpointPlan", "TypedHTTPPlan", "TypedPlanner", "route_options"]

_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


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

        def build(overrides: Mapping[Any, Any] | None) -> EndpointPlan:
            graph = build_graph(route.endpoint, options["dependencies"], path_params, overrides)
            return EndpointPlan(graph, options, context, self.strict_content_type)

        return TypedHTTPPlan(build, context, method)

    def plan_websocket(self, route: WebSocketRoute, context: PlanContext) -> ASGIApp:
        from ketch._plan import CorePlanner

        return CorePlanner().plan_websocket(route, context)


# -- planning ------------------------------------------------------------------------------------------------------


def _safe_key(name: str) -> bool:
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("_")
        and not hasattr(BaseModel, name)
    )


def _should_embed(body: Sequence[Slot]) -> bool:
    if len({slot.spec.name for slot in body}) > 1:
        return True
    first = body[0].spec
    if getattr(first.marker, "embed", None):
        return True
    return first.is_form and first.model is None


class EndpointPlan:
    """What one route does per request, worked out at start-up (see the module docstring)."""

    def __init__(self, graph: Graph, options: dict[str, Any], context: PlanContext, strict_default: bool) -> None:
        self.graph = graph
        self.nodes = graph.nodes
        endpoint = graph.endpoint
        self.endpoint = endpoint.call
        self.path = context.path
        self._ctx: dict[str, Any] | None = None
        # The endpoint takes only validated values, stored under its parameter names: pass them straight in.
        self.direct = False
        strict = options.get("strict_content_type", strict_default)
        self.strict_content_type = True if strict is None else bool(strict)
        slots, body_slots = self._slots()
        multi_node = len({s.node for s in [*slots, *body_slots]}) > 1
        self.extractor = ParamsExtractor(slots, multi_node) if slots else None
        self.params = ParamsValidator(slots, multi_node) if slots else None
        self.reads_form = any(slot.spec.is_form for slot in body_slots)
        self.embed = bool(body_slots) and _should_embed(body_slots)
        self.body = BodyValidator(body_slots, self.embed) if body_slots and not self.reads_form else None
        self.form = FormValidator(body_slots) if self.reads_form else None
        self.multi_node = multi_node
        self._slot_list, self._body_list = slots, body_slots
        self._per_node: dict[int, tuple[ParamsValidator | None, BodyValidator | None, FormValidator | None]] = {}
        kinds = {kind for node in graph.nodes for kind in node.signature.kinds}
        self.wants_response = "response" in kinds
        self.wants_background = "background" in kinds
        self.has_generators = any(node.kind in ("gen", "asyncgen") for node in graph.dependencies)
        self.renderer = _renderer(endpoint.call, options, self.describe)
        self.endpoint_async = endpoint.kind == "async"
        if endpoint.kind in ("gen", "asyncgen"):
            raise ImproperlyConfigured("Streaming by yield from the endpoint is not supported yet")
        self.steps = _steps(graph)

    def _slots(self) -> tuple[list[Slot], list[Slot]]:
        specs = [(node, spec) for node in self.nodes for spec in [*node.signature.fields, *node.signature.body]]
        # One node whose parameter names are safe model field names: the values are stored under those names.
        by_name = len(self.nodes) == 1 and all(_safe_key(spec.name) for _, spec in specs)
        slots: list[Slot] = []
        body: list[Slot] = []
        for index, (node, spec) in enumerate(specs):
            key = spec.name if by_name else f"s{index}"
            node.args.append((spec.name, "slot", key))
            (body if spec.source == "body" else slots).append(Slot(key, node.index, spec))
        for node in self.nodes:
            for name, kind in node.signature.specials:
                if kind == "security_scopes":
                    node.args.append((name, "const", SecurityScopes(node.oauth_scopes)))
                else:
                    node.args.append((name, "special", kind))
        self.direct = by_name and not self.nodes[-1].signature.specials
        # FastAPI's order: node, then path, query, header, cookie (the model reports errors in field order).
        order = {"path": 0, "query": 1, "header": 2, "cookie": 3}
        slots.sort(key=lambda s: (s.node, order[s.spec.source]))
        return slots, body

    def describe(self) -> dict[str, Any]:
        """Where the endpoint is, for validation error messages (worked out on first use)."""
        if self._ctx is None:
            ctx: dict[str, Any] = {"path": self.path}
            try:
                ctx["file"] = inspect.getsourcefile(self.endpoint)
                ctx["line"] = inspect.getsourcelines(self.endpoint)[1]
                ctx["function"] = self.endpoint.__name__
            except (TypeError, OSError, AttributeError):
                pass
            self._ctx = ctx
        return self._ctx

    # -- per request -------------------------------------------------------------------------------------------

    async def run(self, request: Request, stacks: _Stacks | None) -> Response:
        values: dict[str, Any] = {}
        errors: ErrorList = []
        data: Any = None
        if self.extractor is not None:
            assert self.params is not None
            data = self.extractor.extract(request)
            values, errors = self.params.validate(data)
        params_failed = bool(errors)
        body: Any = UNSET
        raw: Any = UNSET
        body_errors: ErrorList = []
        if self.body is not None:
            kind, raw = await read_body(request, self.strict_content_type)
            if kind == "json":
                body_values, body_errors, body = self.body.validate_json(raw)
            else:
                body_values, body_errors = self.body.validate_python(raw)
                body = raw
            values = {**values, **body_values} if values else body_values
            errors += body_errors
        elif self.form is not None:
            body = await request.form()
            body_values, body_errors = self.form.validate(*await read_form(body, self._body_list))
            values = {**values, **body_values} if values else body_values
            errors += body_errors
        sub = sub_response() if self.wants_response else None
        background = BackgroundTasks() if self.wants_background else None
        specials = {"request": request, "connection": request, "response": sub, "background": background}
        results: list[Any] = [None] * len(self.nodes)
        failed = None
        if errors:
            failed = self._failed(errors)
            if self.multi_node:
                recovered = await self._recover(failed, data if params_failed else None, body if body_errors else UNSET)
                values = {**values, **recovered}
        content = await self._run_steps(values, specials, results, failed, stacks)
        if errors:
            raise RequestValidationError(self._ordered(errors), body=_exception_body(body, raw))
        return self.renderer.finish(content, sub, background)

    async def _recover(self, failed: list[bool], data: Any, body: Any) -> dict[str, Any]:
        """The values of the nodes that still run when others failed (one model cannot give partial results)."""
        values: dict[str, Any] = {}
        for node in self.graph.dependencies:
            if failed[node.index]:
                continue
            params, body_validator, form_validator = self._node_validators(node.index)
            if data is not None and params is not None:
                values.update(params.validate(data)[0])
            if body is UNSET:
                continue
            if body_validator is not None:
                values.update(body_validator.validate_python(body)[0])
            if form_validator is not None:
                slots = [slot for slot in self._body_list if slot.node == node.index]
                values.update(form_validator.validate(*await read_form(body, slots))[0])
        return values

    def _node_validators(self, index: int) -> tuple[ParamsValidator | None, BodyValidator | None, FormValidator | None]:
        found = self._per_node.get(index)
        if found is None:
            slots = [slot for slot in self._slot_list if slot.node == index]
            body = [slot for slot in self._body_list if slot.node == index]
            found = (
                ParamsValidator(slots, True) if slots else None,
                BodyValidator(body, self.embed) if body and not self.reads_form else None,
                FormValidator(body) if body and self.reads_form else None,
            )
            self._per_node[index] = found
        return found

    def _failed(self, errors: ErrorList) -> list[bool]:
        own = {node for node, _ in errors}
        failed = [False] * len(self.nodes)
        for node in self.nodes:
            failed[node.index] = node.index in own or any(failed[c] for c in node.children)
        return failed

    def _ordered(self, errors: ErrorList) -> list[dict[str, Any]]:
        if self.multi_node:
            errors = sorted(errors, key=lambda pair: pair[0])
        return [error for _, error in errors]

    async def _run_steps(
        self,
        values: dict[str, Any],
        specials: dict[str, Any],
        results: list[Any],
        failed: list[bool] | None,
        stacks: _Stacks | None,
    ) -> Any:
        content: Any = None
        endpoint = self.graph.endpoint
        for is_async, nodes in self.steps:
            if is_async:
                node = nodes[0]
                if failed is not None and (failed[node.index] or node is endpoint):
                    continue
                if node is endpoint:
                    content = await self._call_endpoint_async(node, values, specials, results)
                else:
                    results[node.index] = await self._call_async(node, values, specials, results, stacks)
                continue
            gens: list[Any] = []
            try:
                value = await run_in_threadpool(self._run_sync, nodes, values, specials, results, failed, gens)
                if nodes[-1] is endpoint:
                    content = value
            finally:
                if gens:
                    assert stacks is not None
                    for node, generator in gens:
                        push_generator(stacks.for_scope(node.scope), generator, False)
        return content

    async def _call_endpoint_async(
        self, node: Node, values: dict[str, Any], specials: dict[str, Any], results: list[Any]
    ) -> Any:
        if self.direct:
            result = await node.call(**values)
        else:
            result = await node.call(**_kwargs(node, values, specials, results))
        return self.renderer.prepare(result)

    async def _call_async(
        self, node: Node, values: dict[str, Any], specials: dict[str, Any], results: list[Any], stacks: _Stacks | None
    ) -> Any:
        kwargs = _kwargs(node, values, specials, results)
        if node.kind == "asyncgen":
            assert stacks is not None
            generator = node.call(**kwargs)
            try:
                value = await generator.__anext__()
            except StopAsyncIteration:
                raise RuntimeError("generator didn't yield") from None
            push_generator(stacks.for_scope(node.scope), generator, True)
            return value
        return await node.call(**kwargs)

    def _run_sync(
        self,
        nodes: list[Node],
        values: dict[str, Any],
        specials: dict[str, Any],
        results: list[Any],
        failed: list[bool] | None,
        gens: list[tuple[Node, Any]],
    ) -> Any:
        # Runs on the thread pool: every consecutive sync callable of the graph, in one hop.
        endpoint = self.graph.endpoint
        for node in nodes:
            if failed is not None and (failed[node.index] or node is endpoint):
                continue
            if node is endpoint:
                kwargs = values if self.direct else _kwargs(node, values, specials, results)
                return self.renderer.prepare(node.call(**kwargs))
            kwargs = _kwargs(node, values, specials, results)
            if node.kind == "gen":
                generator = node.call(**kwargs)
                results[node.index] = enter_generator(generator)
                gens.append((node, generator))
            else:
                results[node.index] = node.call(**kwargs)
        return None


def _kwargs(node: Node, values: dict[str, Any], specials: dict[str, Any], results: list[Any]) -> dict[str, Any]:
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


def _steps(graph: Graph) -> list[tuple[bool, list[Node]]]:
    """Group the nodes into steps: each async node alone, consecutive sync nodes together (one thread hop)."""
    steps: list[tuple[bool, list[Node]]] = []
    for node in graph.nodes:
        is_async = node.kind in ("async", "asyncgen")
        if not is_async and steps and not steps[-1][0]:
            steps[-1][1].append(node)
        else:
            steps.append((is_async, [node]))
    return steps


def _exception_body(body: Any, raw: Any) -> Any:
    if body is UNSET:
        if raw is UNSET:
            return None
        try:
            return json.loads(raw)
        except Exception:
            return raw
    return body


def _renderer(endpoint: Callable[..., Any], options: dict[str, Any], describe: Callable[[], Any]) -> TypedRenderer:
    if "response_model" in options:
        model = options["response_model"]
    else:
        model = return_annotation(endpoint)
        if isinstance(model, type) and issubclass(model, Response):
            model = None
    dump_options = {
        "include": options.get("response_model_include"),
        "exclude": options.get("response_model_exclude"),
        "by_alias": options.get("response_model_by_alias", True),
        "exclude_unset": options.get("response_model_exclude_unset", False),
        "exclude_defaults": options.get("response_model_exclude_defaults", False),
        "exclude_none": options.get("response_model_exclude_none", False),
    }
    explicit = "response_model" in options
    try:
        return TypedRenderer(
            options.get("status_code"), options.get("response_class"), model or None, dump_options, describe
        )
    except Exception as exc:
        if explicit:
            raise ImproperlyConfigured(f"Invalid response_model {model!r}: {exc}") from exc
        # An inferred model pydantic cannot handle (``-> Response | dict``): serialise without one.
        return TypedRenderer(options.get("status_code"), options.get("response_class"), None, dump_options, describe)


# -- the ASGI side -------------------------------------------------------------------------------------------------


class _Stacks:
    """The exit stacks of one request: ``request`` closes after the response is sent, ``function`` right after
    the endpoint returns."""

    __slots__ = ("request", "function")

    def __init__(self, request: AsyncExitStack, function: AsyncExitStack) -> None:
        self.request = request
        self.function = function

    def for_scope(self, scope: str | None) -> AsyncExitStack:
        return self.function if scope == "function" else self.request


class TypedHTTPPlan:
    """The ASGI callable for one typed route and method.

    Without dependency overrides it runs the plan made at start-up; with ``app.dependency_overrides`` set it runs
    (and caches) a plan made for those overrides. Yield dependencies get exit stacks; their cleanup runs once,
    also when the endpoint raises, and after a streamed response has ended.
    """

    __slots__ = ("build", "plan", "limits", "handlers", "body_limit", "app", "variants")

    def __init__(
        self, build: Callable[[Mapping[Any, Any] | None], EndpointPlan], context: PlanContext, method: str
    ) -> None:
        self.build = build
        self.plan = build(None)
        self.app = context.app
        self.variants: dict[Any, EndpointPlan] = {}
        self.limits = context.limits
        self.handlers = context.handlers
        # Methods that carry bodies are checked against Content-Length before anything runs.
        self.body_limit = None if method in _BODYLESS_METHODS else self.limits.max_body_size

    def _current(self) -> EndpointPlan:
        if len(self.plan.nodes) == 1:
            return self.plan  # PERF: no dependencies, nothing to override
        overrides = getattr(self.app, "dependency_overrides", None)
        if not overrides:
            return self.plan
        try:
            key: Any = frozenset(overrides.items())
        except TypeError:
            return self.build(dict(overrides))
        plan = self.variants.get(key)
        if plan is None:
            if len(self.variants) >= 64:
                self.variants.clear()
            plan = self.variants[key] = self.build(dict(overrides))
        return plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plan = self._current()
        if plan.has_generators:
            await self._with_stacks(plan, scope, receive, send)
            return
        request = Request(scope, receive, self.limits)
        try:
            if self.body_limit is not None:
                check_declared_length(scope, self.body_limit)
            response = await plan.run(request, None)
        except ClientDisconnect:
            await _close_form(plan, request)
            return  # nobody is listening: nothing to send, nothing to log
        except Exception as exc:
            response = await self.handlers.response_for(request, exc)
        if not plan.reads_form:
            await response(scope, receive, send)
            return
        try:
            await response(scope, receive, send)
        finally:
            await request.close()  # uploaded files live until the response (and its background tasks) is done

    async def _with_stacks(self, plan: EndpointPlan, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, self.limits)
        try:
            await self._run_with_stacks(plan, request, scope, receive, send)
        finally:
            await _close_form(plan, request)

    async def _run_with_stacks(
        self, plan: EndpointPlan, request: Request, scope: Scope, receive: Receive, send: Send
    ) -> None:
        started = False
        try:
            if self.body_limit is not None:
                check_declared_length(scope, self.body_limit)
            async with AsyncExitStack() as request_stack:
                response: Response | None = None
                async with AsyncExitStack() as function_stack:
                    response = await plan.run(request, _Stacks(request_stack, function_stack))
                if response is None:
                    raise RuntimeError("A dependency with yield swallowed an exception: there is no response to send")
                started = True
                await response(scope, receive, send)
        except ClientDisconnect:
            return
        except Exception as exc:
            if started:
                raise
            error_response = await self.handlers.response_for(request, exc)
            await error_response(scope, receive, send)


async def _close_form(plan: EndpointPlan, request: Request) -> None:
    if plan.reads_form:
        await request.close()
