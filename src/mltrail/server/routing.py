"""Route registration shared by the routers: prefixes and permission declarations.

:func:`rpc` registers one endpoint under every prefix of the protocol (``/api/2.0/mlflow`` and
the UI's ``/ajax-api/2.0/mlflow``) and attaches its permission declaration, so no route can be
added without one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter
from starlette.responses import Response

from mltrail.server.permissions import PermissionDeclaration

__all__ = [
    "AJAX_TRACKING_PREFIX",
    "ARTIFACT_PREFIXES",
    "TRACKING_PREFIXES",
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
