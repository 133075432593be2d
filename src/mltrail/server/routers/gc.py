"""mltrail's garbage-collection RPCs (an extension; MLflow's protocol has no equivalent).

``GET /api/2.0/mltrail/runs/deleted`` lists soft-deleted runs (optionally only those deleted
more than ``older_than_ms`` ago) and ``POST /api/2.0/mltrail/runs/purge`` permanently removes one,
so ``mltrail gc`` and :class:`~mltrail.tracking.store.rest.RestTrackingStore` work against a
server as against a database. Both need ``manage`` access.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from mltrail.server.deps import StoreDep, json_response, request_fields
from mltrail.server.parsing import Message
from mltrail.server.permissions import Access, PermissionDeclaration, ResourceKind
from mltrail.server.routers._messages import int64, string
from mltrail.server.routing import rpc

__all__ = ["MLTRAIL_PREFIXES", "router"]

router = APIRouter()

MLTRAIL_PREFIXES = ("/api/2.0/mltrail",)

LIST_DELETED = Message("ListDeletedRuns", (int64("older_than_ms"),))
PURGE = Message("PurgeRun", (string("run_id", required=True),))


@rpc(
    router,
    "runs/deleted",
    methods=["GET"],
    permission=PermissionDeclaration(ResourceKind.SERVER, Access.MANAGE),
    prefixes=MLTRAIL_PREFIXES,
)
def list_deleted_runs(
    req: Annotated[dict[str, Any], Depends(request_fields(LIST_DELETED))], store: StoreDep
) -> Response:
    """``{"run_ids"}`` of soft-deleted runs (omitted when there are none)."""
    run_ids = store.list_deleted_runs(req.get("older_than_ms"))
    return json_response({"run_ids": run_ids} if run_ids else {})


@rpc(
    router,
    "runs/purge",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.RUN, Access.MANAGE, "run_id"),
    prefixes=MLTRAIL_PREFIXES,
)
def purge_run(req: Annotated[dict[str, Any], Depends(request_fields(PURGE))], store: StoreDep) -> Response:
    """Permanently remove a soft-deleted run's records (not its artifacts) → ``{}``."""
    store.purge_run(req["run_id"])
    return json_response()
