"""Entities of MLflow 3 logged models: a model, its status, params, tags and registrations.

Plain frozen dataclasses with no I/O, like :mod:`mltrail.tracking.entities`. A logged model
belongs to an experiment, may name the run that produced it, and keeps its own artifact root
(``<experiment location>/models/<model_id>/artifacts``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from mltrail.tracking.entities import Metric

__all__ = [
    "LoggedModel",
    "LoggedModelParameter",
    "LoggedModelRegistration",
    "LoggedModelStatus",
    "LoggedModelTag",
]


class LoggedModelStatus(enum.StrEnum):
    """Upload state of a logged model; the wire carries the name, the proto the number."""

    UNSPECIFIED = "LOGGED_MODEL_STATUS_UNSPECIFIED"
    PENDING = "LOGGED_MODEL_PENDING"
    READY = "LOGGED_MODEL_READY"
    UPLOAD_FAILED = "LOGGED_MODEL_UPLOAD_FAILED"

    @property
    def number(self) -> int:
        """The protobuf enum number (UNSPECIFIED=0 ... UPLOAD_FAILED=3)."""
        return _STATUS_NUMBERS[self]

    @classmethod
    def from_number(cls, number: int) -> LoggedModelStatus:
        """The status for a protobuf enum number; raises ``ValueError`` when unknown."""
        for status, num in _STATUS_NUMBERS.items():
            if num == number:
                return status
        raise ValueError(f"Unknown logged model status number {number}")

    @classmethod
    def parse(cls, value: LoggedModelStatus | str | int) -> LoggedModelStatus:
        """A status from itself, its wire name, its short name (``READY``) or its number.

        Raises:
            ValueError: the value names no status.
        """
        if isinstance(value, LoggedModelStatus):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return cls.from_number(value)
        text = str(value).upper()
        for status in cls:
            if text in (status.value, status.name):
                return status
        raise ValueError(f"Unknown logged model status {value!r}")


_STATUS_NUMBERS = {
    LoggedModelStatus.UNSPECIFIED: 0,
    LoggedModelStatus.PENDING: 1,
    LoggedModelStatus.READY: 2,
    LoggedModelStatus.UPLOAD_FAILED: 3,
}


@dataclass(frozen=True, slots=True)
class LoggedModelParameter:
    """A parameter of a logged model (its hyper-parameters or settings)."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class LoggedModelTag:
    """A mutable key/value annotation of a logged model."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class LoggedModelRegistration:
    """A registered model version made from a logged model."""

    name: str
    version: str


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """A model logged to an experiment (MLflow 3), with its params, tags and metrics.

    ``metrics`` holds every point logged with this model's id (by any run), oldest first.
    """

    model_id: str
    experiment_id: str
    name: str
    artifact_uri: str
    status: LoggedModelStatus
    creation_timestamp_ms: int
    last_updated_timestamp_ms: int
    model_type: str | None = None
    source_run_id: str | None = None
    status_message: str | None = None
    creator_id: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: tuple[Metric, ...] = ()
    registrations: tuple[LoggedModelRegistration, ...] = ()
