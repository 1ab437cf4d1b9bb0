"""``EndpointPlan``: what one typed route does per request, worked out at start-up.

The plan holds the route's validators, renderer and steps, and the two runners that use them: the flat runner
(``_run_flat``) for plans that need none of the general machinery, and the general ``run`` for everything else
(also for WebSocket endpoints, through ``run_websocket``). Which one serves a request is chosen once, in
``respond``; ``ketch._plan.typed`` describes the shapes.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import keyword
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel

from ketch._plan.dependencies import (
    AppDependencies,
    ExitStacks,
    Graph,
    Node,
    enter_generator,
    push_generator,
    push_sync_generators,
)
from ketch._plan.extract import ParamsExtractor, read_body, read_form
from ketch._plan.render import StreamRenderer, TypedRenderer, sub_response
from ketch._plan.signature import return_annotation
from ketch._plan.typed_steps import REQUEST_KEY, FlatCall, FlatStep, flat_arguments, group_steps, node_kwargs
from ketch._plan.validate import UNSET, BodyValidator, ErrorList, FormValidator, ParamsValidator, Slot
from ketch.background import BackgroundTasks
from ketch.concurrency import run_in_threadpool
from ketch.encoders import jsonable_encoder
from ketch.exceptions import ImproperlyConfigured, RequestValidationError, WebSocketRequestValidationError
from ketch.params import SecurityScopes
from ketch.requests import Request
from ketch.responses import Response
from ketch.routing.matcher import PlanContext
from ketch.websockets import WebSocket

__all__ = ["EndpointPlan"]


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
    """What one route does per request, worked out at start-up (see ``ketch._plan.typed``)."""

    def __init__(
        self,
        graph: Graph,
        options: dict[str, Any],
        context: PlanContext,
        strict_default: bool,
        app_dependencies: AppDependencies,
        websocket: bool = False,
    ) -> None:
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
        self.sub_class = next((n.signature.response_type for n in graph.nodes if n.signature.response_type), Response)
        self.wants_background = "background" in kinds
        self.has_generators = any(
            node.kind in ("gen", "asyncgen") and node.scope != "app" for node in graph.dependencies
        )
        self.app_dependencies = app_dependencies
        for node in graph.dependencies:
            if node.scope == "app":
                app_dependencies.register(node, graph.nodes)
        self._semaphores: dict[int, asyncio.Semaphore] = {}
        if websocket and body_slots:
            raise ImproperlyConfigured(f"The WebSocket endpoint for {context.path!r} cannot read a request body")
        self.streams = not websocket and endpoint.kind in ("gen", "asyncgen")
        self.renderer = _renderer(endpoint.call, options, self.describe, self.streams)
        # What the endpoint's return value becomes: a response's content, or nothing for a WebSocket.
        self.prepare: Callable[[Any], Any] = _ignore if websocket else self.renderer.prepare
        self.stream_renderer = (
            StreamRenderer(
                options.get("response_class"),
                options.get("status_code"),
                return_annotation(endpoint.call),
                _dump_options(options),
                self.describe,
            )
            if self.streams
            else None
        )
        self.steps = group_steps(graph)
        # The per-request path, chosen once: the flat steps when the plan has them, else the general ``run``.
        self.constants: dict[Any, Any] = {}
        self.uses_request = False
        self.flat_steps = None if websocket else self._flat_steps()
        self.respond: Callable[[Request, ExitStacks | None], Awaitable[Response]] = (
            self.run if self.flat_steps is None else self._run_flat
        )
        # Nothing to extract, validate, resolve or pass in: the endpoint is called as it is (see BareHTTPPlan).
        self.bare = len(self.nodes) == 1 and not endpoint.args and not self.streams and not websocket

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

    def _request_context(self, connection: Request | WebSocket, method: str) -> dict[str, Any]:
        """``describe()`` with the path as FastAPI reports it in errors: ``"GET /items/{id}"``."""
        mount = connection.scope.get("root_path", "").rstrip("/")
        return {**self.describe(), "path": f"{method} {mount}{self.path}"}

    def _flat_steps(self) -> list[FlatStep] | None:
        """The plan as a flat list of calls, if it needs none of the general machinery: no generators (exit
        stacks), app-lifetime or rate-limited dependencies, ``Response``/``BackgroundTasks`` parameters, forms or
        streaming. Consecutive sync callables share one step (one thread hop), every async one has its own. Sets the
        runner's ``constants`` (``SecurityScopes`` arguments) and whether it passes the request."""
        if self.streams or self.wants_response or self.wants_background or self.reads_form:
            return None
        if any(node.kind in ("gen", "asyncgen") or node.scope == "app" or node.max_concurrency for node in self.nodes):
            return None
        endpoint = self.graph.endpoint
        steps: list[FlatStep] = []
        constants: dict[Any, Any] = {}
        for mode, nodes in self.steps:
            calls: list[FlatCall] = []
            for node in nodes:
                direct = node is endpoint and self.direct
                arguments = None if direct else flat_arguments(node, constants)
                if arguments is None and not direct:
                    return None
                calls.append(FlatCall(node.call, arguments, node.index))
            awaits = not (mode == "async" and nodes[0].on_loop)
            steps.append(FlatStep(mode == "sync", calls, nodes[-1] is endpoint, awaits))
        self.constants = constants
        self.uses_request = any(
            key is REQUEST_KEY for step in steps for call in step.calls for _, key in call.arguments or ()
        )
        return steps

    # -- per request -------------------------------------------------------------------------------------------

    async def _run_flat(self, request: Request, stacks: ExitStacks | None) -> Response:
        """``run`` for a plan with flat steps (most plans): validate, call each step, render.

        Nothing runs before every value is valid, so on an error this hands over to ``run``, which reports it (and
        runs the dependencies that do not need the invalid values, as FastAPI does).
        """
        values: dict[Any, Any] = {}
        errors: ErrorList
        if self.extractor is not None:
            assert self.params is not None
            values, errors = self.params.validate(self.extractor.extract(request))
            if errors:
                return await self.run(request, stacks)
        if self.body is not None:
            kind, raw = await read_body(request, self.strict_content_type)
            if kind == "json":
                body_values, errors, _ = self.body.validate_json(raw)
            else:
                body_values, errors = self.body.validate_python(raw)
            if errors:
                return await self.run(request, stacks)
            values = {**values, **body_values} if values else body_values
        if self.uses_request:
            values[REQUEST_KEY] = request
        if self.constants:
            values.update(self.constants)
        response: Any = None
        for is_sync, calls, renders, awaits in self.flat_steps:  # type: ignore[union-attr]  # set when this runs
            if is_sync:
                content = await run_in_threadpool(self._call_sync, calls, values, renders)
                if renders:
                    response = self.renderer.finish(content, None, None)
                continue
            call, arguments, index = calls[0]
            # PERF: the arguments are gathered inline (no helper call per node); None: the values are the arguments.
            kwargs = values
            if arguments is not None:
                kwargs = {}
                for name, key in arguments:
                    kwargs[name] = values[key]
            result = call(**kwargs)
            if awaits:
                result = await result
            if renders:
                response = self.renderer.render(result)
            else:
                values[index] = result
        return response  # type: ignore[no-any-return]

    def _call_sync(self, calls: list[FlatCall], values: dict[Any, Any], renders: bool) -> Any:
        # Runs on the thread pool: consecutive sync callables in one hop; the endpoint's result is prepared here
        # (validated, encoded), its response made on the event loop.
        result: Any = None
        for call, arguments, index in calls:
            kwargs = values
            if arguments is not None:
                kwargs = {}
                for name, key in arguments:
                    kwargs[name] = values[key]
            result = call(**kwargs)
            values[index] = result
        return self.renderer.prepare(result) if renders else None

    async def run(self, request: Request, stacks: ExitStacks | None) -> Response:
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
        sub = sub_response(self.sub_class) if self.wants_response else None
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
            ctx = self._request_context(request, request.method)
            raise RequestValidationError(self._ordered(errors), body=_exception_body(body, raw), endpoint_ctx=ctx)
        if self.stream_renderer is not None:
            return self.stream_renderer.response(content, sub, background)
        return self.renderer.finish(content, sub, background)

    async def run_websocket(self, websocket: WebSocket, stacks: ExitStacks | None) -> None:
        """Validate the WebSocket's parameters, run the dependencies, call the endpoint (with the connection)."""
        values: dict[str, Any] = {}
        errors: ErrorList = []
        data: Any = None
        if self.extractor is not None:
            assert self.params is not None
            data = self.extractor.extract(websocket)
            values, errors = self.params.validate(data)
        specials = {"websocket": websocket, "connection": websocket}
        results: list[Any] = [None] * len(self.nodes)
        failed = None
        if errors:
            failed = self._failed(errors)
            if self.multi_node:
                values = {**values, **await self._recover(failed, data, UNSET)}
        await self._run_steps(values, specials, results, failed, stacks)
        if errors:
            detail = jsonable_encoder(self._ordered(errors))
            raise WebSocketRequestValidationError(detail, endpoint_ctx=self._request_context(websocket, "WS"))

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
        stacks: ExitStacks | None,
    ) -> Any:
        content: Any = None
        endpoint = self.graph.endpoint
        for mode, nodes in self.steps:
            if mode == "sync":
                gens: list[Any] = []
                try:
                    value = await run_in_threadpool(self._run_sync, nodes, values, specials, results, failed, gens)
                    if nodes[-1] is endpoint:
                        content = value
                finally:
                    if gens:
                        assert stacks is not None
                        for scope in ("request", "function"):
                            started = [generator for node, generator in gens if (node.scope or "request") == scope]
                            if started:
                                push_sync_generators(stacks.for_scope(scope), started)
                continue
            node = nodes[0]
            if failed is not None and (failed[node.index] or node is endpoint):
                continue
            if mode == "stream":
                # Calling a generator function only creates the generator: no thread needed, it runs as it streams.
                content = node.call(**(values if self.direct else node_kwargs(node, values, specials, results)))
            elif node is endpoint:
                content = await self._call_endpoint_async(node, values, specials, results)
            elif mode == "app":
                results[node.index] = await self.app_dependencies.resolve(node, self.nodes)
            elif mode == "limited":
                async with self._semaphore(node):
                    results[node.index] = await self._call_async(node, values, specials, results, stacks)
            else:
                results[node.index] = await self._call_async(node, values, specials, results, stacks)
        return content

    def _semaphore(self, node: Node) -> asyncio.Semaphore:
        semaphore = self._semaphores.get(node.index)
        if semaphore is None:
            assert node.max_concurrency is not None
            semaphore = self._semaphores[node.index] = asyncio.Semaphore(node.max_concurrency)
        return semaphore

    async def _call_endpoint_async(
        self, node: Node, values: dict[str, Any], specials: dict[str, Any], results: list[Any]
    ) -> Any:
        result = node.call(**(values if self.direct else node_kwargs(node, values, specials, results)))
        if not node.on_loop:
            result = await result
        return self.prepare(result)

    async def _call_async(
        self,
        node: Node,
        values: dict[str, Any],
        specials: dict[str, Any],
        results: list[Any],
        stacks: ExitStacks | None,
    ) -> Any:
        kwargs = node_kwargs(node, values, specials, results)
        if node.kind == "asyncgen":
            assert stacks is not None
            generator = node.call(**kwargs)
            try:
                value = await generator.__anext__()
            except StopAsyncIteration:
                raise RuntimeError("generator didn't yield") from None
            push_generator(stacks.for_scope(node.scope), generator, True)
            return value
        if node.kind == "async":
            return await node.call(**kwargs)
        if node.on_loop:
            return node.call(**kwargs)
        # A sync callable that runs alone (it has a concurrency limit).
        if node.kind == "gen":
            assert stacks is not None
            generator = node.call(**kwargs)
            value = await run_in_threadpool(enter_generator, generator)
            push_generator(stacks.for_scope(node.scope), generator, False)
            return value
        return await run_in_threadpool(node.call, **kwargs)

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
                kwargs = values if self.direct else node_kwargs(node, values, specials, results)
                return self.prepare(node.call(**kwargs))
            kwargs = node_kwargs(node, values, specials, results)
            if node.kind == "gen":
                generator = node.call(**kwargs)
                results[node.index] = enter_generator(generator)
                gens.append((node, generator))
            else:
                results[node.index] = node.call(**kwargs)
        return None


def _exception_body(body: Any, raw: Any) -> Any:
    if body is UNSET:
        if raw is UNSET:
            return None
        try:
            return json.loads(raw)
        except Exception:
            return raw
    return body


def _dump_options(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "include": options.get("response_model_include"),
        "exclude": options.get("response_model_exclude"),
        "by_alias": options.get("response_model_by_alias", True),
        "exclude_unset": options.get("response_model_exclude_unset", False),
        "exclude_defaults": options.get("response_model_exclude_defaults", False),
        "exclude_none": options.get("response_model_exclude_none", False),
    }


def _renderer(
    endpoint: Callable[..., Any], options: dict[str, Any], describe: Callable[[], Any], streams: bool
) -> TypedRenderer:
    if "response_model" in options:
        model = options["response_model"]
    elif streams:
        model = None  # a generator's annotation names its items (see StreamRenderer)
    else:
        model = return_annotation(endpoint)
        if isinstance(model, type) and issubclass(model, Response):
            model = None
    status_code, response_class = options.get("status_code"), options.get("response_class")
    try:
        return TypedRenderer(status_code, response_class, model or None, _dump_options(options), describe)
    except Exception as exc:
        if "response_model" in options:
            raise ImproperlyConfigured(f"Invalid response_model {model!r}: {exc}") from exc
        # An inferred model pydantic cannot handle (``-> Response | dict``): serialise without one.
        return TypedRenderer(status_code, response_class, None, _dump_options(options), describe)


def _ignore(result: Any) -> None:
    return None
