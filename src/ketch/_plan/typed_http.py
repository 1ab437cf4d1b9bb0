"""The ASGI callables of typed routes: ``TypedHTTPPlan`` for most, ``BareHTTPPlan`` for an endpoint that takes
nothing and has no dependencies.

Each serves one route and method: check the declared body size, run the route's ``EndpointPlan`` (or, bare, call
the endpoint and render), map errors to responses through the app's handlers, send.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from ketch._plan.dependencies import ExitStacks, OverrideVariants
from ketch._plan.typed_endpoint import EndpointPlan
from ketch.concurrency import run_in_threadpool
from ketch.exceptions import ClientDisconnect
from ketch.requests import Request, check_declared_length
from ketch.responses import Response
from ketch.routing.matcher import PlanContext
from ketch.types import Receive, Scope, Send

__all__ = ["BareHTTPPlan", "TypedHTTPPlan"]

_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class TypedHTTPPlan:
    """The ASGI callable for one typed route and method.

    Without dependency overrides it runs the plan made at start-up; with ``app.dependency_overrides`` set it runs
    (and caches) a plan made for those overrides. Yield dependencies get exit stacks; their cleanup runs once,
    also when the endpoint raises, and after a streamed response has ended.
    """

    __slots__ = ("variants", "fixed", "limits", "handlers", "body_limit")

    def __init__(self, variants: OverrideVariants, context: PlanContext, method: str) -> None:
        self.variants = variants
        # A plan without dependencies has nothing to override: it is the plan of every request.
        self.fixed: EndpointPlan | None = variants.plan if len(variants.plan.nodes) == 1 else None
        self.limits = context.limits
        self.handlers = context.handlers
        # Methods that carry bodies are checked against Content-Length before anything runs.
        self.body_limit = None if method in _BODYLESS_METHODS else self.limits.max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plan: EndpointPlan = self.fixed or self.variants.current()
        if plan.has_generators:
            await self._with_stacks(plan, scope, receive, send)
            return
        request = Request(scope, receive, self.limits)
        # PERF: serve (check, respond, map errors, send) is inlined: one coroutine less on every request.
        try:
            try:
                if self.body_limit is not None:
                    check_declared_length(scope, self.body_limit)
                response = await plan.respond(request, None)
            except ClientDisconnect:
                return  # nobody is listening: nothing to send, nothing to log
            except Exception as exc:
                response = await self.handlers.response_for(request, exc)
            await response(scope, receive, send)
        finally:
            # PERF: a private check, not an awaited close() on every request: only a parsed form holds files,
            # which live until the response (and its background tasks) is done.
            if request._form is not None:
                await request.close()

    async def _with_stacks(self, plan: EndpointPlan, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, self.limits)
        try:
            await self._run_with_stacks(plan, request, scope, receive, send)
        finally:
            if request._form is not None:
                await request.close()

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
                    response = await plan.run(request, ExitStacks(request_stack, function_stack))
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


class BareHTTPPlan:
    """The ASGI callable for a typed route whose endpoint takes nothing and has no dependencies (``bare``): call
    it, render its result, send. A ``Request`` is made only if an error handler needs one."""

    __slots__ = ("endpoint", "is_async", "on_loop", "render", "prepare", "finish", "limits", "handlers", "body_limit")

    def __init__(self, plan: EndpointPlan, context: PlanContext, method: str) -> None:
        self.endpoint = plan.endpoint
        self.is_async = plan.graph.endpoint.kind == "async"
        self.on_loop = plan.graph.endpoint.on_loop
        self.render = plan.renderer.render
        self.prepare = plan.renderer.prepare
        self.finish = plan.renderer.finish
        self.limits = context.limits
        self.handlers = context.handlers
        self.body_limit = None if method in _BODYLESS_METHODS else self.limits.max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if self.body_limit is not None:
                check_declared_length(scope, self.body_limit)
            if self.is_async:
                result = await self.endpoint()
                # PERF: a returned Response needs no renderer call.
                response = result if isinstance(result, Response) else self.render(result)
            elif self.on_loop:
                result = self.endpoint()
                response = result if isinstance(result, Response) else self.render(result)
            else:
                response = self.finish(await run_in_threadpool(self._call_sync), None, None)
        except ClientDisconnect:
            return
        except Exception as exc:
            await self._send_error(exc, scope, receive, send)
            return
        await response(scope, receive, send)

    def _call_sync(self) -> Any:
        return self.prepare(self.endpoint())  # on the thread pool: the endpoint, then the CPU work of rendering

    async def _send_error(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, self.limits)
        try:
            response = await self.handlers.response_for(request, exc)
            await response(scope, receive, send)
        finally:
            if request._form is not None:
                await request.close()  # a handler read a form: its files go now
