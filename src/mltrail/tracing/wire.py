"""JSON wire forms of traces (spec TRACING §1): TraceInfo V3 (and V2 for reading), spans, traces.

Writing: :func:`trace_info_to_dict` emits ``TraceInfoV3`` with an RFC 3339 ``request_time`` and a
proto ``Duration`` string (``"0.824s"``); :func:`span_to_dict` emits the OTLP proto-JSON form
("form A": snake_case names, base64 ids, typed ``AnyValue`` attributes), plus ``resource`` and
``scope`` keys that protobuf parsers ignore but mltrail reads back for full fidelity.
Reading: :func:`trace_info_from_dict` takes V3 (also ``execution_duration_ms`` and numeric times)
and V2 (``request_id`` ...); :func:`span_from_dict` takes form A, MLflow's JSON form ("form B":
attribute values JSON-encoded strings) and V2 span dicts.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from mltrail.errors import InvalidArgumentError
from mltrail.tracing.entities import Assessment, SpanData, SpanEvent, SpanLink, Trace, TraceInfo, TraceState

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

_KIND_NAMES = {
    0: "SPAN_KIND_UNSPECIFIED",
    1: "SPAN_KIND_INTERNAL",
    2: "SPAN_KIND_SERVER",
    3: "SPAN_KIND_CLIENT",
    4: "SPAN_KIND_PRODUCER",
    5: "SPAN_KIND_CONSUMER",
}
_KIND_NUMBERS = {v: k for k, v in _KIND_NAMES.items()}
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


# -- spans ------------------------------------------------------------------------------------


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def _id_hex(value: Any, size: int) -> str:
    """Hex of an id given as base64 (form A/B), hex, or ``0x``-prefixed hex (V2)."""
    text = str(value)
    if text.startswith("0x"):
        return text[2:].rjust(size * 2, "0").lower()
    if len(text) == size * 2:
        try:
            bytes.fromhex(text)
            return text.lower()
        except ValueError:
            pass
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise InvalidArgumentError(f"Invalid span id: {value!r}") from exc
    if len(raw) != size:
        raise InvalidArgumentError(f"Invalid span id: {value!r}")
    return raw.hex()


def any_value_to_dict(value: Any) -> JsonDict:
    """Proto-JSON ``AnyValue`` (snake_case) of a native value."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"bool_value": value}
    if isinstance(value, int):
        return {"int_value": value}
    if isinstance(value, float):
        if math.isnan(value):
            return {"double_value": "NaN"}
        if math.isinf(value):
            return {"double_value": "Infinity" if value > 0 else "-Infinity"}
        return {"double_value": value}
    if isinstance(value, bytes | bytearray):
        return {"bytes_value": base64.b64encode(value).decode()}
    if isinstance(value, Mapping):
        return {"kvlist_value": {"values": _attrs_to_list(value)}}
    if isinstance(value, list | tuple):
        return {"array_value": {"values": [any_value_to_dict(v) for v in value]}}
    return {"string_value": str(value)}


def any_value_from_dict(value: Mapping[str, Any]) -> Any:
    """The native value of a proto-JSON ``AnyValue`` (snake_case or lowerCamel)."""
    for key, item in value.items():
        if key in ("string_value", "stringValue"):
            return item
        if key in ("bool_value", "boolValue"):
            return bool(item)
        if key in ("int_value", "intValue"):
            return int(item)
        if key in ("double_value", "doubleValue"):
            return float(item)
        if key in ("bytes_value", "bytesValue"):
            return base64.b64decode(item)
        if key in ("array_value", "arrayValue"):
            return [any_value_from_dict(v) for v in (item or {}).get("values", [])]
        if key in ("kvlist_value", "kvlistValue"):
            return _attrs_from_list((item or {}).get("values", []))
    return None


def _attrs_to_list(attrs: Mapping[str, Any]) -> list[JsonDict]:
    return [{"key": key, "value": any_value_to_dict(value)} for key, value in attrs.items()]


def _attrs_from_list(items: Any) -> dict[str, Any]:
    return {kv["key"]: any_value_from_dict(kv.get("value") or {}) for kv in items or ()}


def _json_attr(value: Any) -> Any:
    """Form B stores each attribute as a JSON-encoded string; fall back to the raw value."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _attrs_any(value: Any, *, json_encoded: bool) -> dict[str, Any]:
    if isinstance(value, list):
        return _attrs_from_list(value)
    if isinstance(value, Mapping):
        return {str(k): _json_attr(v) if json_encoded else v for k, v in value.items()}
    return {}


def span_to_dict(span: SpanData) -> JsonDict:
    """Form A (OTLP proto-JSON) of a span, with ``resource`` and ``scope`` for full fidelity."""
    out: JsonDict = {
        "trace_id": _b64(span.trace_id),
        "span_id": _b64(span.span_id),
        "name": span.name,
        "kind": _KIND_NAMES.get(span.kind, "SPAN_KIND_UNSPECIFIED"),
        "start_time_unix_nano": span.start_time_unix_nano,
        "attributes": _attrs_to_list(span.attributes),
        "status": {"code": f"STATUS_CODE_{span.status_code}"},
    }
    if span.parent_span_id:
        out["parent_span_id"] = _b64(span.parent_span_id)
    if span.end_time_unix_nano is not None:
        out["end_time_unix_nano"] = span.end_time_unix_nano
    if span.status_message:
        out["status"]["message"] = span.status_message
    if span.trace_state:
        out["trace_state"] = span.trace_state
    if span.flags:
        out["flags"] = span.flags
    if span.events:
        out["events"] = [
            {"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": _attrs_to_list(e.attributes)}
            for e in span.events
        ]
    if span.links:
        out["links"] = [
            {
                "trace_id": _b64(link.trace_id),
                "span_id": _b64(link.span_id),
                "trace_state": link.trace_state,
                "attributes": _attrs_to_list(link.attributes),
            }
            for link in span.links
        ]
    if span.resource:
        out["resource"] = {"attributes": _attrs_to_list(span.resource)}
    if span.scope_name or span.scope_version:
        out["scope"] = {"name": span.scope_name, "version": span.scope_version}
    return out


def span_to_mlflow_dict(span: SpanData) -> JsonDict:
    """Form B (MLflow's ``Span.to_dict``) of a span: base64 ids, JSON-encoded attribute values."""
    out: JsonDict = {
        "trace_id": _b64(span.trace_id),
        "span_id": _b64(span.span_id),
        "trace_state": span.trace_state,
        "parent_span_id": _b64(span.parent_span_id) if span.parent_span_id else "",
        "name": span.name,
        "start_time_unix_nano": span.start_time_unix_nano,
        "end_time_unix_nano": span.end_time_unix_nano,
        "attributes": {
            key: json.dumps(value, default=_json_default) for key, value in span.attributes.items()
        },
        "status": {"message": span.status_message, "code": f"STATUS_CODE_{span.status_code}"},
        "events": [
            {"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": dict(e.attributes)}
            for e in span.events
        ],
    }
    return out


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return str(value)


def _status_name(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return {1: "OK", 2: "ERROR"}.get(value, "UNSET")
    name = str(value or "UNSET").upper().removeprefix("STATUS_CODE_")
    return name if name in ("UNSET", "OK", "ERROR") else "UNSET"


def _kind_number(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value or "SPAN_KIND_INTERNAL")
    if text.isdigit():
        return int(text)
    return _KIND_NUMBERS.get(text if text.startswith("SPAN_KIND_") else f"SPAN_KIND_{text}", 1)


def _v2_span(obj: Mapping[str, Any]) -> SpanData:
    context = obj["context"]
    parent = obj.get("parent_id")
    events = tuple(
        SpanEvent(
            str(e.get("name", "")),
            int(e.get("timestamp", 0)),
            _attrs_any(e.get("attributes"), json_encoded=False),
        )
        for e in obj.get("events") or ()
    )
    end = obj.get("end_time")
    return SpanData(
        trace_id=_id_hex(context["trace_id"], 16),
        span_id=_id_hex(context["span_id"], 8),
        parent_span_id=_id_hex(parent, 8) if parent else None,
        name=str(obj.get("name", "")),
        start_time_unix_nano=int(obj.get("start_time") or 0),
        end_time_unix_nano=None if end is None else int(end),
        status_code=_status_name(obj.get("status_code")),
        status_message=str(obj.get("status_message") or ""),
        attributes=_attrs_any(obj.get("attributes"), json_encoded=True),
        events=events,
    )


def span_from_dict(obj: Mapping[str, Any]) -> SpanData:
    """Read a span in form A, form B, or the V2 span dict.

    Raises:
        InvalidArgumentError: ids are missing or malformed.
    """
    try:
        if "context" in obj:
            return _v2_span(obj)
        attrs_raw = obj.get("attributes")
        json_encoded = isinstance(attrs_raw, Mapping)
        status = obj.get("status") or {}
        parent = obj.get("parent_span_id") or obj.get("parentSpanId")
        end = obj.get("end_time_unix_nano", obj.get("endTimeUnixNano"))
        resource = obj.get("resource") or {}
        scope = obj.get("scope") or {}
        return SpanData(
            trace_id=_id_hex(obj.get("trace_id") or obj["traceId"], 16),
            span_id=_id_hex(obj.get("span_id") or obj["spanId"], 8),
            parent_span_id=_id_hex(parent, 8) if parent else None,
            name=str(obj.get("name", "")),
            kind=_kind_number(obj.get("kind")),
            start_time_unix_nano=int(obj.get("start_time_unix_nano", obj.get("startTimeUnixNano", 0)) or 0),
            end_time_unix_nano=int(end) if end not in (None, "", 0, "0") else None,
            status_code=_status_name(status.get("code")),
            status_message=str(status.get("message") or ""),
            attributes=_attrs_any(attrs_raw, json_encoded=json_encoded),
            events=tuple(
                SpanEvent(
                    str(e.get("name", "")),
                    int(e.get("time_unix_nano", e.get("timeUnixNano", 0)) or 0),
                    _attrs_any(e.get("attributes"), json_encoded=False),
                )
                for e in obj.get("events") or ()
            ),
            links=tuple(
                SpanLink(
                    _id_hex(link.get("trace_id") or link.get("traceId"), 16),
                    _id_hex(link.get("span_id") or link.get("spanId"), 8),
                    _attrs_any(link.get("attributes"), json_encoded=False),
                    str(link.get("trace_state") or ""),
                )
                for link in obj.get("links") or ()
            ),
            resource=_attrs_any(resource.get("attributes"), json_encoded=False),
            scope_name=str(scope.get("name", "")),
            scope_version=str(scope.get("version", "")),
            trace_state=str(obj.get("trace_state") or ""),
            flags=int(obj.get("flags") or 0),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, InvalidArgumentError):
            raise
        raise InvalidArgumentError(f"Invalid span: {exc}") from exc


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
