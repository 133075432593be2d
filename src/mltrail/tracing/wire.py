"""JSON wire forms of traces (spec TRACING §1): TraceInfo V3 (V2 too), assessments, whole traces.

:func:`trace_info_to_dict` emits ``TraceInfoV3`` with an RFC 3339 ``request_time`` and a proto
``Duration`` string (``"0.824s"``); :func:`trace_info_from_dict` reads V3 (also
``execution_duration_ms`` and numeric times) and V2 (``request_id`` ...). Span forms live in
:mod:`mltrail.tracing.wire_spans` and are re-exported here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from mltrail.errors import InvalidArgumentError
from mltrail.tracing.entities import Assessment, Trace, TraceInfo, TraceState
from mltrail.tracing.wire_spans import (
    any_value_from_dict,
    any_value_to_dict,
    span_from_dict,
    span_to_dict,
    span_to_mlflow_dict,
)

__all__ = [
    "any_value_from_dict",
    "any_value_to_dict",
    "assessment_from_dict",
    "assessment_to_dict",
    "format_duration",
    "format_timestamp",
    "parse_duration",
    "parse_timestamp",
    "span_from_dict",
    "span_to_dict",
    "span_to_mlflow_dict",
    "trace_from_dict",
    "trace_info_from_dict",
    "trace_info_to_dict",
    "trace_info_to_v2_dict",
    "trace_to_dict",
]

JsonDict = dict[str, Any]

_V2_STATUS = {"TRACE_STATUS_UNSPECIFIED": TraceState.STATE_UNSPECIFIED}
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})?$"
)


# -- times ------------------------------------------------------------------------------------


def format_timestamp(ms: int) -> str:
    """RFC 3339 UTC text of a time in ms (``2026-11-27T13:06:18.073Z``), as proto JSON writes it."""
    seconds, millis = divmod(ms, 1000)
    text = dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def parse_timestamp(value: Any) -> int:
    """Milliseconds of an RFC 3339 string, or of a number already in ms."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    m = _TIMESTAMP.match(text)
    if m is None:
        raise InvalidArgumentError(f"Invalid timestamp: {value!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction = (m.group(7) or "").ljust(9, "0")
    zone = m.group(8) or "Z"
    tz = dt.UTC
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    stamp = dt.datetime(year, month, day, hour, minute, second, tzinfo=tz)
    whole = int(stamp.timestamp())
    return whole * 1000 + int(fraction) // 1_000_000


def format_duration(ms: int) -> str:
    """Proto ``Duration`` JSON text of a duration in ms (``"0.824s"``, ``"2s"``)."""
    sign = "-" if ms < 0 else ""
    seconds, millis = divmod(abs(ms), 1000)
    return f"{sign}{seconds}.{millis:03d}s" if millis else f"{sign}{seconds}s"


def parse_duration(value: Any) -> int:
    """Milliseconds of a proto ``Duration`` string (``"0.824s"``) or of a number in ms."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if not text.endswith("s"):
        if text.lstrip("-").isdigit():
            return int(text)
        raise InvalidArgumentError(f"Invalid duration: {value!r}")
    body = text[:-1]
    negative = body.startswith("-")
    body = body.lstrip("-")
    whole, _, frac = body.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        raise InvalidArgumentError(f"Invalid duration: {value!r}")
    ms = int(whole) * 1000 + int(frac.ljust(9, "0")[:9]) // 1_000_000
    return -ms if negative else ms


# -- trace info -------------------------------------------------------------------------------


def trace_info_to_dict(info: TraceInfo) -> JsonDict:
    """``TraceInfoV3`` JSON of a trace info (unset optional fields omitted)."""
    out: JsonDict = {
        "trace_id": info.trace_id,
        "trace_location": {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": info.experiment_id},
        },
        "request_time": format_timestamp(info.request_time),
        "state": info.state.value,
        "trace_metadata": dict(info.trace_metadata),
        "tags": dict(info.tags),
    }
    if info.client_request_id:
        out["client_request_id"] = info.client_request_id
    if info.request_preview is not None:
        out["request_preview"] = info.request_preview
    if info.response_preview is not None:
        out["response_preview"] = info.response_preview
    if info.execution_duration is not None:
        out["execution_duration"] = format_duration(info.execution_duration)
    if info.assessments:
        out["assessments"] = [assessment_to_dict(a) for a in info.assessments]
    return out


_ASSESSMENT_KINDS = ("feedback", "expectation", "issue")


def assessment_to_dict(assessment: Assessment) -> JsonDict:
    """Proto-JSON of an ``Assessment`` (unset optional fields omitted)."""
    out: JsonDict = {
        "assessment_id": assessment.assessment_id,
        "assessment_name": assessment.name,
        "trace_id": assessment.trace_id,
        "source": {"source_type": assessment.source_type, "source_id": assessment.source_id},
        "create_time": format_timestamp(assessment.create_time),
        "last_update_time": format_timestamp(assessment.last_update_time),
        assessment.kind: dict(assessment.payload),
        "valid": assessment.valid,
    }
    if assessment.span_id:
        out["span_id"] = assessment.span_id
    if assessment.rationale is not None:
        out["rationale"] = assessment.rationale
    if assessment.metadata:
        out["metadata"] = dict(assessment.metadata)
    if assessment.overrides:
        out["overrides"] = assessment.overrides
    if assessment.error:
        out["error"] = dict(assessment.error)
    return out


def assessment_from_dict(obj: Mapping[str, Any], *, trace_id: str | None = None) -> Assessment:
    """Read an ``Assessment`` (exactly one of feedback / expectation / issue).

    Raises:
        InvalidArgumentError: no kind or several, or a missing name.
    """
    kinds = [kind for kind in _ASSESSMENT_KINDS if obj.get(kind) is not None]
    if len(kinds) != 1:
        raise InvalidArgumentError("An assessment needs exactly one of feedback, expectation or issue.")
    payload = obj[kinds[0]]
    if not isinstance(payload, Mapping):
        raise InvalidArgumentError(f"'{kinds[0]}' must be an object")
    source = obj.get("source") or {}
    times = {
        key: parse_timestamp(obj[key]) if obj.get(key) else 0 for key in ("create_time", "last_update_time")
    }
    valid = obj.get("valid")
    return Assessment(
        assessment_id=str(obj.get("assessment_id") or ""),
        trace_id=str(obj.get("trace_id") or trace_id or ""),
        name=str(obj.get("assessment_name") or ""),
        kind=kinds[0],
        payload=dict(payload),
        source_type=str(source.get("source_type") or "SOURCE_TYPE_UNSPECIFIED"),
        source_id=str(source.get("source_id") or ""),
        create_time=times["create_time"],
        last_update_time=times["last_update_time"],
        span_id=obj.get("span_id") or None,
        rationale=obj.get("rationale"),
        metadata=_string_map(obj.get("metadata")),
        overrides=obj.get("overrides") or None,
        valid=True if valid is None else bool(valid),
        error=dict(obj["error"]) if isinstance(obj.get("error"), Mapping) else None,
    )


def trace_info_to_v2_dict(info: TraceInfo) -> JsonDict:
    """Legacy V2 ``TraceInfo`` JSON (``request_id``, ``timestamp_ms``, key/value lists)."""
    status = "TRACE_STATUS_UNSPECIFIED" if info.state is TraceState.STATE_UNSPECIFIED else info.state.value
    out: JsonDict = {
        "request_id": info.trace_id,
        "experiment_id": info.experiment_id,
        "timestamp_ms": info.request_time,
        "status": status,
        "request_metadata": [{"key": k, "value": v} for k, v in info.trace_metadata.items()],
        "tags": [{"key": k, "value": v} for k, v in info.tags.items()],
    }
    if info.execution_duration is not None:
        out["execution_time_ms"] = info.execution_duration
    return out


def _string_map(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(kv["key"]): str(kv.get("value", "")) for kv in value if isinstance(kv, Mapping)}
    raise InvalidArgumentError(f"Expected a map of strings, got {type(value).__name__}")


def _state(value: Any) -> TraceState:
    if value in (None, ""):
        return TraceState.STATE_UNSPECIFIED
    if isinstance(value, int) and not isinstance(value, bool):
        numbers = {0: "STATE_UNSPECIFIED", 1: "OK", 2: "ERROR", 3: "IN_PROGRESS"}
        return TraceState(numbers.get(value, "STATE_UNSPECIFIED"))
    text = str(value)
    if text in _V2_STATUS:
        return _V2_STATUS[text]
    try:
        return TraceState(text)
    except ValueError:
        return TraceState.STATE_UNSPECIFIED


def trace_info_from_dict(obj: Mapping[str, Any]) -> TraceInfo:
    """Read a trace info from V3 JSON (or V2 JSON when it has a ``request_id`` key).

    Raises:
        InvalidArgumentError: required fields are missing or malformed.
    """
    if "request_id" in obj and "trace_id" not in obj:
        v2_duration = obj.get("execution_time_ms")
        return TraceInfo(
            trace_id=str(obj["request_id"]),
            experiment_id=str(obj.get("experiment_id", "")),
            request_time=parse_timestamp(obj.get("timestamp_ms") or 0),
            execution_duration=None if v2_duration is None else int(v2_duration),
            state=_state(obj.get("status")),
            trace_metadata=_string_map(obj.get("request_metadata")),
            tags=_string_map(obj.get("tags")),
        )
    trace_id = obj.get("trace_id")
    if not trace_id:
        raise InvalidArgumentError("Missing value for required parameter 'trace_id'.")
    location = obj.get("trace_location") or {}
    experiment = location.get("mlflow_experiment") or {} if isinstance(location, Mapping) else {}
    experiment_id = experiment.get("experiment_id") if isinstance(experiment, Mapping) else None
    if experiment_id in (None, ""):
        experiment_id = obj.get("experiment_id", "")
    duration: Any = obj.get("execution_duration")
    duration_ms = obj.get("execution_duration_ms")
    return TraceInfo(
        trace_id=str(trace_id),
        experiment_id=str(experiment_id),
        request_time=parse_timestamp(obj.get("request_time") or 0),
        execution_duration=(
            parse_duration(duration)
            if duration not in (None, "")
            else (None if duration_ms is None else int(duration_ms))
        ),
        state=_state(obj.get("state")),
        request_preview=obj.get("request_preview"),
        response_preview=obj.get("response_preview"),
        client_request_id=obj.get("client_request_id") or None,
        trace_metadata=_string_map(obj.get("trace_metadata")),
        tags=_string_map(obj.get("tags")),
        assessments=tuple(assessment_from_dict(a) for a in obj.get("assessments") or ()),
    )


def trace_to_dict(trace: Trace) -> JsonDict:
    """``{"trace_info": ..., "spans": [...]}`` of a trace (the ``Trace`` message of GetTrace)."""
    return {"trace_info": trace_info_to_dict(trace.info), "spans": [span_to_dict(s) for s in trace.spans]}


def trace_from_dict(obj: Mapping[str, Any]) -> Trace:
    """Read a ``Trace`` message, or MLflow's ``{"info": ..., "data": {"spans": ...}}`` form."""
    if "info" in obj:
        spans = (obj.get("data") or {}).get("spans") or []
        return Trace(trace_info_from_dict(obj["info"]), tuple(span_from_dict(s) for s in spans))
    return Trace(
        trace_info_from_dict(obj["trace_info"]), tuple(span_from_dict(s) for s in obj.get("spans") or ())
    )
