"""OTLP/HTTP trace ingest: ``POST /v1/traces`` (spec TRACING §4).

Takes an ``ExportTraceServiceRequest`` as protobuf or OTLP/JSON, optionally gzip- or
deflate-compressed, for the experiment named by the ``x-mlflow-experiment-id`` header (a missing
header is the app's request-validation 400; MLflow answers 422). The body is decoded completely
before anything is stored, so a bad body is a 400 that stores nothing; the spans of a good body
are stored in one transaction. The answer is an empty protobuf ``ExportTraceServiceResponse``,
whatever the request's format.
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header
from starlette.requests import Request
from starlette.responses import Response

from mltrail.server.deps import ContextDep
from mltrail.server.permissions import Access, PermissionDeclaration, ResourceKind
from mltrail.server.routing import rpc
from mltrail.tracing.otlp import EMPTY_RESPONSE, PROTOBUF_CONTENT_TYPE, decode_request

__all__ = ["router"]

router = APIRouter()


@rpc(
    router,
    "v1/traces",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.EDIT, "x-mlflow-experiment-id"),
    prefixes=("",),
)
async def export_traces(
    request: Request,
    context: ContextDep,
    x_mlflow_experiment_id: Annotated[str, Header()],
    x_mlflow_run_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Store the spans of one OTLP export request."""
    body = await request.body()
    spans = decode_request(body, request.headers.get("content-type"), request.headers.get("content-encoding"))
    store = context.traces

    def _store() -> None:
        store.log_spans(x_mlflow_experiment_id, spans, run_id=x_mlflow_run_id or None)

    await anyio.to_thread.run_sync(_store)
    return Response(EMPTY_RESPONSE, media_type=PROTOBUF_CONTENT_TYPE)
