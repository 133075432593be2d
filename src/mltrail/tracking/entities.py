"""Tracking entities: experiments, runs and what is logged to them.

Plain frozen dataclasses with no I/O. Stores build them; clients and the server read them.
Field names follow the MLflow wire protocol so that conversion to and from JSON is mechanical.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = [
    "Dataset",
    "DatasetInput",
    "DatasetSummary",
    "Experiment",
    "InputTag",
    "LifecycleStage",
    "Metric",
    "ModelInput",
    "ModelOutput",
    "Page",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "ViewType",
]

T = TypeVar("T")


class RunStatus(enum.StrEnum):
    """Lifecycle status of a run; the wire carries the name, the proto the number."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def number(self) -> int:
        """The protobuf enum number (RUNNING=1 ... KILLED=5)."""
        return _RUN_STATUS_NUMBERS[self]

    @classmethod
    def from_number(cls, number: int) -> RunStatus:
        """The status for a protobuf enum number; raises ``ValueError`` when unknown."""
        for status, num in _RUN_STATUS_NUMBERS.items():
            if num == number:
                return status
        raise ValueError(f"Unknown run status number {number}")

    @property
    def is_terminated(self) -> bool:
        """True for FINISHED, FAILED and KILLED."""
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


_RUN_STATUS_NUMBERS = {
    RunStatus.RUNNING: 1,
    RunStatus.SCHEDULED: 2,
    RunStatus.FINISHED: 3,
    RunStatus.FAILED: 4,
    RunStatus.KILLED: 5,
}


class LifecycleStage(enum.StrEnum):
    """Soft-delete state of experiments and runs."""

    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(enum.IntEnum):
    """Which lifecycle stages a search returns (proto numbers)."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3

    def stages(self) -> tuple[LifecycleStage, ...]:
        """The lifecycle stages this view includes."""
        if self is ViewType.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE,)
        if self is ViewType.DELETED_ONLY:
            return (LifecycleStage.DELETED,)
        return (LifecycleStage.ACTIVE, LifecycleStage.DELETED)


@dataclass(frozen=True, slots=True)
class Experiment:
    """A named group of runs with its own artifact location."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    creation_time: int | None = None
    last_update_time: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Metric:
    """One point of a metric's history.

    ``value`` may be NaN; ±inf are clamped to ±max double by SQL stores, as MLflow does.
    """

    key: str
    value: float
    timestamp: int
    step: int = 0
    dataset_name: str | None = None
    dataset_digest: str | None = None
    model_id: str | None = None
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class Param:
    """An immutable hyper-parameter of a run."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RunTag:
    """A mutable key/value annotation of a run (``mlflow.*`` keys are system tags)."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class InputTag:
    """A tag on a dataset input (``mlflow.data.context`` names its role, e.g. ``train``)."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset's identity and description, deduplicated per experiment by (name, digest)."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetInput:
    """A dataset used by a run, with the tags of that use."""

    dataset: Dataset
    tags: tuple[InputTag, ...] = ()


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    """One (dataset, context) pair seen in an experiment, for dataset pickers."""

    experiment_id: str
    name: str
    digest: str
    context: str | None = None


@dataclass(frozen=True, slots=True)
class ModelInput:
    """A logged model used as an input of a run."""

    model_id: str


@dataclass(frozen=True, slots=True)
class ModelOutput:
    """A logged model produced by a run at a step."""

    model_id: str
    step: int = 0


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Metadata of a run."""

    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: RunStatus
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE

    @property
    def run_uuid(self) -> str:
        """Legacy alias of ``run_id``."""
        return self.run_id


@dataclass(frozen=True, slots=True)
class RunData:
    """What was logged to a run: the latest value of each metric, params and tags."""

    latest_metrics: tuple[Metric, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, float]:
        """Latest value of each metric by key."""
        return {m.key: m.value for m in self.latest_metrics}


@dataclass(frozen=True, slots=True)
class RunInputs:
    """Datasets and models a run consumed."""

    dataset_inputs: tuple[DatasetInput, ...] = ()
    model_inputs: tuple[ModelInput, ...] = ()


@dataclass(frozen=True, slots=True)
class RunOutputs:
    """Models a run produced."""

    model_outputs: tuple[ModelOutput, ...] = ()


@dataclass(frozen=True, slots=True)
class Run:
    """A run: its info, its data, its inputs and outputs."""

    info: RunInfo
    data: RunData = field(default_factory=RunData)
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a search: the items and the token of the next page (None on the last)."""

    items: list[T]
    next_page_token: str | None = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]
