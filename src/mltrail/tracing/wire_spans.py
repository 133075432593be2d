"""JSON wire forms of spans (spec TRACING §1): OTLP proto-JSON ("form A"), MLflow's JSON ("form B"), V2.

:func:`span_to_dict` emits form A (snake_case names, base64 ids, typed ``AnyValue`` attributes) plus
``resource`` and ``scope`` keys that protobuf parsers ignore but mltrail reads back for full
fidelity; :func:`span_to_mlflow_dict` emits form B (attribute values JSON-encoded strings);
:func:`span_from_dict` reads all three forms.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from typing import Any

from mltrail.errors import InvalidArgumentError
from mltrail.tracing.entities import SpanData, SpanEvent, SpanLink

__all__ = [
    "any_value_from_dict",
    "any_value_to_dict",
    "span_from_dict",
    "span_to_dict",
    "span_to_mlflow_dict",
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
