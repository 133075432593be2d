"""Alias RPCs (spec REST-REGISTRY §2) and mltrail's alias history and rollback routes.

``registered-models/alias`` answers POST (set), GET (get version by alias) and DELETE. The
history and rollback live under ``/api/2.0/mltrail`` (docs/compatibility.md): they are not
part of MLflow's protocol. Set and delete accept two optional mltrail fields, ``reason`` and
``user_id``, which are recorded in the history (MLflow clients simply do not send them).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from mltrail.registry.wire import alias_event_to_dict, model_version_to_dict
from mltrail.server.deps import json_response, request_fields
from mltrail.server.parsing import Message
from mltrail.server.routers._messages import string
from mltrail.server.routers._registry import RegistryDep, edit, read, who
from mltrail.server.routing import rpc

__all__ = ["MLTRAIL_PREFIXES", "router"]

router = APIRouter()
Fields = dict[str, Any]
MLTRAIL_PREFIXES = ("/api/2.0/mltrail", "/ajax-api/2.0/mltrail")

SET_ALIAS = Message(
    "SetRegisteredModelAlias",
    (
        string("name", required=True),
        string("alias", required=True),
        string("version", required=True),
        string("reason"),
        string("user_id"),
    ),
)
DELETE_ALIAS = Message(
    "DeleteRegisteredModelAlias",
    (string("name", required=True), string("alias", required=True), string("reason"), string("user_id")),
)
GET_ALIAS = Message("GetModelVersionByAlias", (string("name", required=True), string("alias", required=True)))
HISTORY = Message("GetAliasHistory", (string("name", required=True), string("alias")))
ROLLBACK = Message(
    "RollbackRegisteredModelAlias",
    (
        string("name", required=True),
        string("alias", required=True),
        string("to_version"),
        string("reason"),
        string("user_id"),
    ),
)


@rpc(router, "registered-models/alias", methods=["POST"], permission=edit())
def set_registered_model_alias(
    req: Annotated[Fields, Depends(request_fields(SET_ALIAS))], registry: RegistryDep, request: Request
) -> Response:
    """SetRegisteredModelAlias → ``{}`` (the move is recorded in the alias history)."""
    registry.set_registered_model_alias(
        req["name"], req["alias"], req["version"], user_id=who(request, req), reason=req.get("reason") or None
    )
    return json_response()


@rpc(router, "registered-models/alias", methods=["DELETE"], permission=edit())
def delete_registered_model_alias(
    req: Annotated[Fields, Depends(request_fields(DELETE_ALIAS))], registry: RegistryDep, request: Request
) -> Response:
    """DeleteRegisteredModelAlias → ``{}`` (a missing alias is fine)."""
    registry.delete_registered_model_alias(
        req["name"], req["alias"], user_id=who(request, req), reason=req.get("reason") or None
    )
    return json_response()


@rpc(router, "registered-models/alias", methods=["GET"], permission=read())
def get_model_version_by_alias(
    req: Annotated[Fields, Depends(request_fields(GET_ALIAS))], registry: RegistryDep
) -> Response:
    """GetModelVersionByAlias → ``{"model_version"}`` (an unknown alias is a 400, as in MLflow)."""
    version = registry.get_model_version_by_alias(req["name"], req["alias"])
    return json_response({"model_version": model_version_to_dict(version)})


@rpc(router, "registered-models/alias/history", methods=["GET"], permission=read(), prefixes=MLTRAIL_PREFIXES)
def get_alias_history(
    req: Annotated[Fields, Depends(request_fields(HISTORY))], registry: RegistryDep
) -> Response:
    """mltrail: the recorded alias moves of a model (or one alias), oldest first → ``{"events"}``."""
    events = registry.get_alias_history(req["name"], req.get("alias") or None)
    return json_response({"events": [alias_event_to_dict(e) for e in events]} if events else {})


@rpc(
    router, "registered-models/alias/rollback", methods=["POST"], permission=edit(), prefixes=MLTRAIL_PREFIXES
)
def rollback_registered_model_alias(
    req: Annotated[Fields, Depends(request_fields(ROLLBACK))], registry: RegistryDep, request: Request
) -> Response:
    """mltrail: point an alias back at an earlier target → ``{"event"}`` (the recorded rollback)."""
    event = registry.rollback_registered_model_alias(
        req["name"],
        req["alias"],
        req.get("to_version") or None,
        user_id=who(request, req),
        reason=req.get("reason") or None,
    )
    return json_response({"event": alias_event_to_dict(event)})
