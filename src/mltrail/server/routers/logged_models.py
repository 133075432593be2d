"""Logged-model RPCs (spec REST-TRACKING §3): create, get, finalize, delete, tags, params, search.

Also lists a model's artifacts (``artifacts/directories``, same rules as ``artifacts/list`` for
runs) and, for the UI only, streams one of its files (``artifacts/files``). PATCH and DELETE
read their JSON body; finalize and log-params need ``model_id`` in the body as well as in the
path, as MLflow does, while the path decides which model is touched.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends
from starlette.responses import Response, StreamingResponse

from mltrail.artifacts.paths import canonical_relpath
from mltrail.errors import BadRequestError
from mltrail.server.artifact_files import (
    download_headers,
    file_location,
    open_file,
    stream_chunks,
)
from mltrail.server.deps import ContextDep, StoreDep, json_response, request_fields
from mltrail.server.parsing import Field, Kind, Message
from mltrail.server.permissions import Access, PermissionDeclaration, ResourceKind
from mltrail.server.routers._messages import KEY_VALUE, int32, repeated_string, string
from mltrail.server.routers.artifacts import list_run_artifacts
from mltrail.server.routing import AJAX_TRACKING_PREFIX, rpc
from mltrail.tracking.logged_models import LoggedModelParameter, LoggedModelStatus, LoggedModelTag
from mltrail.tracking.wire import logged_model_to_dict

__all__ = ["router"]

router = APIRouter()

Fields = dict[str, Any]

STATUS_VALUES = {s.value: s.number for s in LoggedModelStatus}
_KEY_VALUES = Field("params", Kind.MESSAGE, repeated=True, message=KEY_VALUE)
_TAGS = Field("tags", Kind.MESSAGE, repeated=True, message=KEY_VALUE)

CREATE = Message(
    "CreateLoggedModel",
    (
        string("experiment_id", required=True),
        string("name"),
        string("model_type"),
        string("source_run_id"),
        _KEY_VALUES,
        _TAGS,
    ),
)
GET = Message("GetLoggedModel", (string("model_id"), Field("allow_deleted", Kind.BOOL)))
FINALIZE = Message(
    "FinalizeLoggedModel",
    (
        string("model_id", required=True),
        Field("status", Kind.ENUM, required=True, enum_values=STATUS_VALUES),
    ),
)
DELETE = Message("DeleteLoggedModel", (string("model_id"),))
SET_TAGS = Message("SetLoggedModelTags", (string("model_id"), _TAGS))
DELETE_TAG = Message("DeleteLoggedModelTag", (string("model_id"), string("tag_key")))
LOG_PARAMS = Message("LogLoggedModelParamsRequest", (string("model_id", required=True), _KEY_VALUES))
DATASET_FILTER = Message("DatasetFilter", (string("dataset_name", required=True), string("dataset_digest")))
ORDER_BY = Message(
    "OrderBy",
    (
        string("field_name", required=True),
        Field("ascending", Kind.BOOL),
        string("dataset_name"),
        string("dataset_digest"),
    ),
)
SEARCH = Message(
    "SearchLoggedModels",
    (
        repeated_string("experiment_ids", required=True),
        string("filter"),
        Field("datasets", Kind.MESSAGE, repeated=True, message=DATASET_FILTER),
        int32("max_results"),
        Field("order_by", Kind.MESSAGE, repeated=True, message=ORDER_BY),
        string("page_token"),
    ),
)
LIST_ARTIFACTS = Message(
    "ListLoggedModelArtifacts", (string("artifact_directory_path"), string("page_token"))
)
GET_FILE = Message("GetLoggedModelArtifact", (string("artifact_file_path"),))


def _perm(access: Access) -> PermissionDeclaration:
    return PermissionDeclaration(ResourceKind.LOGGED_MODEL, access, "model_id")


def _model_body(model: Any) -> Response:
    return json_response({"model": logged_model_to_dict(model)})


@rpc(
    router,
    "logged-models/search",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.READ, "experiment_ids"),
)
def search_logged_models(
    req: Annotated[Fields, Depends(request_fields(SEARCH))], store: StoreDep
) -> Response:
    """SearchLoggedModels → ``{"models", "next_page_token"}`` (both omitted when empty)."""
    page = store.search_logged_models(
        req["experiment_ids"],
        filter_string=req.get("filter") or None,
        datasets=req.get("datasets") or None,
        max_results=req.get("max_results") or None,
        order_by=req.get("order_by") or None,
        page_token=req.get("page_token") or None,
    )
    body: Fields = {}
    if page.items:
        body["models"] = [logged_model_to_dict(m) for m in page.items]
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return json_response(body)


@rpc(
    router,
    "logged-models",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.EDIT, "experiment_id"),
)
def create_logged_model(req: Annotated[Fields, Depends(request_fields(CREATE))], store: StoreDep) -> Response:
    """CreateLoggedModel → ``{"model"}`` (status ``LOGGED_MODEL_PENDING``)."""
    model = store.create_logged_model(
        req["experiment_id"],
        name=req.get("name") or None,
        source_run_id=req.get("source_run_id") or None,
        tags=[LoggedModelTag(t["key"], t.get("value", "")) for t in req.get("tags", ())],
        params=[LoggedModelParameter(p["key"], p.get("value", "")) for p in req.get("params", ())],
        model_type=req.get("model_type") or None,
    )
    return _model_body(model)


@rpc(router, "logged-models/{model_id}", methods=["GET"], permission=_perm(Access.READ))
def get_logged_model(
    model_id: str, req: Annotated[Fields, Depends(request_fields(GET))], store: StoreDep
) -> Response:
    """GetLoggedModel → ``{"model"}``; deleted models only with ``allow_deleted=true``."""
    return _model_body(store.get_logged_model(model_id, allow_deleted=bool(req.get("allow_deleted"))))


@rpc(router, "logged-models/{model_id}", methods=["PATCH"], permission=_perm(Access.EDIT))
def finalize_logged_model(
    model_id: str, req: Annotated[Fields, Depends(request_fields(FINALIZE))], store: StoreDep
) -> Response:
    """FinalizeLoggedModel → ``{"model"}`` with the new status."""
    return _model_body(store.finalize_logged_model(model_id, LoggedModelStatus(req["status"])))


@rpc(router, "logged-models/{model_id}", methods=["DELETE"], permission=_perm(Access.MANAGE))
def delete_logged_model(
    model_id: str, req: Annotated[Fields, Depends(request_fields(DELETE))], store: StoreDep
) -> Response:
    """DeleteLoggedModel (soft) → ``{}``."""
    store.delete_logged_model(model_id)
    return json_response()


@rpc(router, "logged-models/{model_id}/tags", methods=["PATCH"], permission=_perm(Access.EDIT))
def set_logged_model_tags(
    model_id: str, req: Annotated[Fields, Depends(request_fields(SET_TAGS))], store: StoreDep
) -> Response:
    """SetLoggedModelTags → ``{}``."""
    store.set_logged_model_tags(
        model_id, [LoggedModelTag(t["key"], t.get("value", "")) for t in req.get("tags", ())]
    )
    return json_response()


@rpc(
    router, "logged-models/{model_id}/tags/{tag_key:path}", methods=["DELETE"], permission=_perm(Access.EDIT)
)
def delete_logged_model_tag(
    model_id: str, tag_key: str, req: Annotated[Fields, Depends(request_fields(DELETE_TAG))], store: StoreDep
) -> Response:
    """DeleteLoggedModelTag → ``{}``; an unknown tag is a 404."""
    store.delete_logged_model_tag(model_id, tag_key)
    return json_response()


@rpc(router, "logged-models/{model_id}/params", methods=["POST"], permission=_perm(Access.EDIT))
def log_logged_model_params(
    model_id: str, req: Annotated[Fields, Depends(request_fields(LOG_PARAMS))], store: StoreDep
) -> Response:
    """LogLoggedModelParams → ``{}``."""
    params = [LoggedModelParameter(p["key"], p.get("value", "")) for p in req.get("params", ())]
    store.log_logged_model_params(model_id, params)
    return json_response()


@rpc(router, "logged-models/{model_id}/artifacts/directories", methods=["GET"], permission=_perm(Access.READ))
def list_logged_model_artifacts(
    model_id: str,
    req: Annotated[Fields, Depends(request_fields(LIST_ARTIFACTS))],
    store: StoreDep,
    context: ContextDep,
) -> Response:
    """ListLoggedModelArtifacts → ``{"root_uri", "files"}``, paths relative to the model's root."""
    root = store.get_logged_model(model_id).artifact_uri
    files = list_run_artifacts(context, root, req.get("artifact_directory_path"))
    body: Fields = {"root_uri": root}
    if files:
        body["files"] = files
    return json_response(body)


@rpc(
    router,
    "logged-models/{model_id}/artifacts/files",
    methods=["GET"],
    permission=_perm(Access.READ),
    prefixes=AJAX_TRACKING_PREFIX,
)
async def get_logged_model_artifact(
    model_id: str,
    req: Annotated[Fields, Depends(request_fields(GET_FILE))],
    store: StoreDep,
    context: ContextDep,
) -> Response:
    """Stream one file of a model's artifacts (UI helper); ``artifact_file_path`` is required."""
    raw = req.get("artifact_file_path")
    if not raw:
        raise BadRequestError('Request must include the "artifact_file_path" query parameter.')
    rel = canonical_relpath(raw)
    model = await anyio.to_thread.run_sync(store.get_logged_model, model_id)
    repository, path = await anyio.to_thread.run_sync(file_location, context, model.artifact_uri, rel)
    head, rest = await anyio.to_thread.run_sync(open_file, repository, path)
    headers = download_headers(path)
    media_type = headers.pop("Content-Type")
    if rest is None:
        return Response(b"".join(head), media_type=media_type, headers=headers)
    return StreamingResponse(stream_chunks(head, rest), media_type=media_type, headers=headers)
