"""The tracking server's ASGI app: ``create_app(settings)`` wires the store, routers and handlers.

Routers are per resource and listed in :data:`ROUTERS`; later areas (logged models, the
registry, traces) add theirs to the list. Store calls are synchronous and run in the threadpool
(plain ``def`` endpoints), so the event loop stays free.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.responses import Response

from mltrail import __version__
from mltrail._plugins import resolve_tracking_store
from mltrail.config import Settings
from mltrail.server.deps import ServerContext
from mltrail.server.errors import ServerHeadersMiddleware, install_error_handlers
from mltrail.server.permissions import collect_permissions
from mltrail.server.process import settle_heap
from mltrail.server.routers import (
    artifacts,
    experiments,
    gc,
    logged_models,
    metrics,
    misc,
    model_aliases,
    model_versions,
    otlp,
    registered_models,
    runs,
    traces,
    ui,
    ui_api,
    ui_artifacts,
)
from mltrail.server.routing import RpcRoute
from mltrail.server.settings import ServerSettings
from mltrail.tracking.store.base import TrackingStore

__all__ = ["ROUTERS", "create_app", "create_app_from_env", "tracking_settings_for"]

ROUTERS: tuple[APIRouter, ...] = (
    misc.router,
    experiments.router,
    runs.router,
    metrics.router,
    artifacts.router,
    gc.router,
    logged_models.router,
    registered_models.router,
    model_versions.router,
    model_aliases.router,
    traces.router,
    otlp.router,
    ui.router,
    ui_api.router,
    ui_artifacts.router,
)


def tracking_settings_for(settings: ServerSettings) -> Settings:
    """The library settings the server's store and repositories are built with."""
    return Settings(tracking_uri=settings.backend_store_uri, artifact_root=settings.effective_artifact_root)


def create_app(settings: ServerSettings, *, store: TrackingStore | None = None) -> FastAPI:
    """Build the server app.

    Args:
        settings: The server's options.
        store: A ready store to serve (tests); by default one is resolved from
            ``settings.backend_store_uri`` (migrating a new database on first use).

    Returns:
        The ASGI application; the store is closed when the app shuts down.
    """
    tracking_settings = tracking_settings_for(settings)
    if store is None:
        store = resolve_tracking_store(settings.backend_store_uri, tracking_settings)
    context = ServerContext(settings=settings, tracking_settings=tracking_settings, store=store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            context.close()

    app = FastAPI(
        title="mltrail",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.router.route_class = RpcRoute
    for router in ROUTERS:
        _mount(app, router)
    install_error_handlers(app)
    app.add_middleware(ServerHeadersMiddleware)
    context.permissions = collect_permissions(app.routes)
    app.state.context = context
    return app


def _mount(app: FastAPI, router: APIRouter) -> None:
    """Add a router's routes to the app itself.

    ``include_router`` would nest them behind a wrapper route; flat routes keep ``app.routes``
    a plain list of ``APIRoute`` whose permission declarations can be listed and enforced.
    """
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"Routers may only hold API routes, got {route!r}")
        app.add_api_route(
            route.path,
            route.endpoint,
            methods=sorted(route.methods or ()),
            response_class=Response,
            openapi_extra=route.openapi_extra,
            name=route.name,
        )


def create_app_from_env() -> FastAPI:
    """App factory for worker processes: options from ``MLTRAIL_SERVER_*`` variables."""
    app = create_app(ServerSettings())
    settle_heap()
    return app
