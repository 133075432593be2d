"""Model version RPCs (spec REST-REGISTRY §2): create, get, update, transition, delete, search, tags."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from mltrail.registry.search import VERSION_SEARCH_MAX_RESULTS_DEFAULT
from mltrail.registry.wire import model_version_to_dict
from mltrail.server.deps import json_response, request_fields
from mltrail.server.parsing import Field, Kind, Message
from mltrail.server.routers._messages import KEY_VALUE, int64, repeated_string, string
from mltrail.server.routers._registry import SEARCH, RegistryDep, edit, manage, read, who
from mltrail.server.routing import rpc

__all__ = ["router"]

router = APIRouter()
Fields = dict[str, Any]

CREATE = Message(
    "CreateModelVersion",
    (
        string("name", required=True),
        string("source", required=True),
        string("run_id"),
        Field("tags", Kind.MESSAGE, repeated=True, message=KEY_VALUE),
        string("run_link"),
        string("description"),
        string("model_id"),
        string("user_id"),
    ),
)
BY_VERSION = Message(
    "ModelVersionByNumber", (string("name", required=True), string("version", required=True))
)
UPDATE = Message(
    "UpdateModelVersion",
    (string("name", required=True), string("version", required=True), string("description")),
)
TRANSITION = Message(
    "TransitionModelVersionStage",
    (
        string("name", required=True),
        string("version", required=True),
        string("stage", required=True),
        Field("archive_existing_versions", Kind.BOOL),
    ),
)
SEARCH_VERSIONS = Message(
    "SearchModelVersions",
    (string("filter"), int64("max_results"), repeated_string("order_by"), string("page_token")),
)
SET_TAG = Message(
    "SetModelVersionTag",
    (
        string("name", required=True),
        string("version", required=True),
        string("key", required=True),
        string("value"),
    ),
)
DELETE_TAG = Message(
    "DeleteModelVersionTag",
    (string("name", required=True), string("version", required=True), string("key", required=True)),
)


def _version(version: Any) -> Response:
    return json_response({"model_version": model_version_to_dict(version)})


@rpc(router, "model-versions/create", methods=["POST"], permission=edit())
def create_model_version(
    req: Annotated[Fields, Depends(request_fields(CREATE))], registry: RegistryDep, request: Request
) -> Response:
    """CreateModelVersion → ``{"model_version"}`` (status READY at once)."""
    tags = {t["key"]: t.get("value", "") for t in req.get("tags", ())}
    version = registry.create_model_version(
        req["name"],
        req["source"],
        run_id=req.get("run_id") or None,
        tags=tags,
        run_link=req.get("run_link"),
        description=req.get("description"),
        model_id=req.get("model_id") or None,
        user_id=who(request, req),
    )
    return _version(version)


@rpc(router, "model-versions/get", methods=["GET"], permission=read())
def get_model_version(
    req: Annotated[Fields, Depends(request_fields(BY_VERSION))], registry: RegistryDep
) -> Response:
    """GetModelVersion → ``{"model_version"}``."""
    return _version(registry.get_model_version(req["name"], req["version"]))


@rpc(router, "model-versions/update", methods=["PATCH"], permission=edit())
def update_model_version(
    req: Annotated[Fields, Depends(request_fields(UPDATE))], registry: RegistryDep
) -> Response:
    """UpdateModelVersion → ``{"model_version"}``."""
    return _version(registry.update_model_version(req["name"], req["version"], req.get("description")))


@rpc(router, "model-versions/transition-stage", methods=["POST"], permission=edit())
def transition_model_version_stage(
    req: Annotated[Fields, Depends(request_fields(TRANSITION))], registry: RegistryDep
) -> Response:
    """TransitionModelVersionStage → ``{"model_version"}``."""
    version = registry.transition_model_version_stage(
        req["name"], req["version"], req["stage"], bool(req.get("archive_existing_versions", False))
    )
    return _version(version)


@rpc(router, "model-versions/delete", methods=["DELETE"], permission=manage())
def delete_model_version(
    req: Annotated[Fields, Depends(request_fields(BY_VERSION))], registry: RegistryDep
) -> Response:
    """DeleteModelVersion → ``{}``."""
    registry.delete_model_version(req["name"], req["version"])
    return json_response()


@rpc(router, "model-versions/search", methods=["GET"], permission=SEARCH)
def search_model_versions(
    req: Annotated[Fields, Depends(request_fields(SEARCH_VERSIONS))], registry: RegistryDep
) -> Response:
    """SearchModelVersions → ``{"model_versions", "next_page_token"}`` (omitted when empty)."""
    page = registry.search_model_versions(
        filter_string=req.get("filter") or None,
        max_results=req.get("max_results", VERSION_SEARCH_MAX_RESULTS_DEFAULT),
        order_by=req.get("order_by") or None,
        page_token=req.get("page_token") or None,
    )
    body: Fields = {}
    if page.items:
        body["model_versions"] = [model_version_to_dict(v) for v in page.items]
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return json_response(body)


@rpc(router, "model-versions/get-download-uri", methods=["GET"], permission=read())
def get_model_version_download_uri(
    req: Annotated[Fields, Depends(request_fields(BY_VERSION))], registry: RegistryDep
) -> Response:
    """GetModelVersionDownloadUri → ``{"artifact_uri"}``."""
    return json_response(
        {"artifact_uri": registry.get_model_version_download_uri(req["name"], req["version"])}
    )


@rpc(router, "model-versions/set-tag", methods=["POST"], permission=edit())
def set_model_version_tag(
    req: Annotated[Fields, Depends(request_fields(SET_TAG))], registry: RegistryDep
) -> Response:
    """SetModelVersionTag → ``{}``."""
    registry.set_model_version_tag(req["name"], req["version"], req["key"], req.get("value", ""))
    return json_response()


@rpc(router, "model-versions/delete-tag", methods=["DELETE"], permission=edit())
def delete_model_version_tag(
    req: Annotated[Fields, Depends(request_fields(DELETE_TAG))], registry: RegistryDep
) -> Response:
    """DeleteModelVersionTag → ``{}`` (a missing tag is fine)."""
    registry.delete_model_version_tag(req["name"], req["version"], req["key"])
    return json_response()
