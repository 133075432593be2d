"""Registered model RPCs (spec REST-REGISTRY §2): create, get, rename, update, delete, search, tags.

Updates are PATCH, deletes are DELETE with a JSON body, searches are GET;
GetLatestVersions answers both POST and GET.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from mltrail.registry.search import MODEL_SEARCH_MAX_RESULTS_DEFAULT
from mltrail.registry.wire import model_version_to_dict, registered_model_to_dict
from mltrail.server.deps import json_response, request_fields
from mltrail.server.parsing import Field, Kind, Message
from mltrail.server.routers._messages import KEY_VALUE, int64, repeated_string, string
from mltrail.server.routers._registry import CREATE, SEARCH, RegistryDep, edit, manage, read, who
from mltrail.server.routing import rpc

__all__ = ["router"]

router = APIRouter()
Fields = dict[str, Any]

CREATE_MODEL = Message(
    "CreateRegisteredModel",
    (
        string("name", required=True),
        Field("tags", Kind.MESSAGE, repeated=True, message=KEY_VALUE),
        string("description"),
        string("deployment_job_id"),
        string("user_id"),
    ),
)
BY_NAME = Message("RegisteredModelByName", (string("name", required=True),))
RENAME = Message("RenameRegisteredModel", (string("name", required=True), string("new_name", required=True)))
UPDATE = Message("UpdateRegisteredModel", (string("name", required=True), string("description")))
SEARCH_MODELS = Message(
    "SearchRegisteredModels",
    (string("filter"), int64("max_results"), repeated_string("order_by"), string("page_token")),
)
LATEST = Message("GetLatestVersions", (string("name", required=True), repeated_string("stages")))
SET_TAG = Message(
    "SetRegisteredModelTag", (string("name", required=True), string("key", required=True), string("value"))
)
DELETE_TAG = Message(
    "DeleteRegisteredModelTag", (string("name", required=True), string("key", required=True))
)


def _model(body: Any) -> Response:
    return json_response({"registered_model": registered_model_to_dict(body)})


@rpc(router, "registered-models/create", methods=["POST"], permission=CREATE)
def create_registered_model(
    req: Annotated[Fields, Depends(request_fields(CREATE_MODEL))], registry: RegistryDep, request: Request
) -> Response:
    """CreateRegisteredModel → ``{"registered_model"}``."""
    tags = {t["key"]: t.get("value", "") for t in req.get("tags", ())}
    model = registry.create_registered_model(
        req["name"], tags, req.get("description"), user_id=who(request, req)
    )
    return _model(model)


@rpc(router, "registered-models/get", methods=["GET"], permission=read())
def get_registered_model(
    req: Annotated[Fields, Depends(request_fields(BY_NAME))], registry: RegistryDep
) -> Response:
    """GetRegisteredModel → ``{"registered_model"}``."""
    return _model(registry.get_registered_model(req["name"]))


@rpc(router, "registered-models/rename", methods=["POST"], permission=manage())
def rename_registered_model(
    req: Annotated[Fields, Depends(request_fields(RENAME))], registry: RegistryDep
) -> Response:
    """RenameRegisteredModel → ``{"registered_model"}``."""
    return _model(registry.rename_registered_model(req["name"], req["new_name"]))


@rpc(router, "registered-models/update", methods=["PATCH"], permission=edit())
def update_registered_model(
    req: Annotated[Fields, Depends(request_fields(UPDATE))], registry: RegistryDep
) -> Response:
    """UpdateRegisteredModel → ``{"registered_model"}`` (an absent description clears it)."""
    return _model(registry.update_registered_model(req["name"], req.get("description")))


@rpc(router, "registered-models/delete", methods=["DELETE"], permission=manage())
def delete_registered_model(
    req: Annotated[Fields, Depends(request_fields(BY_NAME))], registry: RegistryDep
) -> Response:
    """DeleteRegisteredModel → ``{}``."""
    registry.delete_registered_model(req["name"])
    return json_response()


@rpc(router, "registered-models/search", methods=["GET"], permission=SEARCH)
def search_registered_models(
    req: Annotated[Fields, Depends(request_fields(SEARCH_MODELS))], registry: RegistryDep
) -> Response:
    """SearchRegisteredModels → ``{"registered_models", "next_page_token"}`` (omitted when empty)."""
    page = registry.search_registered_models(
        filter_string=req.get("filter") or None,
        max_results=req.get("max_results", MODEL_SEARCH_MAX_RESULTS_DEFAULT),
        order_by=req.get("order_by") or None,
        page_token=req.get("page_token") or None,
    )
    body: Fields = {}
    if page.items:
        body["registered_models"] = [registered_model_to_dict(m) for m in page.items]
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return json_response(body)


@rpc(router, "registered-models/get-latest-versions", methods=["POST", "GET"], permission=read())
def get_latest_versions(
    req: Annotated[Fields, Depends(request_fields(LATEST))], registry: RegistryDep
) -> Response:
    """GetLatestVersions → ``{"model_versions"}`` (omitted when empty)."""
    versions = registry.get_latest_versions(req["name"], req.get("stages") or None)
    return json_response({"model_versions": [model_version_to_dict(v) for v in versions]} if versions else {})


@rpc(router, "registered-models/set-tag", methods=["POST"], permission=edit())
def set_registered_model_tag(
    req: Annotated[Fields, Depends(request_fields(SET_TAG))], registry: RegistryDep
) -> Response:
    """SetRegisteredModelTag → ``{}``."""
    registry.set_registered_model_tag(req["name"], req["key"], req.get("value", ""))
    return json_response()


@rpc(router, "registered-models/delete-tag", methods=["DELETE"], permission=edit())
def delete_registered_model_tag(
    req: Annotated[Fields, Depends(request_fields(DELETE_TAG))], registry: RegistryDep
) -> Response:
    """DeleteRegisteredModelTag → ``{}`` (a missing tag is fine)."""
    registry.delete_registered_model_tag(req["name"], req["key"])
    return json_response()
