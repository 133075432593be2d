"""The JSON codec between registry entities and MLflow's protobuf-JSON wire format.

Encoding follows spec REST-REGISTRY §1 and REST-TRACKING §0.3: versions as strings, timestamps
as numbers, enums by name, empty repeated fields omitted, and a model version's
``description``, ``run_link`` and ``run_id`` always present (``""`` when empty). Decoding is
lenient so the REST store reads both mltrail and MLflow servers. Alias events are mltrail's own
message (``/api/2.0/mltrail/registered-models/alias/history``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail.registry.entities import (
    AliasAction,
    AliasEvent,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    RegisteredModelAlias,
    Stage,
)
from mltrail.tracking.wire import JsonDict, key_values

__all__ = [
    "alias_event_from_dict",
    "alias_event_to_dict",
    "model_version_from_dict",
    "model_version_to_dict",
    "registered_model_from_dict",
    "registered_model_to_dict",
]


def _pairs(items: Any) -> dict[str, str]:
    return {str(item["key"]): str(item.get("value", "")) for item in items or ()}


def _opt(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def model_version_to_dict(version: ModelVersion) -> JsonDict:
    """Encode a ``ModelVersion`` message."""
    body: JsonDict = {
        "name": version.name,
        "version": version.version,
        "creation_timestamp": version.creation_timestamp,
        "last_updated_timestamp": version.last_updated_timestamp,
        "current_stage": version.current_stage,
        "description": version.description or "",
        "source": version.source,
        "run_id": version.run_id or "",
        "status": version.status.value,
        "run_link": version.run_link or "",
    }
    if version.user_id is not None:
        body["user_id"] = version.user_id
    if version.status_message:
        body["status_message"] = version.status_message
    if version.tags:
        body["tags"] = key_values(version.tags)
    if version.aliases:
        body["aliases"] = list(version.aliases)
    if version.model_id:
        body["model_id"] = version.model_id
    return body


def model_version_from_dict(body: Mapping[str, Any]) -> ModelVersion:
    """Decode a ``ModelVersion`` message."""
    return ModelVersion(
        name=str(body.get("name", "")),
        version=str(body.get("version", "")),
        creation_timestamp=int(body.get("creation_timestamp", 0)),
        last_updated_timestamp=int(body.get("last_updated_timestamp", 0)),
        current_stage=str(body.get("current_stage") or Stage.NONE.value),
        source=str(body.get("source", "")),
        run_id=_opt(body.get("run_id")),
        description=_opt(body.get("description")),
        user_id=_opt(body.get("user_id")),
        status=ModelVersionStatus.from_wire(body.get("status", "READY")),
        status_message=_opt(body.get("status_message")),
        run_link=_opt(body.get("run_link")),
        model_id=_opt(body.get("model_id")),
        tags=_pairs(body.get("tags")),
        aliases=tuple(str(a) for a in body.get("aliases") or ()),
    )


def registered_model_to_dict(model: RegisteredModel) -> JsonDict:
    """Encode a ``RegisteredModel`` message."""
    body: JsonDict = {
        "name": model.name,
        "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp,
    }
    if model.user_id is not None:
        body["user_id"] = model.user_id
    if model.description is not None:
        body["description"] = model.description
    if model.latest_versions:
        body["latest_versions"] = [model_version_to_dict(v) for v in model.latest_versions]
    if model.tags:
        body["tags"] = key_values(model.tags)
    if model.aliases:
        body["aliases"] = [{"alias": a.alias, "version": a.version} for a in model.aliases]
    return body


def registered_model_from_dict(body: Mapping[str, Any]) -> RegisteredModel:
    """Decode a ``RegisteredModel`` message."""
    return RegisteredModel(
        name=str(body.get("name", "")),
        creation_timestamp=int(body.get("creation_timestamp", 0)),
        last_updated_timestamp=int(body.get("last_updated_timestamp", 0)),
        description=_opt(body.get("description")),
        user_id=_opt(body.get("user_id")),
        tags=_pairs(body.get("tags")),
        aliases=tuple(
            RegisteredModelAlias(str(a["alias"]), str(a["version"])) for a in body.get("aliases") or ()
        ),
        latest_versions=tuple(model_version_from_dict(v) for v in body.get("latest_versions") or ()),
    )


def alias_event_to_dict(event: AliasEvent) -> JsonDict:
    """Encode an alias history event (mltrail extension)."""
    body: JsonDict = {
        "event_id": event.event_id,
        "name": event.name,
        "alias": event.alias,
        "action": event.action.value,
        "timestamp": event.timestamp,
    }
    for key in ("from_version", "to_version", "user_id", "reason"):
        value = getattr(event, key)
        if value is not None:
            body[key] = value
    return body


def alias_event_from_dict(body: Mapping[str, Any]) -> AliasEvent:
    """Decode an alias history event."""
    return AliasEvent(
        event_id=int(body["event_id"]),
        name=str(body["name"]),
        alias=str(body["alias"]),
        action=AliasAction(str(body["action"])),
        from_version=_opt(body.get("from_version")),
        to_version=_opt(body.get("to_version")),
        user_id=_opt(body.get("user_id")),
        timestamp=int(body.get("timestamp", 0)),
        reason=_opt(body.get("reason")),
    )
