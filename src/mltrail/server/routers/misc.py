"""Server endpoints: health, the emulated MLflow version and server-info."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import PlainTextResponse, Response

from mltrail import __version__
from mltrail.server.deps import ContextDep, json_response
from mltrail.server.permissions import Access, PermissionDeclaration, ResourceKind
from mltrail.server.routing import rpc
from mltrail.tracking.store.rest import RestTrackingStore
from mltrail.tracking.store.sql import SqlTrackingStore

__all__ = ["MLFLOW_PROTOCOL_VERSION", "router"]

router = APIRouter()

MLFLOW_PROTOCOL_VERSION = "3.17.2"
"""The MLflow release whose REST protocol this server implements (clients feature-detect on it)."""

_OPEN = PermissionDeclaration(ResourceKind.SERVER, Access.NONE)


@rpc(router, "health", methods=["GET"], permission=_OPEN, prefixes=("",))
async def health() -> Response:
    """Liveness: ``OK``."""
    return PlainTextResponse("OK")


@rpc(router, "version", methods=["GET"], permission=_OPEN, prefixes=("",))
async def version() -> Response:
    """The MLflow protocol version implemented, as plain text."""
    return PlainTextResponse(MLFLOW_PROTOCOL_VERSION)


@rpc(
    router,
    "server-info",
    methods=["GET"],
    permission=_OPEN,
    prefixes=("/api/3.0/mlflow", "/ajax-api/3.0/mlflow"),
)
async def server_info(context: ContextDep) -> Response:
    """How the server is set up (no secrets): store type and capability flags."""
    store_type: str | None = None
    if isinstance(context.store, SqlTrackingStore):
        store_type = "SqlStore"
    elif isinstance(context.store, RestTrackingStore):
        store_type = "RestStore"
    return json_response(
        {
            "store_type": store_type,
            "workspaces_enabled": False,
            "trace_archival_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
            "presigned_upload_run_id_supported": False,
            "presigned_upload_model_id_supported": False,
            "features_enabled": {"gateway": False},
            "mltrail_version": __version__,
        }
    )
