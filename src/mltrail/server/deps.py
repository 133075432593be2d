"""Request-scoped dependencies of the routers: the server context, parsed requests, responses.

The :class:`ServerContext` is built once by ``create_app`` and lives on ``app.state``; routers
reach the store and the artifact destination through it rather than through globals.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends
from starlette.requests import Request
from starlette.responses import Response

from mltrail._plugins import resolve_artifact_repository, resolve_registry_store, resolve_trace_store
from mltrail.artifacts.base import ArtifactRepository
from mltrail.artifacts.paths import canonical_relpath, uri_scheme
from mltrail.config import Settings
from mltrail.errors import BackendError
from mltrail.registry.store.base import RegistryStore
from mltrail.server.parsing import Message, parse_request
from mltrail.server.permissions import PermissionRegistry
from mltrail.server.settings import ServerSettings
from mltrail.tracing.store.base import TraceStore
from mltrail.tracking.store.base import TrackingStore
from mltrail.tracking.wire import dumps

__all__ = [
    "EMPTY",
    "ContextDep",
    "ServerContext",
    "StoreDep",
    "get_context",
    "get_store",
    "json_response",
    "request_fields",
    "request_message_of",
]

_PROXY_MARKER = "/api/2.0/mlflow-artifacts/artifacts"


@dataclass
class ServerContext:
    """Everything the routers share: settings, the tracking store, the artifact destination.

    Args:
        settings: The server's options.
        tracking_settings: The library settings stores and repositories are built with.
        store: The tracking store.
    """

    settings: ServerSettings
    tracking_settings: Settings
    store: TrackingStore
    permissions: PermissionRegistry = field(default_factory=lambda: PermissionRegistry({}))
    registry_store: RegistryStore | None = None
    trace_store: TraceStore | None = None
    _destination: ArtifactRepository | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def destination(self) -> ArtifactRepository:
        """The repository behind the artifact proxy (built on first use)."""
        with self._lock:
            if self._destination is None:
                self._destination = resolve_artifact_repository(
                    self.settings.artifacts_destination, settings=self.tracking_settings
                )
            return self._destination

    def proxied_path(self, artifact_uri: str) -> str | None:
        """The destination-relative path of a proxied root, or None for a direct root.

        ``mlflow-artifacts:/p``, ``mlflow-artifacts://host/p`` and
        ``http(s)://.../api/2.0/mlflow-artifacts/artifacts/p`` all map to ``p``.
        """
        scheme = uri_scheme(artifact_uri)
        parts = urlsplit(artifact_uri)
        if scheme == "mlflow-artifacts":
            return canonical_relpath(parts.path.lstrip("/"))
        if scheme in ("http", "https") and _PROXY_MARKER in parts.path:
            tail = parts.path.split(_PROXY_MARKER, 1)[1]
            return canonical_relpath(tail.lstrip("/"))
        return None

    @property
    def registry(self) -> RegistryStore:
        """The registry store (resolved from the backend store URI on first use)."""
        with self._lock:
            if self.registry_store is None:
                self.registry_store = resolve_registry_store(
                    self.settings.backend_store_uri, self.tracking_settings
                )
            return self.registry_store

    @property
    def traces(self) -> TraceStore:
        """The trace store (resolved from the backend store URI on first use)."""
        with self._lock:
            if self.trace_store is None:
                uri = self.settings.backend_store_uri
                self.trace_store = resolve_trace_store(uri, self.tracking_settings)
            return self.trace_store

    def close(self) -> None:
        """Release the stores' resources."""
        self.store.close()
        if self.registry_store is not None:
            self.registry_store.close()
        if self.trace_store is not None:
            self.trace_store.close()


async def get_context(request: Request) -> ServerContext:
    """The app's :class:`ServerContext`."""
    context = getattr(request.app.state, "context", None)
    if not isinstance(context, ServerContext):
        raise BackendError("The server is not initialised.")
    return context


async def get_store(request: Request) -> TrackingStore:
    """The app's tracking store."""
    return (await get_context(request)).store


ContextDep = Annotated[ServerContext, Depends(get_context)]
StoreDep = Annotated[TrackingStore, Depends(get_store)]


_REQUEST_MESSAGES: dict[Callable[..., Any], Message] = {}


def request_fields(message: Message) -> Callable[[Request], Awaitable[dict[str, Any]]]:
    """A dependency that parses the request as ``message`` (see :mod:`mltrail.server.parsing`)."""

    async def dependency(request: Request) -> dict[str, Any]:
        return await parse_request(request, message)

    dependency.__name__ = f"parse_{message.name}"
    _REQUEST_MESSAGES[dependency] = message
    return dependency


def request_message_of(dependency: Callable[..., Any]) -> Message | None:
    """The message a :func:`request_fields` dependency parses, or None for any other callable."""
    return _REQUEST_MESSAGES.get(dependency)


EMPTY: Mapping[str, Any] = {}


def json_response(body: Mapping[str, Any] = EMPTY, status_code: int = 200) -> Response:
    """A JSON response encoded with the fast encoder."""
    return Response(dumps(body), status_code=status_code, media_type="application/json")
