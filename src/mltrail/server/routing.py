"""Route registration shared by the routers: prefixes and permission declarations.

:func:`rpc` registers one endpoint under every prefix of the protocol (``/api/2.0/mlflow`` and
the UI's ``/ajax-api/2.0/mlflow``) and attaches its permission declaration, so no route can be
added without one.

:class:`RpcRoute` is the app's route class. For endpoints whose only parameters are a parsed
request message, the store and the server context (every RPC of the tracking API), it calls the
endpoint directly instead of going through FastAPI's general dependency solver, and runs plain
``def`` endpoints on a dedicated thread pool; that framework work was most of the server's time
per small request. Any other endpoint is handled by FastAPI as usual.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from mltrail.server.deps import get_context, get_store, request_message_of
from mltrail.server.parsing import Message, parse_request
from mltrail.server.permissions import PermissionDeclaration

__all__ = [
    "AJAX_TRACKING_PREFIX",
    "ARTIFACT_PREFIXES",
    "TRACKING_PREFIXES",
    "RpcRoute",
    "rpc",
]

TRACKING_PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
AJAX_TRACKING_PREFIX = ("/ajax-api/2.0/mlflow",)
ARTIFACT_PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")

F = TypeVar("F", bound=Callable[..., Any])


def rpc(
    router: APIRouter,
    path: str,
    *,
    methods: Sequence[str],
    permission: PermissionDeclaration,
    prefixes: Sequence[str] = TRACKING_PREFIXES,
) -> Callable[[F], F]:
    """Decorator registering an endpoint at ``<prefix>/<path>`` for each prefix.

    Args:
        router: The resource's router.
        path: The path below the prefix (``experiments/create``); ``""`` for the prefix itself.
        methods: HTTP methods served.
        permission: What the route needs; attached as route data.
        prefixes: The prefixes to serve under.
    """

    def decorator(endpoint: F) -> F:
        for prefix in prefixes:
            full = f"{prefix}/{path}" if path else prefix
            router.add_api_route(
                full,
                endpoint,
                methods=list(methods),
                response_class=Response,
                openapi_extra=permission.to_openapi(),
                name=f"{endpoint.__name__}:{prefix}",
            )
        return endpoint

    return decorator


# Same size as the default pool of the threads FastAPI runs plain ``def`` endpoints on.
_POOL_SIZE = 40
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _endpoint_pool() -> ThreadPoolExecutor:
    """The threads plain ``def`` endpoints run on (started on first use, not at import)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_POOL_SIZE, thread_name_prefix="mltrail-rpc")
        return _pool


# How one endpoint argument is produced: from the request message, the store or the context.
_Argument = tuple[str, str, Message | None]


def _direct_arguments(route: APIRoute) -> list[_Argument] | None:
    """The endpoint's arguments when all are ones :class:`RpcRoute` provides itself, else None."""
    dependant = route.dependant
    if (
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.request_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    ):
        return None
    arguments: list[_Argument] = []
    for sub in dependant.dependencies:
        if sub.name is None or sub.call is None:
            return None
        if sub.call is get_store:
            arguments.append((sub.name, "store", None))
        elif sub.call is get_context:
            arguments.append((sub.name, "context", None))
        elif (message := request_message_of(sub.call)) is not None:
            arguments.append((sub.name, "message", message))
        else:
            return None
    return arguments


class RpcRoute(APIRoute):
    """An API route that calls plain RPC endpoints directly (see the module docstring).

    Errors raised by the endpoint or the request parsing reach the app's exception handlers
    exactly as with FastAPI's own handler.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # The app tries its routes in turn; a path without parameters can only match itself, so
        # the common case (another route's path) is settled without the regex and scope copying.
        if (
            scope["type"] == "http"
            and not self.param_convertors
            and not scope.get("root_path")
            and scope["path"] != self.path
        ):
            return Match.NONE, {}
        return super().matches(scope)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        arguments = _direct_arguments(self)
        if arguments is None:
            return super().get_route_handler()
        endpoint = self.endpoint
        is_async = inspect.iscoroutinefunction(endpoint)

        async def handler(request: Request) -> Response:
            context = await get_context(request)
            kwargs: dict[str, Any] = {}
            for name, kind, message in arguments:
                if message is not None:
                    kwargs[name] = await parse_request(request, message)
                elif kind == "store":
                    kwargs[name] = context.store
                else:
                    kwargs[name] = context
            if is_async:
                response: Response = await endpoint(**kwargs)
                return response
            call = functools.partial(contextvars.copy_context().run, endpoint, **kwargs)
            response = await asyncio.get_running_loop().run_in_executor(_endpoint_pool(), call)
            return response

        return handler
