"""Request message pieces shared by several routers (enums and nested messages)."""

from __future__ import annotations

from mltrail.server.parsing import Field, Kind, Message
from mltrail.tracking.entities import RunStatus, ViewType

__all__ = [
    "KEY_VALUE",
    "RUN_STATUS_VALUES",
    "VIEW_TYPE_VALUES",
    "enum_field",
    "int32",
    "int64",
    "repeated_string",
    "string",
    "view_type_of",
]

VIEW_TYPE_VALUES = {v.name: v.value for v in ViewType}
RUN_STATUS_VALUES = {s.name: s.number for s in RunStatus}


def string(name: str, *, required: bool = False) -> Field:
    """A string field."""
    return Field(name, Kind.STRING, required=required)


def repeated_string(name: str, *, required: bool = False) -> Field:
    """A repeated string field."""
    return Field(name, Kind.STRING, repeated=True, required=required)


def int64(name: str, *, required: bool = False) -> Field:
    """An int64 field."""
    return Field(name, Kind.INT64, required=required)


def int32(name: str, *, required: bool = False) -> Field:
    """An int32 field."""
    return Field(name, Kind.INT32, required=required)


def enum_field(name: str, values: dict[str, int]) -> Field:
    """An enum field read by name or number."""
    return Field(name, Kind.ENUM, enum_values=values)


KEY_VALUE = Message("KeyValue", (string("key", required=True), string("value")))


def view_type_of(name: str | None) -> ViewType:
    """The ``ViewType`` of a parsed enum name (ACTIVE_ONLY when unset)."""
    return ViewType[name] if name else ViewType.ACTIVE_ONLY
