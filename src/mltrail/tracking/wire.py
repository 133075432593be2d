"""The JSON codec between tracking entities and MLflow's protobuf-JSON wire format.

Encoding follows spec REST-TRACKING §0.3: snake_case names, int64 as JSON numbers, enums by
name, NaN and ±inf as the strings ``"NaN"``/``"Infinity"``/``"-Infinity"``, unset optional
fields and empty repeated fields omitted, empty nested messages as ``{}``. Decoding is lenient
(absent fields take their defaults, int64 may arrive as strings) so the REST store reads both
mltrail and MLflow servers. The server and :class:`~mltrail.tracking.store.rest.RestTrackingStore`
share these functions so both ends agree by construction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import orjson

from mltrail.errors import InvalidArgumentError
from mltrail.tracking.entities import (
    Dataset,
    DatasetInput,
    DatasetSummary,
    Experiment,
    InputTag,
    LifecycleStage,
    Metric,
    ModelInput,
    ModelOutput,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
)
from mltrail.tracking.logged_models import (
    LoggedModel,
    LoggedModelRegistration,
    LoggedModelStatus,
)

__all__ = [
    "JsonDict",
    "dataset_input_from_dict",
    "dataset_input_to_dict",
    "dataset_summary_from_dict",
    "dataset_summary_to_dict",
    "decode_double",
    "dumps",
    "encode_double",
    "experiment_from_dict",
    "experiment_to_dict",
    "key_values",
    "loads",
    "logged_model_from_dict",
    "logged_model_status_from_wire",
    "logged_model_to_dict",
    "metric_from_dict",
    "metric_to_dict",
    "model_input_to_dict",
    "model_output_to_dict",
    "param_from_dict",
    "run_from_dict",
    "run_info_from_dict",
    "run_info_to_dict",
    "run_status_from_wire",
    "run_tag_from_dict",
    "run_to_dict",
]

JsonDict = dict[str, Any]

_NAN = "NaN"
_POS_INF = "Infinity"
_NEG_INF = "-Infinity"


def dumps(body: Any) -> bytes:
    """Serialise a JSON body with the fast encoder (non-string keys are stringified)."""
    return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)


def loads(data: bytes | str) -> Any:
    """Parse a JSON document; raises ``InvalidArgumentError`` on malformed input."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidArgumentError(f"Malformed JSON: {exc}") from exc


def encode_double(value: float) -> float | str:
    """A double as protobuf-JSON: NaN and ±inf become strings, everything else stays a number."""
    if math.isnan(value):
        return _NAN
    if math.isinf(value):
        return _POS_INF if value > 0 else _NEG_INF
    return value


def decode_double(value: Any) -> float:
    """Read a protobuf-JSON double: a number or one of ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.

    Raises:
        InvalidArgumentError: the value is neither a number nor a numeric string.
    """
    if isinstance(value, bool):
        raise InvalidArgumentError(f"Expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise InvalidArgumentError(f"Expected a number, got {value!r}")


def _int(value: Any, default: int | None = None) -> int | None:
    if value is None:
        return default
    return int(value)


class _KeyValue(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def value(self) -> str: ...


def key_values(items: Mapping[str, str] | Iterable[_KeyValue]) -> list[JsonDict]:
    """``[{"key", "value"}, ...]`` from a mapping or from objects with ``key``/``value``."""
    if isinstance(items, Mapping):
        return [{"key": k, "value": v} for k, v in items.items()]
    return [{"key": item.key, "value": item.value} for item in items]


def _pairs(items: Any) -> dict[str, str]:
    return {str(item["key"]): str(item.get("value", "")) for item in items or ()}


# -- experiments --------------------------------------------------------------------------------


def experiment_to_dict(experiment: Experiment) -> JsonDict:
    """Encode an ``Experiment`` message."""
    body: JsonDict = {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": str(experiment.lifecycle_stage),
    }
    if experiment.last_update_time is not None:
        body["last_update_time"] = experiment.last_update_time
    if experiment.creation_time is not None:
        body["creation_time"] = experiment.creation_time
    if experiment.tags:
        body["tags"] = key_values(experiment.tags)
    return body


def experiment_from_dict(body: Mapping[str, Any]) -> Experiment:
    """Decode an ``Experiment`` message."""
    return Experiment(
        experiment_id=str(body["experiment_id"]),
        name=str(body.get("name", "")),
        artifact_location=str(body.get("artifact_location", "")),
        lifecycle_stage=LifecycleStage(body.get("lifecycle_stage", "active")),
        creation_time=_int(body.get("creation_time")),
        last_update_time=_int(body.get("last_update_time")),
        tags=_pairs(body.get("tags")),
    )


# -- metrics ------------------------------------------------------------------------------------


def metric_to_dict(metric: Metric, *, with_run_id: bool = True) -> JsonDict:
    """Encode a ``Metric`` (or ``MetricWithRunId``) message."""
    body: JsonDict = {
        "key": metric.key,
        "value": encode_double(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }
    if metric.dataset_name is not None:
        body["dataset_name"] = metric.dataset_name
    if metric.dataset_digest is not None:
        body["dataset_digest"] = metric.dataset_digest
    if metric.model_id is not None:
        body["model_id"] = metric.model_id
    if with_run_id and metric.run_id is not None:
        body["run_id"] = metric.run_id
    return body


def metric_from_dict(body: Mapping[str, Any]) -> Metric:
    """Decode a ``Metric`` message (missing value/timestamp/step read as NaN/0/0)."""
    value = body.get("value")
    return Metric(
        key=str(body.get("key", "")),
        value=decode_double(value) if value is not None else math.nan,
        timestamp=_int(body.get("timestamp"), 0) or 0,
        step=_int(body.get("step"), 0) or 0,
        dataset_name=body.get("dataset_name"),
        dataset_digest=body.get("dataset_digest"),
        model_id=body.get("model_id"),
        run_id=body.get("run_id"),
    )


# -- runs ---------------------------------------------------------------------------------------


def run_status_from_wire(value: Any) -> RunStatus:
    """A ``RunStatus`` from its name or proto number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return RunStatus.from_number(value)
    return RunStatus(str(value))


def run_info_to_dict(info: RunInfo) -> JsonDict:
    """Encode a ``RunInfo`` message (``end_time`` omitted while unset)."""
    body: JsonDict = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": str(info.status),
    }
    if info.start_time is not None:
        body["start_time"] = info.start_time
    if info.end_time is not None:
        body["end_time"] = info.end_time
    body["artifact_uri"] = info.artifact_uri
    body["lifecycle_stage"] = str(info.lifecycle_stage)
    return body


def run_info_from_dict(body: Mapping[str, Any]) -> RunInfo:
    """Decode a ``RunInfo`` message."""
    return RunInfo(
        run_id=str(body.get("run_id") or body.get("run_uuid") or ""),
        experiment_id=str(body.get("experiment_id", "")),
        run_name=str(body.get("run_name", "")),
        user_id=str(body.get("user_id", "")),
        status=run_status_from_wire(body.get("status", "RUNNING")),
        start_time=_int(body.get("start_time")),
        end_time=_int(body.get("end_time")),
        artifact_uri=str(body.get("artifact_uri", "")),
        lifecycle_stage=LifecycleStage(body.get("lifecycle_stage", "active")),
    )


def dataset_input_to_dict(item: DatasetInput) -> JsonDict:
    """Encode a ``DatasetInput`` message."""
    dataset = item.dataset
    ds: JsonDict = {
        "name": dataset.name,
        "digest": dataset.digest,
        "source_type": dataset.source_type,
        "source": dataset.source,
    }
    if dataset.schema is not None:
        ds["schema"] = dataset.schema
    if dataset.profile is not None:
        ds["profile"] = dataset.profile
    body: JsonDict = {}
    if item.tags:
        body["tags"] = key_values(item.tags)
    body["dataset"] = ds
    return body


def dataset_input_from_dict(body: Mapping[str, Any]) -> DatasetInput:
    """Decode a ``DatasetInput`` message."""
    ds = body.get("dataset") or {}
    return DatasetInput(
        dataset=Dataset(
            name=str(ds.get("name", "")),
            digest=str(ds.get("digest", "")),
            source_type=str(ds.get("source_type", "")),
            source=str(ds.get("source", "")),
            schema=ds.get("schema"),
            profile=ds.get("profile"),
        ),
        tags=tuple(InputTag(str(t["key"]), str(t.get("value", ""))) for t in body.get("tags") or ()),
    )


def model_input_to_dict(item: ModelInput) -> JsonDict:
    """Encode a ``ModelInput`` message."""
    return {"model_id": item.model_id}


def model_output_to_dict(item: ModelOutput) -> JsonDict:
    """Encode a ``ModelOutput`` message."""
    return {"model_id": item.model_id, "step": item.step}


def run_to_dict(run: Run) -> JsonDict:
    """Encode a ``Run`` message: info, data (latest metrics only), inputs and outputs."""
    data: JsonDict = {}
    if run.data.latest_metrics:
        data["metrics"] = [metric_to_dict(m, with_run_id=False) for m in run.data.latest_metrics]
    if run.data.params:
        data["params"] = key_values(run.data.params)
    if run.data.tags:
        data["tags"] = key_values(run.data.tags)
    inputs: JsonDict = {}
    if run.inputs.dataset_inputs:
        inputs["dataset_inputs"] = [dataset_input_to_dict(d) for d in run.inputs.dataset_inputs]
    if run.inputs.model_inputs:
        inputs["model_inputs"] = [model_input_to_dict(m) for m in run.inputs.model_inputs]
    outputs: JsonDict = {}
    if run.outputs.model_outputs:
        outputs["model_outputs"] = [model_output_to_dict(m) for m in run.outputs.model_outputs]
    return {"info": run_info_to_dict(run.info), "data": data, "inputs": inputs, "outputs": outputs}


def run_from_dict(body: Mapping[str, Any]) -> Run:
    """Decode a ``Run`` message."""
    data = body.get("data") or {}
    inputs = body.get("inputs") or {}
    outputs = body.get("outputs") or {}
    return Run(
        info=run_info_from_dict(body.get("info") or {}),
        data=RunData(
            latest_metrics=tuple(metric_from_dict(m) for m in data.get("metrics") or ()),
            params=_pairs(data.get("params")),
            tags=_pairs(data.get("tags")),
        ),
        inputs=RunInputs(
            dataset_inputs=tuple(dataset_input_from_dict(d) for d in inputs.get("dataset_inputs") or ()),
            model_inputs=tuple(ModelInput(str(m["model_id"])) for m in inputs.get("model_inputs") or ()),
        ),
        outputs=RunOutputs(
            model_outputs=tuple(
                ModelOutput(str(m["model_id"]), _int(m.get("step"), 0) or 0)
                for m in outputs.get("model_outputs") or ()
            )
        ),
    )


def param_from_dict(body: Mapping[str, Any]) -> Param:
    """Decode a ``Param`` message."""
    return Param(str(body.get("key", "")), str(body.get("value", "")))


def run_tag_from_dict(body: Mapping[str, Any]) -> RunTag:
    """Decode a ``RunTag`` message."""
    return RunTag(str(body.get("key", "")), str(body.get("value", "")))


# -- dataset summaries --------------------------------------------------------------------------


def dataset_summary_to_dict(summary: DatasetSummary) -> JsonDict:
    """Encode one entry of ``experiments/search-datasets``."""
    body: JsonDict = {
        "experiment_id": summary.experiment_id,
        "name": summary.name,
        "digest": summary.digest,
    }
    if summary.context is not None:
        body["context"] = summary.context
    return body


def dataset_summary_from_dict(body: Mapping[str, Any]) -> DatasetSummary:
    """Decode one entry of ``experiments/search-datasets``."""
    return DatasetSummary(
        experiment_id=str(body.get("experiment_id", "")),
        name=str(body.get("name", "")),
        digest=str(body.get("digest", "")),
        context=body.get("context"),
    )


# -- logged models ------------------------------------------------------------------------------


def logged_model_status_from_wire(value: Any) -> LoggedModelStatus:
    """A ``LoggedModelStatus`` from its name or proto number (``ValueError`` when unknown)."""
    return LoggedModelStatus.parse(value)


def logged_model_to_dict(model: LoggedModel) -> JsonDict:
    """Encode a ``LoggedModel`` message: ``info`` and ``data`` (params, every metric point)."""
    info: JsonDict = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp_ms,
        "last_updated_timestamp_ms": model.last_updated_timestamp_ms,
        "artifact_uri": model.artifact_uri,
        "status": model.status.value,
    }
    if model.creator_id is not None:
        info["creator_id"] = model.creator_id
    if model.model_type is not None:
        info["model_type"] = model.model_type
    if model.source_run_id is not None:
        info["source_run_id"] = model.source_run_id
    if model.status_message is not None:
        info["status_message"] = model.status_message
    if model.tags:
        info["tags"] = key_values(model.tags)
    if model.registrations:
        info["registrations"] = [{"name": r.name, "version": r.version} for r in model.registrations]
    data: JsonDict = {}
    if model.params:
        data["params"] = key_values(model.params)
    if model.metrics:
        data["metrics"] = [metric_to_dict(m) for m in model.metrics]
    return {"info": info, "data": data}


def logged_model_from_dict(body: Mapping[str, Any]) -> LoggedModel:
    """Decode a ``LoggedModel`` message (an unknown status reads as UNSPECIFIED)."""
    info = body.get("info") or {}
    data = body.get("data") or {}
    try:
        status = LoggedModelStatus.parse(info.get("status", 0))
    except ValueError:
        status = LoggedModelStatus.UNSPECIFIED
    return LoggedModel(
        model_id=str(info.get("model_id", "")),
        experiment_id=str(info.get("experiment_id", "")),
        name=str(info.get("name", "")),
        artifact_uri=str(info.get("artifact_uri", "")),
        status=status,
        creation_timestamp_ms=_int(info.get("creation_timestamp_ms"), 0) or 0,
        last_updated_timestamp_ms=_int(info.get("last_updated_timestamp_ms"), 0) or 0,
        model_type=info.get("model_type"),
        source_run_id=info.get("source_run_id"),
        status_message=info.get("status_message"),
        creator_id=_int(info.get("creator_id")),
        tags=_pairs(info.get("tags")),
        params=_pairs(data.get("params")),
        metrics=tuple(metric_from_dict(m) for m in data.get("metrics") or ()),
        registrations=tuple(
            LoggedModelRegistration(str(r.get("name", "")), str(r.get("version", "")))
            for r in info.get("registrations") or ()
        ),
    )
