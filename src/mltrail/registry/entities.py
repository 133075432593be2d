"""Entities of the model registry: registered models, versions, stages, aliases and alias events.

Frozen dataclasses with no I/O. Version numbers are strings on the wire (``"3"``) and here, so
they round-trip unchanged between the SQL and REST stores.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from mltrail.errors import InvalidArgumentError

__all__ = [
    "AliasAction",
    "AliasEvent",
    "ModelVersion",
    "ModelVersionStatus",
    "RegisteredModel",
    "RegisteredModelAlias",
    "Stage",
]


class ModelVersionStatus(enum.StrEnum):
    """Registration status of a model version; the wire carries the name."""

    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"

    @property
    def number(self) -> int:
        """The protobuf enum number (PENDING_REGISTRATION=1 ... READY=3)."""
        return _STATUS_NUMBERS[self]

    @classmethod
    def from_wire(cls, value: object) -> ModelVersionStatus:
        """The status for a wire name or number (unknown values read as READY)."""
        if isinstance(value, int) and not isinstance(value, bool):
            return next((s for s, n in _STATUS_NUMBERS.items() if n == value), cls.READY)
        try:
            return cls(str(value))
        except ValueError:
            return cls.READY


_STATUS_NUMBERS = {
    ModelVersionStatus.PENDING_REGISTRATION: 1,
    ModelVersionStatus.FAILED_REGISTRATION: 2,
    ModelVersionStatus.READY: 3,
}


class Stage(enum.StrEnum):
    """The legacy deployment stages of a model version (deprecated by MLflow in favour of aliases)."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"

    @classmethod
    def parse(cls, value: str) -> Stage:
        """The stage named by ``value``, compared case-insensitively.

        Raises:
            InvalidArgumentError: ``value`` names no stage.
        """
        for stage in cls:
            if stage.value.lower() == str(value).strip().lower():
                return stage
        raise InvalidArgumentError(
            f"Invalid Model Version stage: {value}. Value must be one of {', '.join(s.value for s in cls)}."
        )


class AliasAction(enum.StrEnum):
    """What happened to an alias in one history event."""

    SET = "SET"
    DELETE = "DELETE"
    ROLLBACK = "ROLLBACK"
    VERSION_DELETED = "VERSION_DELETED"


@dataclass(frozen=True, slots=True)
class RegisteredModelAlias:
    """An alias of a registered model and the version (a decimal string) it points at."""

    alias: str
    version: str


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One numbered version of a registered model.

    ``tags`` maps key to value; ``aliases`` lists the aliases pointing at this version.
    """

    name: str
    version: str
    creation_timestamp: int
    last_updated_timestamp: int
    current_stage: str = Stage.NONE.value
    source: str = ""
    run_id: str | None = None
    description: str | None = None
    user_id: str | None = None
    status: ModelVersionStatus = ModelVersionStatus.READY
    status_message: str | None = None
    run_link: str | None = None
    model_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A registered model with its tags, aliases and latest version per stage."""

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None = None
    user_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[RegisteredModelAlias, ...] = ()
    latest_versions: tuple[ModelVersion, ...] = ()


@dataclass(frozen=True, slots=True)
class AliasEvent:
    """One recorded move of an alias (mltrail's alias history).

    Args:
        event_id: Increasing id; later events have larger ids.
        name: The registered model.
        alias: The alias that moved.
        action: What happened (set, delete, rollback, or removal because its version was deleted).
        from_version: The version the alias pointed at before (None if it did not exist).
        to_version: The version it points at afterwards (None if it was removed).
        user_id: Who made the change (None when unknown).
        timestamp: When, in milliseconds since the epoch.
        reason: The optional free-text reason given with the change.
    """

    event_id: int
    name: str
    alias: str
    action: AliasAction
    from_version: str | None
    to_version: str | None
    user_id: str | None
    timestamp: int
    reason: str | None = None
